// The admin UI through app.request() (docs/web.md "Admin"): who gets in (admin token, admin account;
// never a user session), CSRF refusals, and each screen doing its one use case.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import { checkMailboxPassword } from '../../accounts/password-login.ts';
import { adminTokenFingerprint, holdsAdminToken } from '../../accounts/web-sessions.ts';
import { loadConfig } from '../../config/config.ts';
import { nodeExtensions } from '../../extensions.ts';
import { createApp } from '../../http/app.ts';
import { createLogger } from '../../log.ts';
import { createFakeResolver } from '../../peers/fake-resolver.ts';
import { createContext } from '../../server.ts';
import { mailboxes } from '../../store/schema.ts';
import { createTestApp, TEST_ADMIN_TOKEN, type TestApp } from '../../http/test-app.ts';
import { webClient, type WebClient } from '../test-client.ts';

let t: TestApp;
before(async () => {
  t = await createTestApp({ env: { PULLMAIL_DOMAINS: 'a.test,b.test' } });
});
after(() => t.close());

const PW = 'correct horse';
let seq = 0;
async function user(opts: { admin?: boolean } = {}): Promise<{ address: string; token: string }> {
  return t.ctx.accounts.create(`u${++seq}@a.test`, PW, opts);
}

/** A browser signed in to /admin/ with the admin token (or an admin account's password). */
async function admin(creds: { token?: string; address?: string; password?: string } = { token: TEST_ADMIN_TOKEN }): Promise<{ web: WebClient; res: Response }> {
  const web = webClient(t);
  await web.get('/admin/sign-in');
  const res = await web.post('/admin/sign-in', creds.token ? { token: creds.token } : { address: creds.address!, password: creds.password! });
  if (res.status === 303) await web.get('/admin/users');
  return { web, res };
}

