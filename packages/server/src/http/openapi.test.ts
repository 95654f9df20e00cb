// The OpenAPI document cannot drift from the app (docs/api.md): every route has an operation and every
// operation a route, the document is valid OpenAPI 3.1, and real answers through app.request()
// validate against the schemas it documents (ajv, JSON Schema 2020-12).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { validate } from '@readme/openapi-parser';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { NotifyResult } from '@pullmail/client/wire';
import { seconds } from '../context.ts';
import { sha256b64url } from '../protocol/jws.ts';
import { signNotification } from '../protocol/notification.ts';
import { OPERATIONS, UNDOCUMENTED, excused, openApiPath, type Operation } from './openapi.ts';
import { TEST_ADMIN_TOKEN, createTestApp, type RequestInit, type TestApp } from './test-app.ts';

// ajv-formats is CommonJS with a default export
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

let t: TestApp;
let doc: { paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: { $ref?: string } }> }> }>>; components: { schemas: Record<string, unknown> } };
const ajv = new Ajv2020({ allErrors: true, strict: true });
addFormats(ajv);
const called = new Set<string>();

before(async () => {
  t = await createTestApp({ env: { PULLMAIL_DOMAINS: 'a.test,b.test' } });
  const res = await t.request('/api/v1/openapi.json');
  assert.equal(res.status, 200);
  doc = await res.json();
  // the components as one schema resource, so every $ref resolves inside ajv
  const defs = JSON.parse(JSON.stringify(doc.components.schemas).replaceAll('"#/components/schemas/', '"api#/$defs/'));
  ajv.addSchema({ $id: 'api', $defs: defs });
});
after(() => t.close());

const key = (method: string, path: string) => `${method.toUpperCase()} ${path}`;

/**
 * Calls `url` as the route `path` (hono syntax, as in OPERATIONS) and checks the answer against the
 * document: a documented success status, and a JSON body that validates against its schema.
 */
async function call<T = unknown>(method: Operation['method'], path: string, url: string, init: RequestInit = {}): Promise<T> {
  const res = await t.request(url, { ...init, method: method.toUpperCase() });
  const op = doc.paths[openApiPath(path).path]?.[method];
  assert.ok(op, `${key(method, path)} is not in the document`);
  // a refusal is the `default` answer, `{error, detail}`
  const documented = op.responses[String(res.status)] ?? (res.status >= 400 ? op.responses.default : undefined);
  assert.ok(documented, `${key(method, url)} answered ${res.status}, which the document does not name: ${await res.clone().text()}`);
  called.add(key(method, path));
  if (!documented.content) {
    assert.equal(await res.text(), '');
    return undefined as T;
  }
  const [type] = Object.keys(documented.content);
  assert.match(res.headers.get('content-type') ?? '', new RegExp(`^${type.replace('/', '\\/')}`));
  if (type !== 'application/json') return (await res.text()) as T;
  const body: unknown = await res.json();
  const ref = documented.content[type].schema.$ref!;
  const check = ajv.getSchema(ref.replace('#/components/schemas/', 'api#/$defs/'))!;
  assert.ok(check(body), `${key(method, url)}: the answer does not match ${ref}: ${ajv.errorsText(check.errors)}\n${JSON.stringify(body)}`);
  return body as T;
}

describe('the document and the routes', () => {
  it('has an operation for every route, and a route for every operation', () => {
    const routes = new Set(t.app.routes.filter((r) => r.method !== 'ALL').map((r) => key(r.method, r.path)));
    const documented = new Set(OPERATIONS.map((o) => key(o.method, o.path)));
    const missing = [...routes].filter((r) => !documented.has(r) && !UNDOCUMENTED.some((u) => excused(u, r.split(' ')[1])));
    assert.deepEqual(missing, [], 'routes with no entry in OPERATIONS (http/openapi.ts) nor in UNDOCUMENTED');
    assert.deepEqual([...documented].filter((o) => !routes.has(o)), [], 'operations with no route');
    // the user and admin API is documented whole: nothing under /api/v1 may be excused
    assert.deepEqual(UNDOCUMENTED.filter((u) => u.prefix.startsWith('/api/')), []);
  });

  it('is valid OpenAPI 3.1', async () => {
    const result = await validate(structuredClone(doc) as never);
    assert.ok(result.valid, JSON.stringify(result, null, 2));
    assert.equal(result.specification, 'OpenAPI');
  });

  it('is served without a token and names the node', async () => {
    await call('get', '/api/v1/openapi.json', '/api/v1/openapi.json');
    assert.deepEqual((doc as unknown as { servers: unknown }).servers, [{ url: t.ctx.publicUrl }]);
  });
});

