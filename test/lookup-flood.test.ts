// Issue 12: a flood of notifications with forged `iss` values, none of which can verify. Each unknown
// domain costs at most one discovery, lookups stop at the per-client limit, the peer caches stay within
// PULLMAIL_PEER_CACHE_ENTRIES, and the node keeps answering. Memory is printed, not asserted (a GC
// decides it); the cache sizes are what bounds it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TokenType } from '@pullmail/client/wire';
import { randomId } from '../packages/server/src/protocol/jws.ts';
import { createFakeResolver } from '../packages/server/src/peers/fake-resolver.ts';
import { startNode, type TestNode } from './harness/node.ts';

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const nowS = () => Math.floor(Date.now() / 1000);

/** A notification claiming `iss`, with a signature nobody made. `.invalid` names never exist (RFC 6761). */
function forged(iss: string): string {
  const t = nowS();
  const id = randomId();
  const claims = {
    iss, aud: 'b.test', iat: t, exp: t + 600, jti: randomId(), kind: 'new',
    msg: { id, from: `x@${iss}`, rcpt: 'bob@b.test', version: 1, size: 10, sha256: 'A'.repeat(43), sent_at: t },
    fetch: { url: `https://${iss}/pm/v1/messages/${id}`, cap: 'x' },
  };
  return `${b64({ alg: 'EdDSA', typ: TokenType.notify, kid: 'k1' })}.${b64(claims)}.${Buffer.alloc(64).toString('base64url')}`;
}

const mib = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;

describe('a flood of forged iss values', () => {
  const resolver = createFakeResolver();
  let b: TestNode;

  before(async () => {
    b = await startNode({
      domain: 'b.test',
      resolver,
      env: { PULLMAIL_PEER_CACHE_ENTRIES: '50', PULLMAIL_LOOKUP_RATE_CLIENT: '100000/60', PULLMAIL_LOOKUP_RATE: '100000/60', PULLMAIL_LOOKUP_CONCURRENCY: '64' },
    });
    await b.addUser('bob@b.test');
  });
  after(() => b?.stop());

  it('keeps every peer cache within its bound and the node answering', async (t) => {
    const batches = 4;
    const per = 40;
    global.gc?.();
    const start = process.memoryUsage();
    for (let i = 0; i < batches; i++) {
      const notifications = Array.from({ length: per }, (_, j) => forged(`f${i}-${j}.flood.invalid`));
      const res = await b.api('/pm/v1/notify/batch', { method: 'POST', json: { notifications } });
      const body = (await res.json()) as { results: { error?: string }[] };
      assert.equal(res.status, 200, JSON.stringify(body).slice(0, 300));
      assert.ok(body.results.every((r) => r.error === 'unknown_key'), JSON.stringify(body.results.find((r) => r.error !== 'unknown_key')));
    }
    global.gc?.();
    const end = process.memoryUsage();
    t.diagnostic(`memory before: heap ${mib(start.heapUsed)}, rss ${mib(start.rss)}; after ${batches * per} forged iss: heap ${mib(end.heapUsed)}, rss ${mib(end.rss)}`);
    console.log(`flood memory: heap ${mib(start.heapUsed)} -> ${mib(end.heapUsed)}, rss ${mib(start.rss)} -> ${mib(end.rss)}`);

    const ctx = b.server.ctx;
    assert.equal(ctx.discovery.cacheSize, 50, 'discovery cache at its bound');
    assert.ok(ctx.peerKeys.cacheSize <= 50, `peer key cache ${ctx.peerKeys.cacheSize} within its bound`);
    // one TXT query per forged domain: never a second discovery of the same iss
    const txt = resolver.queries.filter((q) => q.startsWith('TXT _pullmail.f'));
    assert.equal(txt.length, batches * per);
    assert.equal(new Set(txt).size, txt.length);
    // responsive: health answers and a repeated forged iss (still cached) costs no lookup
    assert.equal((await b.api('/healthz')).status, 200);
    const again = await b.api('/pm/v1/notify', { method: 'POST', body: forged(`f${batches - 1}-${per - 1}.flood.invalid`), headers: { 'content-type': 'application/jose' } });
    assert.equal(again.status, 401);
    assert.equal(resolver.queries.filter((q) => q.startsWith('TXT _pullmail.f')).length, batches * per);
  });
});

describe('lookups one client address may cause', () => {
  const resolver = createFakeResolver();
  let b: TestNode;

  before(async () => {
    b = await startNode({ domain: 'b.test', resolver, env: { PULLMAIL_LOOKUP_RATE_CLIENT: '5/3600' } });
    await b.addUser('bob@b.test');
  });
  after(() => b?.stop());

  it('stop at PULLMAIL_LOOKUP_RATE_CLIENT: later forged domains get 429 and cost no lookup', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) {
      const res = await b.api('/pm/v1/notify', { method: 'POST', body: forged(`r${i}.flood.invalid`), headers: { 'content-type': 'application/jose' } });
      statuses.push(res.status);
      if (res.status === 429) assert.ok(Number(res.headers.get('retry-after')) >= 1, 'Retry-After');
      await res.arrayBuffer();
    }
    assert.deepEqual(statuses, [...Array(5).fill(401), ...Array(15).fill(429)]);
    assert.equal(resolver.queries.filter((q) => q.startsWith('TXT _pullmail.r')).length, 5);
    // a known, cached domain is not a lookup: still answered (here: our own domain, 401 for the forged key)
    const own = await b.api('/pm/v1/notify', { method: 'POST', body: forged('b.test'), headers: { 'content-type': 'application/jose' } });
    assert.equal(own.status, 401);
  });
});