describe('admin sign-in', () => {
  it('sends an anonymous visitor to the sign-in page, which has the named fields', async () => {
    const res = await t.request('/admin/users');
    assert.equal(res.status, 303);
    assert.equal(res.headers.get('location'), '/admin/sign-in?next=%2Fadmin%2Fusers');
    const page = await (await t.request('/admin/sign-in')).text();
    for (const name of ['<label for="address">Address</label>', '<label for="password">Password</label>', '>Sign in</button>', '<label for="token">Admin token</label>']) assert.ok(page.includes(name), name);
  });

  it('signs in with the admin token into a separate pm_admin cookie', async () => {
    const { web, res } = await admin();
    assert.equal(res.status, 303);
    assert.equal(res.headers.get('location'), '/admin/users');
    assert.ok(web.cookies.has('pm_admin'));
    assert.ok(!web.cookies.has('pm_session'));
    const users = await web.get('/admin/users');
    assert.equal(users.status, 200);
    assert.match(await users.text(), /Create user/);
  });

  it('refuses a wrong token with 401 and sets no cookie', async () => {
    const { web, res } = await admin({ token: 'x'.repeat(TEST_ADMIN_TOKEN.length) });
    assert.equal(res.status, 401);
    assert.match(await res.text(), /not the admin token/);
    assert.equal(web.cookies.size, 0);
  });

  it('lets an account marked admin in with its password, but not an ordinary account', async () => {
    const boss = await user({ admin: true });
    const { web, res } = await admin({ address: boss.address, password: PW });
    assert.equal(res.status, 303);
    assert.match(await (await web.get('/admin/users')).text(), new RegExp(`class="who">${boss.address}<`));
    const plain = await user();
    const refused = await admin({ address: plain.address, password: PW });
    assert.equal(refused.res.status, 401);
  });

  it('never takes a user session for an admin one', async () => {
    const boss = await user({ admin: true });
    const web = webClient(t);
    assert.equal((await web.signIn(boss.address, PW)).status, 303);
    assert.ok(web.cookies.has('pm_session'));
    const res = await web.get('/admin/users');
    assert.equal(res.status, 303);
    assert.match(res.headers.get('location') ?? '', /^\/admin\/sign-in/);
    // nor the other way round
    const { web: a } = await admin();
    assert.match((await a.get('/mail/')).headers.get('location') ?? '', /^\/mail\/sign-in/);
  });

  it('ends an account\'s admin session at once when it stops being admin', async () => {
    const boss = await user({ admin: true });
    const { web } = await admin({ address: boss.address, password: PW });
    await t.ctx.db.update(mailboxes).set({ admin: false }).where(eq(mailboxes.address, boss.address));
    assert.equal((await web.get('/admin/users')).status, 303);
  });

  it('throttles password guesses through the shared login throttle (429)', async () => {
    const boss = await user({ admin: true });
    let last: Response | undefined;
    for (let i = 0; i < 20 && last?.status !== 429; i++) last = (await admin({ address: boss.address, password: 'wrong' })).res;
    assert.equal(last?.status, 429);
    // locked out: even the right password waits
    assert.equal((await admin({ address: boss.address, password: PW })).res.status, 429);
  });

  it('ends an admin-token session when the token is rotated or removed (a restart over the same database)', async () => {
    const { web } = await admin();
    const cookie = [...web.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const restarted = async (token: string | undefined) => {
      const { config } = loadConfig({
        PULLMAIL_DOMAINS: 'a.test,b.test', PULLMAIL_PUBLIC_URL: 'http://a.test.example', PULLMAIL_DATA_DIR: ':memory:', PULLMAIL_LOG_LEVEL: 'silent',
        ...(token === undefined ? {} : { PULLMAIL_ADMIN_TOKEN: token }),
      });
      const ctx = await createContext(config, t.ctx.database, { resolver: createFakeResolver(), logger: createLogger('silent'), kick: () => {} });
      const app = createApp(ctx, nodeExtensions().flatMap((e) => (e.routes ? [e.routes] : [])));
      return app.request('http://a.test.example/admin/users', { headers: { cookie } });
    };
    assert.equal((await restarted(TEST_ADMIN_TOKEN)).status, 200);
    for (const token of ['rotated-token-abcdefghijklmnopqrstuvwxyz', '', undefined]) {
      const res = await restarted(token);
      assert.equal(res.status, 303, `token ${JSON.stringify(token)}`);
      assert.equal(res.headers.get('location'), '/admin/sign-in?next=%2Fadmin%2Fusers');
    }
  });

  it('holdsAdminToken: only the fingerprint of the configured token', () => {
    const cases: [string | null, string | undefined, boolean][] = [
      [adminTokenFingerprint(TEST_ADMIN_TOKEN), TEST_ADMIN_TOKEN, true],
      [adminTokenFingerprint(TEST_ADMIN_TOKEN), 'another-token-0123456789', false],
      [adminTokenFingerprint(TEST_ADMIN_TOKEN), undefined, false],
      [adminTokenFingerprint(''), '', false],
      [null, TEST_ADMIN_TOKEN, false],
      ['0'.repeat(64), TEST_ADMIN_TOKEN, false],
      ['short', TEST_ADMIN_TOKEN, false],
    ];
    for (const [tokenFp, adminToken, want] of cases) assert.equal(holdsAdminToken({ tokenFp }, adminToken), want, String(tokenFp));
  });

  it('signs out: the cookie names nothing any more', async () => {
    const { web } = await admin();
    const res = await web.get('/admin/sign-out');
    assert.equal(res.status, 303);
    assert.equal((await web.get('/admin/users')).status, 303);
  });
});

describe('admin forms and CSRF', () => {
  it('refuses a form without the session\'s token (403) and one from another site', async () => {
    const { web } = await admin();
    const address = 'csrf-victim@a.test';
    const without = await web.post('/admin/users', { address, csrf: '' });
    assert.equal(without.status, 403);
    const forged = await web.post('/admin/users', { address }, { headers: { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' } });
    assert.equal(forged.status, 403);
    assert.ok(!(await t.ctx.accounts.list()).some((u) => u.address === address));
  });
});

describe('users screen', () => {
  let web: WebClient;
  before(async () => {
    web = (await admin()).web;
  });

  it('creates a user who can then sign in to the webmail', async () => {
    const res = await web.post('/admin/users', { address: 'New.Person@a.test', password: 'first password' });
    assert.equal(res.status, 303);
    assert.match(decodeURIComponent(res.headers.get('location') ?? ''), /Created new\.person@a\.test/);
    assert.match(await (await web.get('/admin/users')).text(), /new\.person@a\.test/);
    assert.equal((await webClient(t).signIn('new.person@a.test', 'first password')).status, 303);
  });

  it('shows a refusal in words (a taken address)', async () => {
    const res = await web.post('/admin/users', { address: 'new.person@a.test', password: 'x' });
    assert.equal(res.status, 409);
    assert.match(await res.text(), /already exists/);
  });

  it('resets a password: the user\'s browser sessions end, the new password works', async () => {
    const u = await user();
    const browser = webClient(t);
    await browser.signIn(u.address, PW);
    assert.equal((await browser.get('/mail/settings')).status, 200);
    const res = await web.post(`/admin/users/${encodeURIComponent(u.address)}/password`, { password: 'brand new pw' });
    assert.equal(res.status, 303);
    assert.match(decodeURIComponent(res.headers.get('location') ?? ''), /1 browser session ended/);
    assert.equal((await browser.get('/mail/settings')).status, 303);
    assert.equal(await checkMailboxPassword(t.ctx.db, u.address, 'brand new pw'), u.address);
  });

  it('disables a user at every door, and enables again', async () => {
    const u = await user();
    const browser = webClient(t);
    await browser.signIn(u.address, PW);
    assert.equal((await web.post(`/admin/users/${encodeURIComponent(u.address)}/disable`, {})).status, 303);
    assert.match(await (await web.get('/admin/users')).text(), /disabled/);
    // web: the open session is gone and a new sign-in is refused
    assert.equal((await browser.get('/mail/settings')).status, 303);
    assert.equal((await webClient(t).signIn(u.address, PW)).status, 401);
    // IMAP and submission check the password here
    assert.equal(await checkMailboxPassword(t.ctx.db, u.address, PW), undefined);
    // API token
    assert.equal((await t.request('/api/v1/inbox', { token: u.token })).status, 401);
    assert.equal((await web.post(`/admin/users/${encodeURIComponent(u.address)}/enable`, {})).status, 303);
    assert.equal((await t.request('/api/v1/inbox', { token: u.token })).status, 200);
    assert.equal((await webClient(t).signIn(u.address, PW)).status, 303);
  });
});

describe('aliases, domains, DKIM, queue and health screens', () => {
  let web: WebClient;
  before(async () => {
    web = (await admin()).web;
  });

  it('creates and deletes an alias', async () => {
    const u = await user();
    const res = await web.post('/admin/aliases', { address: 'desk@a.test', target: u.address });
    assert.equal(res.status, 303);
    const [alias] = (await t.ctx.aliases.list()).filter((a) => a.address === 'desk@a.test');
    assert.equal(alias.target, u.address);
    assert.match(await (await web.get('/admin/aliases')).text(), /desk@a\.test/);
    assert.equal((await web.post(`/admin/aliases/${alias.id}/delete`, {})).status, 303);
    assert.ok(!(await t.ctx.aliases.list()).some((a) => a.address === 'desk@a.test'));
  });

  it('shows each domain with its DNS records and DKIM key', async () => {
    const page = await (await web.get('/admin/domains')).text();
    for (const d of ['a.test', 'b.test']) assert.ok(page.includes(`_dmarc.${d}`), d);
    assert.match(page, /v=DKIM1; k=/);
    assert.match(page, /IN MX 10/);
    const dkim = await (await web.get('/admin/dkim')).text();
    assert.match(dkim, /_domainkey\.a\.test/);
  });

  it('lists a waiting delivery; Retry now wakes the queue, Give up makes it failed', async () => {
    const u = await user();
    const sent = await t.request('/api/v1/messages', { method: 'POST', token: u.token, json: { to: ['far@remote.test'], subject: 'waiting', text: 'x' } });
    const { id } = (await sent.json()) as { id: string };
    const page = await (await web.get('/admin/queue')).text();
    assert.match(page, /far@remote\.test/);
    const deliveryId = /action="\/admin\/queue\/([0-9a-f-]{36})\/retry"/.exec(page)?.[1];
    assert.ok(deliveryId);
    t.kicks.length = 0;
    assert.equal((await web.post(`/admin/queue/${deliveryId}/retry`, {})).status, 303);
    assert.deepEqual(t.kicks, ['notify']);
    assert.equal((await web.post(`/admin/queue/${deliveryId}/give-up`, {})).status, 303);
    const status = (await (await t.request(`/api/v1/messages/${id}`, { token: u.token })).json()) as { deliveries: { state: string; reason?: string }[] };
    assert.equal(status.deliveries[0].state, 'failed');
    assert.equal(status.deliveries[0].reason, 'given up by the operator');
    // nothing is owed any more: a second give-up is 404, and the failed list shows it
    assert.equal((await web.post(`/admin/queue/${deliveryId}/give-up`, {})).status, 404);
    assert.match(await (await web.get('/admin/queue?state=failed')).text(), /far@remote\.test/);
  });

  it('shows health: the database answers', async () => {
    const res = await web.get('/admin/health');
    assert.equal(res.status, 200);
    assert.match(await res.text(), /pglite: answers/);
  });
});
