// The web foundation through app.request() (docs/web.md): the redirect to /mail/, assets with long
// cache headers, the CSP nonce, the session cookie's attributes, sign-in through the shared login
// throttle, CSRF refusals, sign-out and revoking every session of a mailbox.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { revokeMailboxWebSessions } from '../accounts/web-sessions.ts';
import { findMailbox } from '../store/mailboxes.ts';
import { createTestApp, TEST_ADMIN_TOKEN, type TestApp } from '../http/test-app.ts';
import { assets } from './assets.ts';
import { webClient } from './test-client.ts';

let t: TestApp;
let seq = 0;
before(async () => {
  t = await createTestApp();
});
after(() => t.close());

async function user(): Promise<string> {
  const address = `w${++seq}@a.test`;
  const res = await t.request('/api/v1/admin/users', { method: 'POST', token: TEST_ADMIN_TOKEN, json: { address, password: 'correct horse' } });
  assert.equal(res.status, 201);
  return address;
}

describe('web foundation', () => {
  it('redirects / to /mail/ and unsigned-in screens to the sign-in page', async () => {
    const root = await t.request('/');
    assert.equal(root.status, 302);
    assert.equal(root.headers.get('location'), '/mail/');
    const inbox = await t.request('/mail/');
    assert.equal(inbox.status, 303);
    assert.equal(inbox.headers.get('location'), '/mail/sign-in?next=%2Fmail%2F');
  });

  it('serves htmx and the stylesheet at versioned paths with a year of cache', async () => {
    assert.match(assets.htmx.path, /^\/assets\/htmx-2\.\d+\.\d+\/htmx\.min\.js$/);
    for (const a of [assets.htmx, assets.css]) {
      const res = await t.request(a.path);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('cache-control'), 'public, max-age=31536000, immutable');
      assert.ok((await res.arrayBuffer()).byteLength > 1000);
    }
  });

  it('sends a strict CSP whose script nonce is the one on the page, new for every response', async () => {
    const a = await t.request('/mail/sign-in');
    const b = await t.request('/mail/sign-in');
    const csp = a.headers.get('content-security-policy') ?? '';
    const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1];
    assert.ok(nonce, csp);
    for (const d of ["default-src 'self'", "object-src 'none'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'"]) assert.ok(csp.includes(d), d);
    assert.ok((await a.text()).includes(`nonce="${nonce}"`));
    assert.notEqual(/nonce-([^']+)/.exec(b.headers.get('content-security-policy') ?? '')?.[1], nonce);
  });

  it('signs in with the mailbox password and sets an HttpOnly, SameSite=Lax cookie (Secure under https)', async () => {
    const address = await user();
    const web = webClient(t);
    const res = await web.signIn(address, 'correct horse');
    assert.equal(res.status, 303);
    assert.equal(res.headers.get('location'), '/mail/');
    const cookie = res.headers.getSetCookie().find((l) => l.startsWith('pm_session='));
    assert.ok(cookie);
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Lax/);
    assert.doesNotMatch(cookie, /Secure/); // this test node's public URL is http
    const inbox = await web.get('/mail/');
    assert.equal(inbox.status, 200);
    const page = await inbox.text();
    for (const name of ['Inbox', 'Requests', 'Sent', 'Compose', 'Rules', 'Consent tokens', 'Settings', 'Sign out']) assert.ok(page.includes(`>${name}</a>`), name);

    const https = await createTestApp({ env: { PULLMAIL_PUBLIC_URL: 'https://a.test.example' } });
    try {
      await https.request('/api/v1/admin/users', { method: 'POST', token: TEST_ADMIN_TOKEN, json: { address: 's@a.test', password: 'pw-pw-pw-pw' } });
      const r = await webClient(https).signIn('s@a.test', 'pw-pw-pw-pw');
      const secure = r.headers.getSetCookie().find((l) => l.startsWith('__Host-pm_session='));
      assert.ok(secure, r.headers.getSetCookie().join('\n'));
      assert.match(secure, /Secure/);
      assert.match(secure, /Path=\//);
    } finally {
      await https.close();
    }
  });

  it('refuses a wrong password, then locks the account out through the shared login throttle', async () => {
    const address = await user();
    const web = webClient(t);
    const wrong = await web.signIn(address, 'nope');
    assert.equal(wrong.status, 401);
    assert.match(await wrong.text(), /do not match/);
    let last = wrong;
    for (let i = 0; i < 20 && last.status !== 429; i++) last = await web.signIn(address, 'nope');
    assert.equal(last.status, 429);
    assert.ok(Number(last.headers.get('retry-after')) > 0);
    // locked out: even the right password is not looked at
    assert.equal((await web.signIn(address, 'correct horse')).status, 429);
  });

  it('shares the lockout with the other doors: failed IMAP logins lock the web sign-in too', async () => {
    const address = await user();
    for (let i = 0; i < 20; i++) {
      const locked = await t.ctx.loginThrottle.guard({ door: 'imap', client: '192.0.2.7', account: address }, async () => undefined).then(() => false, () => true);
      if (locked) break;
    }
    assert.equal((await webClient(t).signIn(address, 'correct horse')).status, 429);
  });

  it('follows only its own paths after sign-in', async () => {
    const address = await user();
    for (const [next, expected] of [['/mail/sent', '/mail/sent'], ['https://evil.example/', '/mail/'], ['//evil.example/mail/', '/mail/'], ['/admin/', '/mail/']]) {
      const web = webClient(t);
      await web.get('/mail/sign-in');
      const res = await web.post('/mail/sign-in', { address, password: 'correct horse', next });
      assert.equal(res.headers.get('location'), expected, next);
    }
  });

  it('refuses a form without the session token, with a wrong one, or from another site (403 page)', async () => {
    const web = webClient(t);
    await web.signIn(await user(), 'correct horse');
    await web.get('/mail/');
    const token = web.csrf;
    assert.ok(token);
    const none = await web.post('/mail/sign-out', { csrf: '' });
    assert.equal(none.status, 403);
    const refusal = await none.text();
    assert.match(refusal, /This form was refused/);
    assert.ok(refusal.includes(`nonce="${/nonce-([^']+)/.exec(none.headers.get('content-security-policy') ?? '')?.[1]}"`), 'the page keeps its nonce');
    assert.equal((await web.post('/mail/sign-out', { csrf: 'x'.repeat(43) })).status, 403);
    assert.equal((await web.post('/mail/sign-out', {}, { headers: { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' } })).status, 403);
    // a sign-in form token is no session token
    const anon = webClient(t);
    await anon.get('/mail/sign-in');
    web.csrf = anon.csrf;
    assert.equal((await web.post('/mail/sign-out', {})).status, 403);
    // still signed in after all that
    assert.equal((await web.get('/mail/')).status, 200);
    web.csrf = token;
    assert.equal((await web.post('/mail/sign-out', {})).status, 303);
    assert.equal((await web.get('/mail/')).status, 303);
  });

  it('signs out: the old cookie names nothing any more', async () => {
    const web = webClient(t);
    await web.signIn(await user(), 'correct horse');
    const saved = new Map(web.cookies);
    const out = await web.get('/mail/sign-out');
    assert.equal(out.status, 303);
    for (const [k, v] of saved) web.cookies.set(k, v);
    assert.equal((await web.get('/mail/')).status, 303);
  });

  it('a sign-out link followed from another site only asks, with a protected button', async () => {
    const web = webClient(t);
    await web.signIn(await user(), 'correct horse');
    const ask = await web.get('/mail/sign-out', { 'sec-fetch-site': 'cross-site' });
    assert.equal(ask.status, 200);
    assert.match(await ask.text(), /<button type="submit" class="primary">Sign out<\/button>/);
    assert.equal((await web.get('/mail/')).status, 200);
  });

  it('ends the web sessions of a mailbox whose password is changed', async () => {
    const address = await user();
    const web = webClient(t);
    await web.signIn(address, 'correct horse');
    const res = await t.request(`/api/v1/admin/users/${address}/password`, { method: 'PUT', token: TEST_ADMIN_TOKEN, json: { password: 'battery staple' } });
    assert.equal(res.status, 200);
    assert.equal((await web.get('/mail/')).status, 303);
    assert.equal((await webClient(t).signIn(address, 'battery staple')).status, 303);
  });

  it('revokes every session of a mailbox at once (password change)', async () => {
    const address = await user();
    const one = webClient(t);
    const two = webClient(t);
    await one.signIn(address, 'correct horse');
    await two.signIn(address, 'correct horse');
    const mailbox = await findMailbox(t.ctx.db, address);
    assert.equal(await revokeMailboxWebSessions(t.ctx, mailbox!.id), 2);
    assert.equal((await one.get('/mail/')).status, 303);
    assert.equal((await two.get('/mail/')).status, 303);
  });
});