describe('real answers match the documented schemas', () => {
  let alice: string;
  let bob: string;
  before(async () => {
    alice = (await call<{ token: string }>('post', '/api/v1/admin/users', '/api/v1/admin/users', { token: TEST_ADMIN_TOKEN, json: { address: 'alice@a.test', password: 'correct horse' } })).token;
    bob = await t.addUser('bob@b.test');
  });

  it('admin users', async () => {
    await call('get', '/api/v1/admin/users', '/api/v1/admin/users', { token: TEST_ADMIN_TOKEN });
    await t.addUser('gone@a.test');
    await call('put', '/api/v1/admin/users/:address/password', '/api/v1/admin/users/gone@a.test/password', { token: TEST_ADMIN_TOKEN, json: { password: 'another horse' } });
    await call('post', '/api/v1/admin/users/:address/token', '/api/v1/admin/users/gone@a.test/token', { token: TEST_ADMIN_TOKEN, json: { keep_others: true } });
    await call('post', '/api/v1/admin/users/:address/disable', '/api/v1/admin/users/gone@a.test/disable', { token: TEST_ADMIN_TOKEN });
    await call('post', '/api/v1/admin/users/:address/enable', '/api/v1/admin/users/gone@a.test/enable', { token: TEST_ADMIN_TOKEN });
    const alias = await call<{ id: string }>('post', '/api/v1/admin/aliases', '/api/v1/admin/aliases', { token: TEST_ADMIN_TOKEN, json: { address: 'sales@a.test', target: 'gone@a.test' } });
    await call('get', '/api/v1/admin/aliases', '/api/v1/admin/aliases', { token: TEST_ADMIN_TOKEN });
    await call('delete', '/api/v1/admin/aliases/:id', `/api/v1/admin/aliases/${alias.id}`, { token: TEST_ADMIN_TOKEN });
    await call('delete', '/api/v1/admin/users/:address', '/api/v1/admin/users/gone@a.test', { token: TEST_ADMIN_TOKEN });
    // a refusal is documented too
    await call('get', '/api/v1/admin/users', '/api/v1/admin/users', { token: 'wrong' });
  });

  it('me, health and metrics', async () => {
    await call('get', '/api/v1/me', '/api/v1/me', { token: alice });
    await call('get', '/healthz', '/healthz');
    await call('get', '/metrics', '/metrics');
  });

  it('send, status, sent list, edit, retract', async () => {
    const sent = await call<{ id: string }>('post', '/api/v1/messages', '/api/v1/messages', { token: alice, json: { to: ['bob@b.test'], subject: 'hello', text: 'hi' } });
    await call('post', '/api/v1/messages', '/api/v1/messages', { token: alice, headers: { 'content-type': 'message/rfc822' }, body: 'From: alice@a.test\r\nTo: bob@b.test\r\nSubject: raw\r\n\r\nbody\r\n' });
    await call('get', '/api/v1/messages/:id', `/api/v1/messages/${sent.id}`, { token: alice });
    await call('get', '/api/v1/sent', '/api/v1/sent?limit=1', { token: alice });
    await call('put', '/api/v1/messages/:id', `/api/v1/messages/${sent.id}`, { token: alice, json: { to: ['bob@b.test'], subject: 'hello again', text: 'hi' } });
    await call('post', '/api/v1/messages/:id/retract', `/api/v1/messages/${sent.id}/retract`, { token: alice });
    await call('get', '/api/v1/messages/:id', '/api/v1/messages/nope', { token: alice });
    await call('post', '/api/v1/messages', '/api/v1/messages', { token: alice, json: { to: [] } });
  });

  it('inbox, folders, mail and changes', async () => {
    const raw = 'From: carol@c.test\r\nTo: alice@a.test\r\nSubject: filed\r\nMessage-ID: <m1@c.test>\r\n\r\nbody\r\n';
    const filed = await call<{ id: string }>('post', '/api/v1/folders/:name{.+}/messages', '/api/v1/folders/INBOX/messages?flags=%5CFlagged', { token: alice, headers: { 'content-type': 'message/rfc822' }, body: raw });
    await call('post', '/api/v1/folders/:name{.+}/messages', '/api/v1/folders/INBOX/messages', { token: alice, headers: { 'content-type': 'message/rfc822' }, body: raw });
    const inbox = await call<{ messages: { id: string }[] }>('get', '/api/v1/inbox', '/api/v1/inbox', { token: alice });
    const [first] = inbox.messages;
    await call('get', '/api/v1/inbox/:id', `/api/v1/inbox/${first.id}`, { token: alice });
    await call('get', '/api/v1/inbox/:id/raw', `/api/v1/inbox/${first.id}/raw`, { token: alice });
    await call('get', '/api/v1/folders', '/api/v1/folders', { token: alice });
    await call('post', '/api/v1/folders', '/api/v1/folders', { token: alice, json: { name: 'Projects' } });
    await call('patch', '/api/v1/folders/:name{.+}', '/api/v1/folders/Projects', { token: alice, json: { name: 'Projects 2026', subscribed: false } });
    await call('get', '/api/v1/folders/:name{.+}/messages', '/api/v1/folders/INBOX/messages', { token: alice });
    await call('get', '/api/v1/mail/:id', `/api/v1/mail/${filed.id}?peek=1`, { token: alice });
    await call('get', '/api/v1/mail/:id/raw', `/api/v1/mail/${filed.id}/raw`, { token: alice });
    const copy = await call<{ id: string }>('post', '/api/v1/mail/:id/copy', `/api/v1/mail/${filed.id}/copy`, { token: alice, json: { folder: 'Projects 2026' } });
    await call('patch', '/api/v1/mail/:id', `/api/v1/mail/${filed.id}`, { token: alice, json: { add_flags: ['\\Seen', '$Label1'] } });
    await call('delete', '/api/v1/mail/:id', `/api/v1/mail/${copy.id}`, { token: alice });
    await call('get', '/api/v1/changes', '/api/v1/changes?since=0', { token: alice });
    await call('delete', '/api/v1/folders/:name{.+}', '/api/v1/folders/Projects%202026', { token: alice });
    await call('delete', '/api/v1/inbox/:id', `/api/v1/inbox/${first.id}`, { token: alice });
  });

  it('requests, rules, settings and consent tokens', async () => {
    for (const subject of ['one', 'two', 'three']) await notifyBob(subject);
    const { requests } = await call<{ requests: { id: string }[] }>('get', '/api/v1/requests', '/api/v1/requests', { token: bob });
    assert.equal(requests.length, 3);
    for (const [i, action] of (['accept', 'reject', 'block'] as const).entries()) {
      await call('post', `/api/v1/requests/:id/${action}`, `/api/v1/requests/${requests[i].id}/${action}`, { token: bob });
    }
    const rule = await call<{ id: string }>('post', '/api/v1/rules', '/api/v1/rules', { token: bob, json: { action: 'allow', pattern: '@c.test' } });
    await call('get', '/api/v1/rules', '/api/v1/rules', { token: bob });
    await call('delete', '/api/v1/rules/:id', `/api/v1/rules/${rule.id}`, { token: bob });
    await call('get', '/api/v1/settings', '/api/v1/settings', { token: bob });
    await call('put', '/api/v1/settings', '/api/v1/settings', { token: bob, json: { first_contact: 'challenge', challenge_question: 'Two plus two?', challenge_answer: 'four' } });
    const token = await call<{ id: string }>('post', '/api/v1/consent-tokens', '/api/v1/consent-tokens', { token: bob, json: { sender: '@shop.test', max_uses: 5, expires_in_days: 30 } });
    await call('get', '/api/v1/consent-tokens', '/api/v1/consent-tokens', { token: bob });
    await call('delete', '/api/v1/consent-tokens/:id', `/api/v1/consent-tokens/${token.id}`, { token: bob });
  });

  let seq = 0;
  /** A first contact from alice@a.test (served here too) to bob, held by his default policy. */
  async function notifyBob(subject: string): Promise<void> {
    const id = `n${++seq}`;
    const jws = await signNotification(t.ctx.keys, {
      iss: 'a.test', aud: 'b.test', kind: 'new',
      msg: { id, from: 'alice@a.test', rcpt: 'bob@b.test', version: 1, size: 42, sha256: sha256b64url('x'), subject, sent_at: seconds(t.ctx) },
      fetch: { url: `${t.ctx.publicUrl}/pm/v1/messages/${id}`, cap: 'cap' },
    }, seconds(t.ctx));
    const res = await t.request('/pm/v1/notify', { method: 'POST', headers: { 'content-type': 'application/jose' }, body: jws });
    assert.equal(((await res.json()) as NotifyResult).decision, 'hold');
  }

  after(() => {
    // the main calls of docs/operator.md must be covered; a newer operation without a call here is
    // still checked for a route (above) and only named in the test output
    const main = ['POST /api/v1/messages', 'GET /api/v1/messages/:id', 'GET /api/v1/sent', 'GET /api/v1/inbox', 'GET /api/v1/inbox/:id', 'GET /api/v1/requests', 'GET /api/v1/rules', 'GET /api/v1/settings', 'GET /api/v1/consent-tokens', 'GET /api/v1/folders', 'GET /api/v1/folders/:name{.+}/messages', 'GET /api/v1/mail/:id', 'GET /api/v1/changes', 'GET /api/v1/admin/users'];
    assert.deepEqual(main.filter((k) => !called.has(k)), []);
    const uncalled = OPERATIONS.map((o) => key(o.method, o.path)).filter((k) => !called.has(k));
    if (uncalled.length) console.log(`# operations no test here calls: ${uncalled.join(', ')}`);
  });
});
