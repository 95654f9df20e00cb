import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { KeyObject } from 'node:crypto';
import { CompactSign, compactVerify, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import { peerMetadata, startPeerServer, type PeerServer } from '../../../../test/harness/peer-server.ts';
import { isPullmailError } from '../errors.ts';
import { createDiscovery } from './discovery.ts';
import { createFakeResolver } from './fake-resolver.ts';
import { createFetcher, type Fetcher } from './fetcher.ts';
import { createLookupGate } from './lookup-gate.ts';
import { createPeerKeys, MAX_JWKS_KEYS, type PeerKeys } from './peer-keys.ts';

const JWKS = '/.well-known/pullmail/jwks.json';

interface TestKey {
  kid: string;
  privateKey: CryptoKey;
  /** The public JWK as a node publishes it. */
  jwk: JWK;
}

async function newKey(kid: string): Promise<TestKey> {
  const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'EdDSA', use: 'sig' } };
}

/** True when `key` verifies a signature made with `signer`'s private key. */
async function verifies(key: KeyObject, signer: TestKey): Promise<boolean> {
  const jws = await new CompactSign(new TextEncoder().encode('hello')).setProtectedHeader({ alg: 'EdDSA', kid: signer.kid }).sign(signer.privateKey);
  return compactVerify(jws, key).then(
    () => true,
    () => false,
  );
}

