// /api/v1/admin/aliases (docs/operator.md "Aliases and catch-all") through app.request(): what the
// routes answer and refuse, and that an alias delivers to its target under the target's policy.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { receiveNotification } from '../../delivery/receive.ts';
import { createTestApp, TEST_ADMIN_TOKEN, type TestApp } from '../test-app.ts';

let t: TestApp;
let aliceToken: string;
before(async () => {
  t = await createTestApp({ env: { PULLMAIL_DOMAINS: 'a.test,b.test' } });
  aliceToken = await t.addUser('alice@a.test');
  await t.addUser('bob@b.test');
});
after(() => t.close());

type Json = Record<string, any>;
const create = (json: unknown, token: string | undefined = TEST_ADMIN_TOKEN) => t.request('/api/v1/admin/aliases', { method: 'POST', token, json });
const list = async () => ((await (await t.request('/api/v1/admin/aliases', { token: TEST_ADMIN_TOKEN })).json()) as Json).aliases as Json[];

describe('POST /api/v1/admin/aliases', () => {
  it('creates an alias with canonical address and target: 201 {id,address,target}', async () => {
    const res = await create({ address: 'Sales@A.Test', target: 'ALICE@a.test' });
    assert.equal(res.status, 201);
    const body = (await res.json()) as Json;
    assert.deepEqual(Object.keys(body).sort(), ['address', 'id', 'target']);
    assert.equal(body.address, 'sales@a.test');
    assert.equal(body.target, 'alice@a.test');
  });

  it('creates a catch-all @domain, which may point at a mailbox of another domain of this node', async () => {
    const res = await create({ address: '@B.test', target: 'alice@a.test' });
    assert.equal(res.status, 201);
    assert.equal(((await res.json()) as Json).address, '@b.test');
  });

  const refused: [string, unknown, number, string, string][] = [
    // only PULLMAIL_DOMAINS: mail for other domains never reaches us
    ['an address at a domain not served here', { address: 'x@elsewhere.test', target: 'alice@a.test' }, 400, 'bad_request', 'not a domain of this node'],
    ['a catch-all of a domain not served here', { address: '@elsewhere.test', target: 'alice@a.test' }, 400, 'bad_request', 'not a domain of this node'],
    ['an address that is not one', { address: 'sales', target: 'alice@a.test' }, 400, 'bad_request', 'not a mail address'],
    ['a target that is not an address', { address: 'info@a.test', target: 'alice' }, 400, 'bad_request', 'target'],
    // an alias delivers to an existing mailbox, never to another alias or a remote address
    ['a target with no mailbox', { address: 'info@a.test', target: 'nobody@a.test' }, 404, 'not_found', 'no mailbox nobody@a.test'],
    ['a target that is an alias', { address: 'info@a.test', target: 'sales@a.test' }, 404, 'not_found', 'no mailbox'],
    // a mailbox's address always delivers to that mailbox
    ['the address of a mailbox', { address: 'Bob@b.test', target: 'alice@a.test' }, 409, 'conflict', 'is a mailbox already'],
    ['an alias that exists, in another case', { address: 'SALES@a.test', target: 'bob@b.test' }, 409, 'conflict', 'is an alias already'],
    ['a second catch-all for a domain', { address: '@b.test', target: 'bob@b.test' }, 409, 'conflict', 'is an alias already'],
    ['a body without target', { address: 'info@a.test' }, 400, 'bad_request', 'target'],
  ];
  for (const [name, body, status, error, detail] of refused) {
    it(`is ${status} ${error} for ${name}`, async () => {
      const res = await create(body);
      const answer = (await res.json()) as Json;
      assert.equal(res.status, status, JSON.stringify(answer));
      assert.equal(answer.error, error);
      assert.match(answer.detail, new RegExp(detail));
    });
  }

  it('is 401 with a user token and without a token', async () => {
    assert.equal((await create({ address: 'x@a.test', target: 'alice@a.test' }, aliceToken)).status, 401);
    assert.equal((await t.request('/api/v1/admin/aliases', { method: 'POST', json: { address: 'x@a.test', target: 'alice@a.test' } })).status, 401);
  });

  it('makes user creation on an alias address a 409 conflict', async () => {
    const res = await t.request('/api/v1/admin/users', { method: 'POST', token: TEST_ADMIN_TOKEN, json: { address: 'sales@a.test' } });
    assert.equal(res.status, 409);
    assert.match(((await res.json()) as Json).detail, /is an alias already/);
  });
});

