// The SDK against a recording fake fetch: each method's HTTP request, the mapping of error answers and
// socket failures to typed errors, pagination, and the options (dispatcher, timeout, base URL).
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { PullmailApiError, PullmailClient, PullmailNetworkError, normalizeBaseUrl, type FetchInit, type FetchLike } from '../index.ts';

interface Call {
  url: string;
  init: FetchInit;
}

/** A fetch that records each call and answers with `reply` (default 200 `{}`). */
function recorder(reply: (call: Call) => Response = () => Response.json({})): { calls: Call[]; fetch: FetchLike } {
  const calls: Call[] = [];
  return {
    calls,
    fetch: async (url, init) => {
      const call = { url, init };
      calls.push(call);
      return reply(call);
    },
  };
}

const BASE = 'https://node.example';
const client = (fetch: FetchLike, extra: object = {}) => new PullmailClient({ baseUrl: BASE, token: 'user-token', adminToken: 'admin-token', fetch, ...extra });

describe('PullmailClient requests', () => {
  const message = { to: ['bob@b.test'], subject: 'hi', text: 'hello', consent: ['tok'] };
  const cases: [string, (c: PullmailClient) => Promise<unknown>, string, string, unknown?][] = [
    ['health', (c) => c.health(), 'GET', '/healthz'],
    ['send', (c) => c.send(message), 'POST', '/api/v1/messages', message],
    ['status', (c) => c.status('m1'), 'GET', '/api/v1/messages/m1'],
    ['sent', (c) => c.sent(), 'GET', '/api/v1/sent'],
    ['sent page', (c) => c.sent({ limit: 5, cursor: 'abc' }), 'GET', '/api/v1/sent?limit=5&cursor=abc'],
    ['retract', (c) => c.retract('m1'), 'POST', '/api/v1/messages/m1/retract'],
    ['edit', (c) => c.edit('m1', message), 'PUT', '/api/v1/messages/m1', message],
    ['inbox', (c) => c.inbox({ limit: 2 }), 'GET', '/api/v1/inbox?limit=2'],
    ['read', (c) => c.read('i1'), 'GET', '/api/v1/inbox/i1'],
    ['delete', (c) => c.deleteMessage('i1'), 'DELETE', '/api/v1/inbox/i1'],
    ['requests', (c) => c.requests(), 'GET', '/api/v1/requests'],
    ['accept', (c) => c.accept('r1'), 'POST', '/api/v1/requests/r1/accept'],
    ['reject', (c) => c.reject('r1'), 'POST', '/api/v1/requests/r1/reject'],
    ['block', (c) => c.block('r1'), 'POST', '/api/v1/requests/r1/block'],
    ['rules', (c) => c.rules(), 'GET', '/api/v1/rules'],
    ['addRule', (c) => c.addRule({ action: 'block', pattern: '@x.test' }), 'POST', '/api/v1/rules', { action: 'block', pattern: '@x.test' }],
    ['removeRule', (c) => c.removeRule('u1'), 'DELETE', '/api/v1/rules/u1'],
    ['settings', (c) => c.settings(), 'GET', '/api/v1/settings'],
    ['updateSettings', (c) => c.updateSettings({ first_contact: 'fetch' }), 'PUT', '/api/v1/settings', { first_contact: 'fetch' }],
    ['createConsentToken', (c) => c.createConsentToken({ sender: '@a.test', max_uses: 3, expires_in_days: 7 }), 'POST', '/api/v1/consent-tokens', { sender: '@a.test', max_uses: 3, expires_in_days: 7 }],
    ['consentTokens', (c) => c.consentTokens(), 'GET', '/api/v1/consent-tokens'],
    ['revokeConsentToken', (c) => c.revokeConsentToken('t1'), 'DELETE', '/api/v1/consent-tokens/t1'],
    // ids from users are path segments, never path syntax
    ['id escaping', (c) => c.status('../admin?x=1'), 'GET', '/api/v1/messages/..%2Fadmin%3Fx%3D1'],
  ];
  for (const [name, invoke, method, path, body] of cases) {
    it(`${name}: ${method} ${path}`, async () => {
      const r = recorder((call) => (call.init.method === 'DELETE' ? new Response(null, { status: 204 }) : Response.json({})));
      await invoke(client(r.fetch));
      assert.equal(r.calls.length, 1);
      const [{ url, init }] = r.calls;
      assert.equal(url, `${BASE}${path}`);
      assert.equal(init.method, method);
      assert.equal(init.headers.authorization, path === '/healthz' ? undefined : 'Bearer user-token');
      if (body === undefined) assert.equal(init.body, undefined);
      else {
        assert.equal(init.headers['content-type'], 'application/json');
        assert.deepEqual(JSON.parse(init.body as string), body);
      }
      assert.ok(init.signal instanceof AbortSignal, 'every request has a timeout');
    });
  }

  it('appendMessage sends flags as one comma list and refuses a flag with a comma before any request', async () => {
    const r = recorder(() => Response.json({}, { status: 201 }));
    await client(r.fetch).appendMessage('Archive', 'Subject: x\r\n\r\nx\r\n', ['\\Seen', '$Label1']);
    assert.equal(r.calls[0].url, `${BASE}/api/v1/folders/Archive/messages?flags=%5CSeen%2C%24Label1`);
    // the node would read "a,b" as the two keywords a and b
    await assert.rejects(client(r.fetch).appendMessage('Archive', 'Subject: x\r\n\r\nx\r\n', ['\\Seen', 'a,b']), { name: 'TypeError', message: /"a,b" is not a flag/ });
    assert.equal(r.calls.length, 1);
  });

  it('createUser uses the admin token', async () => {
    const r = recorder(() => Response.json({ address: 'a@x.test', token: 'pm_x' }, { status: 201 }));
    assert.deepEqual(await client(r.fetch).createUser({ address: 'a@x.test' }), { address: 'a@x.test', token: 'pm_x' });
    assert.equal(r.calls[0].url, `${BASE}/api/v1/admin/users`);
    assert.equal(r.calls[0].init.headers.authorization, 'Bearer admin-token');
  });

  it('sendRaw and editRaw post the bytes as message/rfc822; readRaw returns bytes', async () => {
    const raw = new TextEncoder().encode('From: a@a.test\r\nTo: b@b.test\r\n\r\nhi\r\n');
    const r = recorder((call) => (call.url.endsWith('/raw') ? new Response(raw) : Response.json({ id: 'm', version: 1, deliveries: [] }, { status: 201 })));
    const c = client(r.fetch);
    await c.sendRaw(raw);
    await c.editRaw('m', 'From: a@a.test\r\n\r\nv2');
    assert.deepEqual(await c.readRaw('i1'), raw);
    assert.deepEqual(r.calls.map((x) => [x.init.method, x.init.headers['content-type']]), [['POST', 'message/rfc822'], ['PUT', 'message/rfc822'], ['GET', undefined]]);
    assert.equal(r.calls[0].init.body, raw);
  });

  it('passes a dispatcher through to fetch and sets a user agent', async () => {
    const dispatcher = { marker: true };
    const r = recorder();
    await client(r.fetch, { dispatcher, userAgent: 'test/1' }).settings();
    assert.equal(r.calls[0].init.dispatcher, dispatcher);
    assert.equal(r.calls[0].init.headers['user-agent'], 'test/1');
  });

  it('iterateInbox and iterateSent follow cursors to the last page', async () => {
    const pages: Record<string, object> = {
      '': { messages: [{ id: '1' }, { id: '2' }], total: 3, cursor: 'c1' },
      c1: { messages: [{ id: '3' }], total: 3 },
    };
    const r = recorder((call) => Response.json(pages[new URL(call.url).searchParams.get('cursor') ?? '']));
    const ids: string[] = [];
    for await (const m of client(r.fetch).iterateInbox({ limit: 2 })) ids.push(m.id);
    assert.deepEqual(ids, ['1', '2', '3']);
    assert.deepEqual(r.calls.map((c) => new URL(c.url).search), ['?limit=2', '?limit=2&cursor=c1']);
    const sent: string[] = [];
    for await (const m of client(r.fetch).iterateSent({ limit: 2 })) sent.push(m.id);
    assert.deepEqual(sent, ['1', '2', '3']);
  });
});

