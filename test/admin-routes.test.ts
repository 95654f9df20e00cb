// The admin API's user routes (/api/v1/admin/users…) through app.request(), on a test node's context;
// and the same routes without a token on the control socket's app.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Hono } from 'hono';
import { createApp } from '../packages/server/src/http/app.ts';
import { adminRoutes } from '../packages/server/src/http/routes/admin.ts';
import { ADMIN_TOKEN, startNode, type TestNode } from './harness/node.ts';

describe('admin user routes', () => {
  let node: TestNode;
  let app: Hono;
  const admin = (method: string, path: string, json?: unknown, token = ADMIN_TOKEN) =>
    app.request(`/api/v1/admin${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(json === undefined ? {} : { 'content-type': 'application/json' }) },
      body: json === undefined ? undefined : JSON.stringify(json),
    });
  // the user API, to see which tokens work, is asked over the node's real listener
  const inboxStatus = async (token: string) => (await node.api('/api/v1/inbox', { token })).status;

  before(async () => {
    node = await startNode({ domain: 'a.test' });
    app = createApp(node.server.ctx);
  });
  after(() => node.stop());

  it('refuses every user route without the admin token', async () => {
    for (const [method, path] of [['GET', '/users'], ['DELETE', '/users/x@a.test'], ['PUT', '/users/x@a.test/password'], ['POST', '/users/x@a.test/token']]) {
      const res = await admin(method, path, undefined, 'wrong-token-wrong-token-xx');
      assert.equal(res.status, 401, `${method} ${path}`);
    }
  });

  it('lists mailboxes by address with password and token counts', async () => {
    assert.equal((await admin('POST', '/users', { address: 'zed@a.test', password: 'pw' })).status, 201);
    assert.equal((await admin('POST', '/users', { address: 'amy@a.test' })).status, 201);
    const res = await admin('GET', '/users');
    assert.equal(res.status, 200);
    const { users } = (await res.json()) as { users: { address: string; has_password: boolean; tokens: number; created_at: string }[] };
    assert.deepEqual(users.map((u) => [u.address, u.has_password, u.tokens]), [['amy@a.test', false, 1], ['zed@a.test', true, 1]]);
    assert.ok(!Number.isNaN(Date.parse(users[0].created_at)));
  });

  it('replaces a lost token: the new one works, the old one no longer', async () => {
    const { token: old } = (await (await admin('POST', '/users', { address: 'tom@a.test' })).json()) as { token: string };
    const res = await admin('POST', '/users/Tom@a.test/token');
    assert.equal(res.status, 201);
    const body = (await res.json()) as { address: string; token: string; revoked: number };
    assert.equal(body.address, 'tom@a.test');
    assert.equal(body.revoked, 1);
    assert.equal(await inboxStatus(body.token), 200);
    assert.equal(await inboxStatus(old), 401);
  });

  it('keeps the other tokens with keep_others', async () => {
    const { token: first } = (await (await admin('POST', '/users', { address: 'kim@a.test' })).json()) as { token: string };
    const body = (await (await admin('POST', '/users/kim@a.test/token', { keep_others: true })).json()) as { token: string; revoked: number };
    assert.equal(body.revoked, 0);
    assert.equal(await inboxStatus(first), 200);
    assert.equal(await inboxStatus(body.token), 200);
  });

  it('sets a password, refusing an empty one', async () => {
    assert.equal((await admin('POST', '/users', { address: 'pat@a.test' })).status, 201);
    const res = await admin('PUT', '/users/pat@a.test/password', { password: 'n3w-secret' });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { address: 'pat@a.test', password_set: true });
    const { users } = (await (await admin('GET', '/users')).json()) as { users: { address: string; has_password: boolean }[] };
    assert.equal(users.find((u) => u.address === 'pat@a.test')?.has_password, true);
    const empty = await admin('PUT', '/users/pat@a.test/password', { password: '' });
    assert.equal(empty.status, 400);
  });

  it('deletes a mailbox: its token stops working and a second delete is 404', async () => {
    const { token } = (await (await admin('POST', '/users', { address: 'dan@a.test' })).json()) as { token: string };
    const res = await admin('DELETE', '/users/dan@a.test');
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { address: 'dan@a.test', deleted: true });
    assert.equal(await inboxStatus(token), 401);
    const again = await admin('DELETE', '/users/dan@a.test');
    assert.equal(again.status, 404);
    assert.equal(((await again.json()) as { error: string }).error, 'not_found');
  });

  it('answers 404 for a password or token of an unknown mailbox and 400 for a non-address', async () => {
    assert.equal((await admin('PUT', '/users/nobody@a.test/password', { password: 'x' })).status, 404);
    assert.equal((await admin('POST', '/users/nobody@a.test/token')).status, 404);
    assert.equal((await admin('DELETE', '/users/not-an-address')).status, 400);
  });

  it('asks for no token on the trusted (control socket) mount', async () => {
    const trusted = adminRoutes(node.server.ctx, { trusted: true });
    const res = await trusted.request('/users');
    assert.equal(res.status, 200);
  });
});