describe('GET and DELETE /api/v1/admin/aliases', () => {
  it('lists every alias by address with its target, id and creation time', async () => {
    const aliases = await list();
    assert.deepEqual(aliases.map((a) => [a.address, a.target]), [['@b.test', 'alice@a.test'], ['sales@a.test', 'alice@a.test']]);
    for (const a of aliases) assert.ok(!Number.isNaN(Date.parse(a.created_at)));
  });

  it('deletes by id; a second delete, an unknown id and a non-uuid id are 404', async () => {
    const created = (await (await create({ address: 'temp@a.test', target: 'bob@b.test' })).json()) as Json;
    const res = await t.request(`/api/v1/admin/aliases/${created.id}`, { method: 'DELETE', token: TEST_ADMIN_TOKEN });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { id: created.id, address: 'temp@a.test', target: 'bob@b.test', deleted: true });
    for (const id of [created.id, '00000000-0000-0000-0000-000000000000', 'not-a-uuid']) {
      const again = await t.request(`/api/v1/admin/aliases/${id}`, { method: 'DELETE', token: TEST_ADMIN_TOKEN });
      assert.equal(again.status, 404, id);
      assert.equal(((await again.json()) as Json).error, 'not_found');
    }
    assert.ok(!(await list()).some((a) => a.address === 'temp@a.test'));
  });

  it('goes with its target: deleting the mailbox deletes its aliases', async () => {
    await t.addUser('carol@a.test');
    assert.equal((await create({ address: 'help@a.test', target: 'carol@a.test' })).status, 201);
    assert.equal((await t.request('/api/v1/admin/users/carol@a.test', { method: 'DELETE', token: TEST_ADMIN_TOKEN })).status, 200);
    assert.ok(!(await list()).some((a) => a.address === 'help@a.test'));
  });
});

describe('a notification for an alias', () => {
  const claims = (rcpt: string, id: string) => ({
    iss: 'far.test', aud: 'a.test', iat: 0, exp: 0, jti: id, kind: 'new' as const,
    msg: { id, from: 'zed@far.test', rcpt, version: 1, size: 10, sha256: 'x'.repeat(43), sent_at: 0 },
    fetch: { url: 'https://far.test/pm1/fetch', cap: 'cap' },
  });

  it('is accepted under the target mailbox\'s policy and filed to it, keyed by the address used', async () => {
    // alice holds strangers (the default); then allows zed
    const held = await receiveNotification(t.ctx, claims('sales@a.test', 'm1') as never);
    assert.deepEqual(held, { decision: 'hold', reason: 'first_contact' });
    const requests = ((await (await t.request('/api/v1/requests', { token: aliceToken })).json()) as Json).requests as Json[];
    assert.equal(requests.length, 1);
    assert.equal(requests[0].from, 'zed@far.test');
    assert.equal((await t.request('/api/v1/rules', { method: 'POST', token: aliceToken, json: { action: 'allow', pattern: 'zed@far.test' } })).status, 201);
    assert.equal((await receiveNotification(t.ctx, claims('anything@b.test', 'm2') as never)).decision, 'fetch');
    const { inbound } = await import('../../store/schema.ts');
    const rows = await t.ctx.db.select({ rcpt: inbound.rcpt }).from(inbound);
    assert.deepEqual(rows.map((r) => r.rcpt).sort(), ['anything@b.test', 'sales@a.test']);
  });

  it('for an address with neither mailbox nor alias nor catch-all is unknown_recipient', async () => {
    assert.deepEqual(await receiveNotification(t.ctx, claims('nobody@a.test', 'm3') as never), { decision: 'reject', reason: 'unknown_recipient' });
  });
});
