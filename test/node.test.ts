// A node as a whole: HTTPS listener, well-known metadata and JWKS, health, admin API, errors.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { rotateKeys } from '../packages/server/src/protocol/key-set.ts';
import { signJwt } from '../packages/server/src/protocol/jws.ts';
import { ADMIN_TOKEN, startNode, type TestNode } from './harness/node.ts';

describe('a node over HTTPS', () => {
  let node: TestNode;
  before(async () => {
    node = await startNode({ domain: 'a.test', https: true });
  });
  after(() => node.stop());

  it('serves pm1 metadata with same-origin URLs', async () => {
    const res = await node.api('/.well-known/pullmail');
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), {
      version: 'pm1',
      domains: ['a.test'],
      notify: `${node.url}/pm/v1/notify`,
      jwks_uri: `${node.url}/.well-known/pullmail/jwks.json`,
      max_message_bytes: 26214400,
    });
  });

  it('answers /healthz while the database answers', async () => {
    const res = await node.api('/healthz');
    assert.equal(res.status, 200);
  });

  it('signs with a key its JWKS publishes, and keeps old keys verifying after rotation', async () => {
    const { ctx } = node.server;
    const oldKid = ctx.keys.signer().kid;
    const before = await signJwt({ iss: 'a.test', iat: 1, exp: 4102444800, jti: 'x' }, 'pm-cap+jwt', ctx.keys.signer());
    await rotateKeys(ctx.db, new Date());
    await ctx.keys.reload();
    const newKid = ctx.keys.signer().kid;
    assert.notEqual(newKid, oldKid);
    const after = await signJwt({ iss: 'a.test', iat: 1, exp: 4102444800, jti: 'y' }, 'pm-cap+jwt', ctx.keys.signer());

    const jwks = (await (await node.api('/.well-known/pullmail/jwks.json')).json()) as { keys: { kid: string; d?: string; kty: string; crv: string; alg: string; use: string }[] };
    assert.deepEqual(jwks.keys.map((k) => k.kid).sort(), [oldKid, newKid].sort());
    for (const k of jwks.keys) {
      assert.equal(k.d, undefined, 'private part must never be published');
      assert.deepEqual([k.kty, k.crv, k.alg, k.use], ['OKP', 'Ed25519', 'EdDSA', 'sig']);
    }
    const set = createLocalJWKSet(jwks as never);
    const v1 = await jwtVerify(before, set, { algorithms: ['EdDSA'] });
    const v2 = await jwtVerify(after, set, { algorithms: ['EdDSA'] });
    assert.equal(v1.protectedHeader.kid, oldKid);
    assert.equal(v2.protectedHeader.kid, newKid);
  });

  it('creates users through the admin API and refuses duplicates and bad addresses', async () => {
    const ok = await node.api('/api/v1/admin/users', { method: 'POST', token: ADMIN_TOKEN, json: { address: 'Alice@A.test', password: 'correct horse' } });
    assert.equal(ok.status, 201);
    const body = (await ok.json()) as { address: string; token: string };
    assert.equal(body.address, 'alice@a.test');
    assert.match(body.token, /^pm_/);
    const dup = await node.api('/api/v1/admin/users', { method: 'POST', token: ADMIN_TOKEN, json: { address: 'alice@a.test' } });
    assert.equal(dup.status, 409);
    assert.equal(((await dup.json()) as { error: string }).error, 'conflict');
    const foreign = await node.api('/api/v1/admin/users', { method: 'POST', token: ADMIN_TOKEN, json: { address: 'x@other.test' } });
    assert.equal(foreign.status, 400);
    const junk = await node.api('/api/v1/admin/users', { method: 'POST', token: ADMIN_TOKEN, json: { address: 'a\r\nb@a.test' } });
    assert.equal(junk.status, 400);
    // the operator docs set no password length: a short one is taken, an empty one is not a password
    assert.equal((await node.api('/api/v1/admin/users', { method: 'POST', token: ADMIN_TOKEN, json: { address: 'pat@a.test', password: 'pw' } })).status, 201);
    assert.equal((await node.api('/api/v1/admin/users', { method: 'POST', token: ADMIN_TOKEN, json: { address: 'eve@a.test', password: '' } })).status, 400);
  });

  it('refuses the admin API without the admin token', async () => {
    const none = await node.api('/api/v1/admin/users', { method: 'POST', json: { address: 'bob@a.test' } });
    assert.equal(none.status, 401);
    const wrong = await node.api('/api/v1/admin/users', { method: 'POST', token: 'not-the-admin-token-xx', json: { address: 'bob@a.test' } });
    assert.equal(wrong.status, 401);
    assert.deepEqual(Object.keys((await wrong.json()) as object).sort(), ['detail', 'error']);
  });

  it('answers bad JSON, wrong content type and oversized bodies with clear errors', async () => {
    const bad = await node.api('/api/v1/admin/users', { method: 'POST', token: ADMIN_TOKEN, body: '{"address":', headers: { 'content-type': 'application/json' } });
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { error: string }).error, 'bad_request');
    const type = await node.api('/api/v1/admin/users', { method: 'POST', token: ADMIN_TOKEN, body: 'address=x', headers: { 'content-type': 'text/plain' } });
    assert.equal(type.status, 415);
    const big = await node.api('/api/v1/admin/users', { method: 'POST', token: ADMIN_TOKEN, body: JSON.stringify({ address: 'x'.repeat(2_000_000) }), headers: { 'content-type': 'application/json' } });
    assert.equal(big.status, 413);
    assert.equal(((await big.json()) as { error: string }).error, 'too_large');
    const health = await node.api('/healthz');
    assert.equal(health.status, 200, 'node still up');
  });
});
