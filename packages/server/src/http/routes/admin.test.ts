// POST /api/v1/admin/users (docs/operator.md) through app.request(): the admin token check and what
// the route refuses.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApp, TEST_ADMIN_TOKEN, type TestApp } from '../test-app.ts';

let t: TestApp;
before(async () => {
  t = await createTestApp({ env: { PULLMAIL_DOMAINS: 'a.test,b.test' } });
});
after(() => t.close());

const create = (json: unknown, token: string | undefined = TEST_ADMIN_TOKEN) => t.request('/api/v1/admin/users', { method: 'POST', token, json });
const errorOf = async (res: Response) => ((await res.json()) as { error: string }).error;

describe('POST /api/v1/admin/users', () => {
  it('creates a mailbox and answers its canonical address and an API token that opens the user API', async () => {
    const res = await create({ address: 'Alice@A.Test', password: 'secret' });
    assert.equal(res.status, 201);
    const body = (await res.json()) as { address: string; token: string };
    assert.equal(body.address, 'alice@a.test');
    assert.match(body.token, /^pm_/);
    assert.equal((await t.request('/api/v1/settings', { token: body.token })).status, 200);
  });

  it('is 409 conflict for an address that exists, whatever its case', async () => {
    assert.equal((await create({ address: 'carol@b.test' })).status, 201);
    const again = await create({ address: 'CAROL@b.test' });
    assert.equal(again.status, 409);
    assert.equal(await errorOf(again), 'conflict');
  });

  const refused: [string, unknown, string][] = [
    // the node only creates mailboxes in PULLMAIL_DOMAINS
    ['an address at a domain not served here', { address: 'eve@elsewhere.test' }, 'not a domain of this node'],
    // no @: nothing to deliver to
    ['a string that is not an address', { address: 'alice-at-a.test' }, 'not a mail address'],
    // an empty password would be no password at all
    ['an empty password', { address: 'dave@a.test', password: '' }, 'password'],
    // address is required by the schema
    ['a body without address', { password: 'x' }, 'address'],
  ];
  for (const [name, body, detail] of refused) {
    it(`is 400 bad_request for ${name}`, async () => {
      const res = await create(body);
      assert.equal(res.status, 400);
      const answer = (await res.json()) as { error: string; detail: string };
      assert.equal(answer.error, 'bad_request');
      assert.match(answer.detail, new RegExp(detail));
    });
  }

  const unauthorized: [string, Record<string, string>][] = [
    ['no Authorization header', {}],
    // one character short: the comparison is on the whole token
    ['a token one character short', { authorization: `Bearer ${TEST_ADMIN_TOKEN.slice(0, -1)}` }],
    ['a wrong token of the same length', { authorization: `Bearer ${'x'.repeat(TEST_ADMIN_TOKEN.length)}` }],
    // the right secret under another scheme is not a bearer token
    ['the token as Basic credentials', { authorization: `Basic ${TEST_ADMIN_TOKEN}` }],
    // a user token is not the admin token
    ['a user API token', { authorization: 'Bearer pm_notadmin' }],
  ];
  for (const [name, headers] of unauthorized) {
    it(`is 401 unauthorized with ${name}`, async () => {
      const res = await t.request('/api/v1/admin/users', { method: 'POST', headers, json: { address: 'mallory@a.test' } });
      assert.equal(res.status, 401);
      assert.equal(await errorOf(res), 'unauthorized');
    });
  }

  it('is 403 forbidden on a node without PULLMAIL_ADMIN_TOKEN, for any token', async () => {
    const off = await createTestApp({ env: { PULLMAIL_ADMIN_TOKEN: '' } });
    try {
      const res = await off.request('/api/v1/admin/users', { method: 'POST', token: TEST_ADMIN_TOKEN, json: { address: 'alice@a.test' } });
      assert.equal(res.status, 403);
      assert.equal(await errorOf(res), 'forbidden');
    } finally {
      await off.close();
    }
  });

  it('is 415 for a body that is not JSON', async () => {
    const res = await t.request('/api/v1/admin/users', { method: 'POST', token: TEST_ADMIN_TOKEN, headers: { 'content-type': 'text/plain' }, body: 'address=x@a.test' });
    assert.equal(res.status, 415);
    assert.equal(await errorOf(res), 'unsupported_media_type');
  });
});