describe('PullmailClient errors', () => {
  it('turns a pullmail error body into PullmailApiError with status, code and detail', async () => {
    const r = recorder(() => Response.json({ error: 'conflict', detail: 'every recipient has fetched' }, { status: 409 }));
    await assert.rejects(client(r.fetch).edit('m1', { to: ['b@b.test'], subject: '' }), (err: unknown) => {
      assert.ok(err instanceof PullmailApiError);
      assert.deepEqual([err.status, err.code, err.detail, err.isAuth], [409, 'conflict', 'every recipient has fetched', false]);
      assert.match(err.message, /PUT https:\/\/node\.example\/api\/v1\/messages\/m1: 409 conflict/);
      return true;
    });
  });

  const statusCases: [string, Response, number, string, boolean][] = [
    ['401 is auth', Response.json({ error: 'unauthorized', detail: 'invalid token' }, { status: 401 }), 401, 'unauthorized', true],
    ['403 is auth', Response.json({ error: 'forbidden', detail: 'no' }, { status: 403 }), 403, 'forbidden', true],
    // a proxy's HTML page: the code comes from the status, the detail from the page
    ['non-JSON 502', new Response('<html>Bad Gateway</html>', { status: 502 }), 502, 'internal', false],
    ['JSON without error field', Response.json({ message: 'x' }, { status: 404 }), 404, 'not_found', false],
    ['429 keeps Retry-After', Response.json({ error: 'rate_limited', detail: 'slow down' }, { status: 429, headers: { 'retry-after': '7' } }), 429, 'rate_limited', false],
  ];
  for (const [name, res, status, code, isAuth] of statusCases) {
    it(name, async () => {
      const err = await client(async () => res).inbox().catch((e: unknown) => e);
      assert.ok(err instanceof PullmailApiError);
      assert.deepEqual([err.status, err.code, err.isAuth], [status, code, isAuth]);
      if (status === 429) assert.equal(err.retryAfterSeconds, 7);
      if (status === 502) assert.equal(err.detail, '<html>Bad Gateway</html>');
    });
  }

  it('a 2xx answer that is not JSON is PullmailApiError bad_response (the URL is not a node)', async () => {
    const err = await client(async () => new Response('<html>Welcome to my blog</html>', { status: 200 })).inbox().catch((e: unknown) => e);
    assert.ok(err instanceof PullmailApiError);
    assert.deepEqual([err.status, err.code], [200, 'bad_response']);
    assert.match(err.detail, /is https:\/\/node\.example a pullmail node\?\): <html>Welcome to my blog<\/html>/);
  });

  const failures: [string, unknown, string][] = [
    ['refused', new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) }), 'refused'],
    ['DNS', new TypeError('fetch failed', { cause: Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' }) }), 'not_found'],
    ['TLS', new TypeError('fetch failed', { cause: Object.assign(new Error('unable to verify'), { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }) }), 'tls'],
    ['reset', new TypeError('fetch failed', { cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }) }), 'reset'],
    ['timeout', new DOMException('The operation was aborted due to timeout', 'TimeoutError'), 'timeout'],
    ['anything else', new TypeError('fetch failed', { cause: new Error('bad port') }), 'network'],
  ];
  for (const [name, thrown, code] of failures) {
    it(`network failure: ${name} → PullmailNetworkError ${code}`, async () => {
      const err = await client(async () => {
        throw thrown;
      }).inbox().catch((e: unknown) => e);
      assert.ok(err instanceof PullmailNetworkError);
      assert.equal(err.code, code);
      assert.equal(err.url, `${BASE}/api/v1/inbox`);
      assert.equal(err.cause, thrown);
    });
  }

  it('a real refused connection (global fetch) is a PullmailNetworkError "refused"', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const { port } = s.address() as { port: number };
        s.close(() => resolve(port));
      });
    });
    const c = new PullmailClient({ baseUrl: `http://127.0.0.1:${port}`, token: 't' });
    await assert.rejects(c.settings(), (err: unknown) => err instanceof PullmailNetworkError && err.code === 'refused' && /connection refused/.test(err.message));
  });

  it('gives up after timeoutMs', async () => {
    const hang: FetchLike = (_url, init) => new Promise((_resolve, reject) => init.signal!.addEventListener('abort', () => reject(init.signal!.reason)));
    // AbortSignal.timeout's timer does not hold the event loop open; a real socket would
    const keepAlive = setTimeout(() => {}, 5_000);
    const err = await client(hang, { timeoutMs: 30 }).inbox().catch((e: unknown) => e);
    clearTimeout(keepAlive);
    assert.ok(err instanceof PullmailNetworkError);
    assert.equal(err.code, 'timeout');
  });
});

describe('normalizeBaseUrl', () => {
  const good: [string, string][] = [
    ['https://mail.example.org', 'https://mail.example.org'],
    ['https://mail.example.org/', 'https://mail.example.org'],
    ['http://127.0.0.1:8080', 'http://127.0.0.1:8080'],
    // a node behind a path prefix keeps it
    ['https://example.org/pullmail/', 'https://example.org/pullmail'],
  ];
  for (const [input, out] of good) it(`accepts ${input}`, () => assert.equal(normalizeBaseUrl(input), out));
  const bad: [string, string][] = [
    ['mail.example.org', 'no scheme: not a URL'],
    ['ftp://mail.example.org', 'not http(s)'],
    ['https://mail.example.org/?x=1', 'a query would be dropped silently'],
    ['', 'empty'],
  ];
  for (const [input, why] of bad) it(`refuses ${JSON.stringify(input)} (${why})`, () => assert.throws(() => normalizeBaseUrl(input), TypeError));
});
