// The bearer-token check in front of every user API route (http/middleware/auth.ts), through app.request().
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApp, TEST_ADMIN_TOKEN, type TestApp } from '../test-app.ts';

let t: TestApp;
let token: string;
before(async () => {
  t = await createTestApp();
  token = await t.addUser('alice@a.test');
});
after(() => t.close());

const ROUTES: [method: string, path: string][] = [
  ['POST', '/api/v1/messages'],
  ['GET', '/api/v1/messages/some-id'],
  ['PUT', '/api/v1/messages/some-id'],
  ['POST', '/api/v1/messages/some-id/retract'],
  ['GET', '/api/v1/sent'],
  ['GET', '/api/v1/requests'],
  ['POST', '/api/v1/requests/some-id/accept'],
  ['GET', '/api/v1/rules'],
  ['POST', '/api/v1/rules'],
  ['DELETE', '/api/v1/rules/some-id'],
  ['GET', '/api/v1/settings'],
  ['PUT', '/api/v1/settings'],
  ['GET', '/api/v1/consent-tokens'],
  ['POST', '/api/v1/consent-tokens'],
  ['DELETE', '/api/v1/consent-tokens/some-id'],
  ['GET', '/api/v1/me'],
  ['GET', '/api/v1/inbox'],
  ['GET', '/api/v1/inbox/some-id'],
  ['GET', '/api/v1/folders'],
  ['POST', '/api/v1/folders'],
  ['GET', '/api/v1/folders/INBOX/messages'],
  ['GET', '/api/v1/mail/some-id'],
  ['GET', '/api/v1/changes'],
  ['GET', '/api/v1/export'],
];

const BAD_AUTH: [string, string | undefined][] = [
  ['no Authorization header', undefined],
  // the scheme alone names no token
  ['"Bearer" without a token', 'Bearer '],
  // shaped like an API token but issued to nobody
  ['an unknown token', 'Bearer pm_0000000000000000000000000000'],
  // a valid token under another scheme is not a bearer token
  ['the right token as Basic credentials', 'Basic <token>'],
  // the admin token opens the admin API only
  ['the admin token', `Bearer ${TEST_ADMIN_TOKEN}`],
  // two tokens in one header: neither is taken
  ['two tokens', 'Bearer <token> <token>'],
];

describe('user API authentication', () => {
  for (const [name, header] of BAD_AUTH) {
    it(`answers 401 unauthorized with ${name}, on every route, before reading the body`, async () => {
      for (const [method, path] of ROUTES) {
        const headers: Record<string, string> = header ? { authorization: header.replaceAll('<token>', token) } : {};
        const res = await t.request(path, { method, headers, ...(method === 'POST' || method === 'PUT' ? { json: { to: ['bob@b.test'], text: 'x' } } : {}) });
        assert.equal(res.status, 401, `${method} ${path}`);
        assert.equal(((await res.json()) as { error: string }).error, 'unauthorized', `${method} ${path}`);
      }
    });
  }

  it('lets the right bearer token through, case-insensitive in the scheme', async () => {
    for (const scheme of ['Bearer', 'bearer']) {
      const res = await t.request('/api/v1/settings', { headers: { authorization: `${scheme} ${token}` } });
      assert.equal(res.status, 200, scheme);
    }
  });

  it('checks the token once per request on every route', async () => {
    const authenticate = t.ctx.accounts.authenticate;
    let checks = 0;
    t.ctx.accounts.authenticate = (tok) => {
      checks++;
      return authenticate(tok);
    };
    try {
      for (const [method, path] of ROUTES) {
        checks = 0;
        // a body the routes refuse: only the check in front of them matters here
        const res = await t.request(path, { method, token, ...(method === 'POST' || method === 'PUT' ? { json: {} } : {}) });
        await res.arrayBuffer();
        assert.equal(checks, 1, `${method} ${path}: ${checks} token checks (answered ${res.status})`);
      }
    } finally {
      t.ctx.accounts.authenticate = authenticate;
    }
  });

  it('GET /me answers the address the token belongs to', async () => {
    const res = await t.request('/api/v1/me', { token });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { address: 'alice@a.test' });
  });

  it('answers 404 not_found with a JSON error for a path no route serves', async () => {
    const res = await t.request('/api/v1/nothing-here', { token });
    assert.equal(res.status, 404);
    assert.equal(((await res.json()) as { error: string }).error, 'not_found');
  });
});
