// The admin API's account flags (docs/operator.md): `admin` at creation, disable and enable, and a
// disabled account refused by the API token door. The web and password doors: web/admin/admin.test.ts.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { checkMailboxPassword } from '../../accounts/password-login.ts';
import { createTestApp, TEST_ADMIN_TOKEN, type TestApp } from '../test-app.ts';

let t: TestApp;
before(async () => {
  t = await createTestApp();
});
after(() => t.close());

type Json = Record<string, any>;
const admin = (path: string, init: { method?: string; json?: unknown } = {}) => t.request(`/api/v1/admin${path}`, { token: TEST_ADMIN_TOKEN, ...init });
const listed = async (address: string) => (((await (await admin('/users')).json()) as Json).users as Json[]).find((u) => u.address === address);

describe('admin API: account flags', () => {
  it('creates an admin account with {admin:true}; others are not admin and not disabled', async () => {
    assert.equal((await admin('/users', { method: 'POST', json: { address: 'boss@a.test', password: 'pw', admin: true } })).status, 201);
    assert.equal((await admin('/users', { method: 'POST', json: { address: 'worker@a.test', password: 'pw' } })).status, 201);
    assert.deepEqual([(await listed('boss@a.test'))?.admin, (await listed('boss@a.test'))?.disabled], [true, false]);
    assert.deepEqual([(await listed('worker@a.test'))?.admin, (await listed('worker@a.test'))?.disabled], [false, false]);
  });

  it('is 400 for a non-boolean admin', async () => {
    const res = await admin('/users', { method: 'POST', json: { address: 'x@a.test', admin: 'yes' } });
    assert.equal(res.status, 400);
  });

  it('disables: the API token and the password stop working, mail still arrives; enable undoes it', async () => {
    const created = (await (await admin('/users', { method: 'POST', json: { address: 'dana@a.test', password: 'pw' } })).json()) as Json;
    const res = await admin('/users/dana@a.test/disable', { method: 'POST' });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { address: 'dana@a.test', disabled: true });
    assert.equal((await listed('dana@a.test'))?.disabled, true);
    assert.equal((await t.request('/api/v1/inbox', { token: created.token })).status, 401);
    assert.equal(await checkMailboxPassword(t.ctx.db, 'dana@a.test', 'pw'), undefined);
    // disabling twice is no error
    assert.equal((await admin('/users/dana@a.test/disable', { method: 'POST' })).status, 200);
    const { receiveNotification } = await import('../../delivery/receive.ts');
    const n = { iss: 'far.test', aud: 'a.test', iat: 0, exp: 0, jti: 'j', kind: 'new', msg: { id: 'm', from: 'z@far.test', rcpt: 'dana@a.test', version: 1, size: 1, sha256: 'x', sent_at: 0 }, fetch: { url: 'https://far.test/f', cap: 'c' } };
    assert.equal((await receiveNotification(t.ctx, n as never)).decision, 'hold');
    assert.deepEqual(await (await admin('/users/dana@a.test/enable', { method: 'POST' })).json(), { address: 'dana@a.test', disabled: false });
    assert.equal((await t.request('/api/v1/inbox', { token: created.token })).status, 200);
    assert.equal(await checkMailboxPassword(t.ctx.db, 'dana@a.test', 'pw'), 'dana@a.test');
  });

  it('is 404 for disabling a mailbox that does not exist', async () => {
    const res = await admin('/users/nobody@a.test/disable', { method: 'POST' });
    assert.equal(res.status, 404);
    assert.equal(((await res.json()) as Json).error, 'not_found');
  });

  it('keeps the password answer {address,password_set} (the sessions it ended are not part of it)', async () => {
    const res = await admin('/users/worker@a.test/password', { method: 'PUT', json: { password: 'new' } });
    assert.deepEqual(await res.json(), { address: 'worker@a.test', password_set: true });
  });
});