describe('createPeerKeys', () => {
  let peer: PeerServer;
  let fetcher: Fetcher;
  let first: TestKey;
  let second: TestKey;
  let clock: number;
  let keys: PeerKeys;
  const now = () => clock;

  before(async () => {
    peer = await startPeerServer({ domains: ['b.test'] });
    fetcher = createFetcher({ allowPrivate: true });
    first = await newKey('key-1');
    second = await newKey('key-2');
  });
  after(async () => {
    await fetcher.close();
    await peer.close();
  });
  beforeEach(() => {
    clock = 1_000_000;
    peer.requests.length = 0;
    peer.jwks = { keys: [first.jwk] };
    const discovery = createDiscovery({ peers: new Map([['b.test', peer.url]]), resolver: createFakeResolver(), fetcher, now });
    keys = createPeerKeys({ discovery, fetcher, now });
  });

  it('returns the key the peer publishes under that kid', async () => {
    const key = await keys.keyFor('b.test', 'key-1');
    assert.equal(await verifies(key, first), true);
    assert.equal(await verifies(key, second), false, 'control: another key does not verify');
    assert.equal(peer.count(JWKS), 1);
  });

  it('shares one fetch among concurrent lookups for one peer (a batch verifies 8 at a time)', async () => {
    const found = await Promise.all(Array.from({ length: 8 }, () => keys.keyFor('b.test', 'key-1')));
    for (const key of found) assert.equal(await verifies(key, first), true);
    assert.equal(peer.count(JWKS), 1);
  });

  it('picks the right key out of several', async () => {
    peer.jwks = { keys: [first.jwk, second.jwk] };
    assert.equal(await verifies(await keys.keyFor('b.test', 'key-2'), second), true);
    assert.equal(await verifies(await keys.keyFor('b.test', 'key-1'), first), true);
  });

  it('refuses a key set that names one kid twice, even for the kid it names once', async () => {
    const twin = await newKey('key-1');
    peer.jwks = { keys: [first.jwk, twin.jwk, second.jwk] };
    await assert.rejects(keys.keyFor('b.test', 'key-2'), (err: unknown) => isPullmailError(err, 'peer_error') && /kid twice/.test(err.message));
    await assert.rejects(keys.keyFor('b.test', 'key-1'), (err: unknown) => isPullmailError(err, 'peer_error'));
  });

  it('refuses a key set with more keys than the limit', async () => {
    peer.jwks = { keys: [first.jwk, ...Array.from({ length: MAX_JWKS_KEYS }, (_, i) => ({ ...second.jwk, kid: `k${i}` }))] };
    await assert.rejects(keys.keyFor('b.test', 'key-1'), (err: unknown) => isPullmailError(err, 'peer_error') && /not a JWKS/.test(err.message));
  });

  it('keeps keys of at most maxEntries domains', async () => {
    const domains = ['b.test', 'c.test', 'd.test', 'e.test'];
    const before = peer.metadata;
    peer.metadata = peerMetadata(peer.url, domains);
    try {
      const discovery = createDiscovery({ peers: new Map(domains.map((d) => [d, peer.url])), resolver: createFakeResolver(), fetcher, now });
      const small = createPeerKeys({ discovery, fetcher, now, maxEntries: 2 });
      for (const d of domains) await small.keyFor(d, 'key-1');
      assert.equal(small.cacheSize, 2);
      assert.equal(peer.count(JWKS), 4);
    } finally {
      peer.metadata = before;
    }
  });

  it('costs a client one admission for discovery and key set together, and none when cached', async () => {
    const gate = createLookupGate({ perClient: { count: 1, seconds: 60 }, total: { count: 100, seconds: 60 }, maxConcurrent: 4, maxConcurrentPerClient: 1 }, now);
    const discovery = createDiscovery({ peers: new Map([['b.test', peer.url]]), resolver: createFakeResolver(), fetcher, now, gate });
    const gated = createPeerKeys({ discovery, fetcher, now, gate });
    await gated.keyFor('b.test', 'key-1', { client: '192.0.2.9' });
    await gated.keyFor('b.test', 'key-1', { client: '192.0.2.9' });
    await assert.rejects(gated.keyFor('c.test', 'key-1', { client: '192.0.2.9' }), (err: unknown) => isPullmailError(err, 'rate_limited'));
    assert.equal(peer.count(JWKS), 1);
  });

  it('refuses a kid the peer does not publish with unknown_key', async () => {
    await assert.rejects(keys.keyFor('b.test', 'key-2'), (err: unknown) => isPullmailError(err, 'unknown_key') && /key-2/.test(err.message));
  });

  it('answers from its cache within the hour', async () => {
    await keys.keyFor('b.test', 'key-1');
    clock += 3_599_000;
    await keys.keyFor('B.Test', 'key-1');
    assert.equal(peer.count(JWKS), 1);
  });

  it('fetches the key set again once it is an hour old', async () => {
    await keys.keyFor('b.test', 'key-1');
    clock += 3_600_001;
    await keys.keyFor('b.test', 'key-1');
    assert.equal(peer.count(JWKS), 2);
  });

  it('refetches once on an unknown kid, but not more often than the gap allows', async () => {
    await keys.keyFor('b.test', 'key-1');
    peer.jwks = { keys: [first.jwk, second.jwk] }; // the peer rotates

    clock += 10_000; // too soon after the last fetch: no refetch, so the new key is not seen yet
    await assert.rejects(keys.keyFor('b.test', 'key-2'), (err: unknown) => isPullmailError(err, 'unknown_key'));
    assert.equal(peer.count(JWKS), 1);

    clock += 21_000; // 31 s after the fetch: one refetch finds the new key
    assert.equal(await verifies(await keys.keyFor('b.test', 'key-2'), second), true);
    assert.equal(peer.count(JWKS), 2);

    clock += 1_000; // an unknown kid right after that refetch: no new request
    await assert.rejects(keys.keyFor('b.test', 'no-such-key'), (err: unknown) => isPullmailError(err, 'unknown_key'));
    assert.equal(peer.count(JWKS), 2);

    clock += 60_000; // past the gap again: exactly one more request, then unknown_key
    await assert.rejects(keys.keyFor('b.test', 'no-such-key'), (err: unknown) => isPullmailError(err, 'unknown_key'));
    assert.equal(peer.count(JWKS), 3);
  });

  it('stops trusting a key the peer no longer publishes once it refetches', async () => {
    await keys.keyFor('b.test', 'key-1');
    peer.jwks = { keys: [second.jwk] };
    clock += 3_600_001;
    await assert.rejects(keys.keyFor('b.test', 'key-1'), (err: unknown) => isPullmailError(err, 'unknown_key'));
  });

  const ignored: [what: string, jwk: () => Record<string, unknown>][] = [
    ['a key with its private part (d) published', () => ({ ...first.jwk, kid: 'odd', d: 'AAAA' })],
    ['a key for another algorithm', () => ({ ...first.jwk, kid: 'odd', alg: 'RS256' })],
    ['an X25519 key (encryption, not signing)', () => ({ ...first.jwk, kid: 'odd', crv: 'X25519' })],
    ['a P-256 key', () => ({ kty: 'EC', crv: 'P-256', kid: 'odd', x: first.jwk.x, y: first.jwk.x })],
    ['a key with a malformed x', () => ({ ...first.jwk, kid: 'odd', x: 'not base64url!' })],
    ['a key with a numeric kid', () => ({ ...first.jwk, kid: 7 })],
  ];
  for (const [what, jwk] of ignored) {
    it(`ignores ${what} and still serves the good keys`, async () => {
      peer.jwks = { keys: [jwk(), first.jwk] };
      await assert.rejects(keys.keyFor('b.test', 'odd'), (err: unknown) => isPullmailError(err, 'unknown_key'));
      await assert.rejects(keys.keyFor('b.test', '7'), (err: unknown) => isPullmailError(err, 'unknown_key'));
      assert.equal(await verifies(await keys.keyFor('b.test', 'key-1'), first), true);
    });
  }

  it('reports a key set that is not JSON as a peer error', async () => {
    peer.jwks = 'not json' as never;
    await assert.rejects(keys.keyFor('b.test', 'key-1'), (err: unknown) => isPullmailError(err, 'peer_error') && !err.temporary);
  });

  it('refuses keys for a domain without a pull node', async () => {
    // a guarded fetcher refuses https://localhost (a private address), so discovery finds no node there
    const guarded = createFetcher({ allowPrivate: false });
    try {
      const discovery = createDiscovery({ peers: new Map(), resolver: createFakeResolver(), fetcher: guarded, now });
      const noNode = createPeerKeys({ discovery, fetcher: guarded, now });
      await assert.rejects(noNode.keyFor('localhost', 'key-1'), (err: unknown) => isPullmailError(err, 'unknown_key') && /no pull node/.test(err.message));
    } finally {
      await guarded.close();
    }
  });
});
