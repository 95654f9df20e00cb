// A request body over the node's limits (http/app.ts bodyLimit, before any area runs): under /mail/ and
// /admin/ the refusal is the area's HTML error page, a compose upload's naming the message limit; the
// API keeps its JSON 413. Through app.request(), with limits small enough to cross cheaply.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createApp } from '../http/app.ts';
import { createTestApp, TEST_ADMIN_TOKEN, type TestApp } from '../http/test-app.ts';
import { webClient, type WebClient } from './test-client.ts';

// PULLMAIL_MAX_MESSAGE_BYTES 100000: the send body limit is 140000 (1.4 ×); other bodies 20000
let t: TestApp;
let web: WebClient;
let token: string;
before(async () => {
  t = await createTestApp({ env: { PULLMAIL_MAX_MESSAGE_BYTES: '100000', PULLMAIL_MAX_REQUEST_BYTES: '20000' } });
  const res = await t.request('/api/v1/admin/users', { method: 'POST', token: TEST_ADMIN_TOKEN, json: { address: 'amy@a.test', password: 'correct horse' } });
  assert.equal(res.status, 201);
  token = ((await res.json()) as { token: string }).token;
  web = webClient(t);
  assert.equal((await web.signIn('amy@a.test', 'correct horse')).status, 303);
  await web.get('/mail/compose');
});
after(() => t.close());

function composeForm(attachmentBytes: number): FormData {
  const form = new FormData();
  for (const [k, v] of Object.entries({ to: 'bob@a.test', cc: '', bcc: '', subject: 'big', message: 'see attached' })) form.set(k, v);
  form.set('attachments', new File([Buffer.alloc(attachmentBytes, 7)], 'big.bin', { type: 'application/octet-stream' }));
  return form;
}

/** The refusal page: 413, HTML in the area's frame (its CSP nonce on the page), the connection closed. */
async function assertPage(res: Response, text: RegExp): Promise<void> {
  assert.equal(res.status, 413);
  assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
  assert.equal(res.headers.get('connection'), 'close', 'the rest of the body is not read');
  const nonce = /script-src 'nonce-([^']+)'/.exec(res.headers.get('content-security-policy') ?? '')?.[1];
  assert.ok(nonce, 'the area\'s CSP');
  const body = await res.text();
  assert.ok(body.includes(`nonce="${nonce}"`), 'rendered by the area');
  assert.match(body, /<h1>Too large<\/h1>/);
  assert.match(body, text);
}

async function sentTotal(): Promise<number> {
  const res = await t.request('/api/v1/folders/Sent/messages', { token });
  assert.equal(res.status, 200, await res.clone().text());
  return ((await res.json()) as { total: number }).total;
}

describe('a request body over the limit on a web page', () => {
  it('compose: an HTML 413 page saying the message is too large and what the limit is; nothing is sent', async () => {
    // a browser's multipart upload, read until it passes the limit (no Content-Length here)
    const res = await web.post('/mail/compose', {}, { multipart: composeForm(150_000) });
    await assertPage(res, /the message is larger than the limit; the limit is 100000 bytes, 0\.09 MB \(PULLMAIL_MAX_MESSAGE_BYTES\), so the largest attachment that fits is about 0\.06 MB/);
    assert.equal(await sentTotal(), 0);
  });

  it('compose with a Content-Length over the limit: refused before the body is read', async () => {
    const body = Buffer.alloc(150_000, 'x');
    const res = await t.request('/mail/compose', { method: 'POST', headers: { 'content-type': 'multipart/form-data; boundary=x', 'content-length': String(body.length) }, body });
    await assertPage(res, /the limit is 100000 bytes/);
  });

  it('compose under the limit still sends', async () => {
    const res = await web.post('/mail/compose', {}, { multipart: composeForm(10_000) });
    assert.equal(res.status, 303, await res.clone().text());
    assert.equal(await sentTotal(), 1);
  });

  it('admin: a form over the request limit is an HTML 413 page of the admin area, before sign-in', async () => {
    const res = await t.request('/admin/sign-in', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `token=${'x'.repeat(30_000)}` });
    await assertPage(res, /request body is too large/);
    assert.match(await (await t.request('/admin/sign-in')).text(), /Sign in/, 'the area answers the next request as usual');
  });

  it('the API keeps its JSON 413', async () => {
    const res = await t.request('/api/v1/messages', { method: 'POST', token, json: { to: ['bob@a.test'], text: 'x'.repeat(150_000) } });
    assert.equal(res.status, 413);
    const body = (await res.json()) as { error: string; detail: string };
    assert.equal(body.error, 'too_large');
    assert.match(body.detail, /the limit is 100000 bytes/);
  });

  it('a node without the web UI refuses a /mail/ body in JSON (no area takes the refusal)', async () => {
    const bare = createApp(t.ctx);
    const res = await bare.request(`${t.ctx.publicUrl}/mail/compose`, { method: 'POST', headers: { 'content-type': 'multipart/form-data; boundary=x' }, body: Buffer.alloc(150_000, 'x') });
    assert.equal(res.status, 413);
    assert.equal(((await res.json()) as { error: string }).error, 'too_large');
  });
});
