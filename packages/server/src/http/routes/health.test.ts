// GET /healthz, /.well-known/pullmail and its JWKS (protocol §1) through app.request().
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PROTOCOL_VERSION, type NodeMetadata } from '@pullmail/client/wire';
import { createTestApp } from '../test-app.ts';

describe('GET /healthz', () => {
  it('is 200 while the database answers and 503 unavailable once it does not', async () => {
    const t = await createTestApp();
    const ok = await t.request('/healthz');
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), { status: 'ok' });
    await t.ctx.database.close();
    const down = await t.request('/healthz');
    assert.equal(down.status, 503);
    assert.equal(((await down.json()) as { error: string }).error, 'unavailable');
    await t.ctx.fetcher.close();
  });
});

describe('GET /.well-known/pullmail', () => {
  it('names the version, the domains, the notify and JWKS URLs on the public URL and the size limit', async () => {
    const t = await createTestApp({ env: { PULLMAIL_DOMAINS: 'a.test,b.test', PULLMAIL_MAX_MESSAGE_BYTES: '12345' } });
    try {
      const res = await t.request('/.well-known/pullmail');
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('cache-control'), 'public, max-age=300');
      const meta = (await res.json()) as NodeMetadata;
      assert.deepEqual(meta, {
        version: PROTOCOL_VERSION,
        domains: ['a.test', 'b.test'],
        notify: 'http://a.test.example/pm/v1/notify',
        jwks_uri: 'http://a.test.example/.well-known/pullmail/jwks.json',
        max_message_bytes: 12345,
      });

      const jwks = await t.request('/.well-known/pullmail/jwks.json');
      assert.equal(jwks.status, 200);
      const { keys } = (await jwks.json()) as { keys: Record<string, unknown>[] };
      assert.equal(keys.length, 1);
      // the public half only: a published "d" would hand out the signing key
      assert.deepEqual(Object.keys(keys[0]).sort(), ['alg', 'crv', 'kid', 'kty', 'use', 'x']);
      assert.equal(keys[0].kid, t.ctx.keys.signer().kid);
      assert.equal(keys[0].alg, 'EdDSA');
      assert.equal(keys[0].crv, 'Ed25519');
    } finally {
      await t.close();
    }
  });
});
