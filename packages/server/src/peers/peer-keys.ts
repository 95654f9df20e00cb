// Public keys of other nodes, from the JWKS of the node discovery gives for a domain (protocol §1
// authority rule). Cached for at most an hour in a bounded LRU; an unknown kid triggers one refetch,
// rate-limited. A JWKS naming one kid twice is refused. Keys are kept as node:crypto KeyObjects, imported
// once per JWKS fetch, never per verification.
import type { KeyObject } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { z } from 'zod';
import { PullmailError } from '../errors.ts';
import { ed25519PublicKey, type KeySet } from '../protocol/key-set.ts';
import type { Discovery } from './discovery.ts';
import type { Fetcher } from './fetcher.ts';
import { openGate, withDeadline, type LookupGate } from './lookup-gate.ts';
import { singleFlight } from './single-flight.ts';

const TTL_MS = 3600_000;
const REFETCH_GAP_MS = 30_000;
const JWKS_MAX_BYTES = 64 * 1024;
/** Most keys one JWKS may hold: retired keys stay published for a year and a day, so a node that rotates often lists many. */
export const MAX_JWKS_KEYS = 100;

const jwksSchema = z.object({ keys: z.array(z.record(z.string(), z.unknown())).max(MAX_JWKS_KEYS) });

export interface PeerKeys {
  /**
   * The Ed25519 key `kid` of the node serving `domain`. With `client` (who sent the unverified token),
   * a discovery and JWKS fetch the cache cannot answer must pass the lookup gate (`rate_limited`).
   * @throws PullmailError `unknown_key` when that node does not publish it, or a temporary error.
   */
  keyFor(domain: string, kid: string, opts?: { client?: string }): Promise<KeyObject>;
  /** Domains with cached keys (bounded). */
  readonly cacheSize: number;
}

export function createPeerKeys(opts: { discovery: Discovery; fetcher: Fetcher; now?: () => number; gate?: LookupGate; maxEntries?: number; deadlineMs?: number }): PeerKeys {
  const now = opts.now ?? Date.now;
  const gate = opts.gate ?? openGate;
  const deadlineMs = opts.deadlineMs ?? 15_000;
  const cache = new LRUCache<string, { keys: Map<string, KeyObject>; fetchedAt: number }>({ max: opts.maxEntries ?? 10_000 });
  // concurrent verifications for one peer (a batch checks 8 at a time) share one JWKS fetch
  const loading = singleFlight<Map<string, KeyObject>>();
  const load = (domain: string, client: string | undefined) =>
    loading(domain, async () => {
      // one admission covers the discovery and the JWKS fetch: the discovery runs inside this one
      const leave = client === undefined ? () => undefined : gate.enter(client);
      try {
        return await withDeadline(fetchKeys(domain), deadlineMs, `keys of ${domain}`);
      } finally {
        leave();
      }
    });

  async function fetchKeys(domain: string): Promise<Map<string, KeyObject>> {
    const node = await opts.discovery.discover(domain);
    if (!node) {
      // remembered as a node without keys: a flood of tokens claiming this domain costs no more lookups
      cache.set(domain, { keys: new Map(), fetchedAt: now() });
      throw new PullmailError('unknown_key', `${domain} has no pull node`);
    }
    const res = await opts.fetcher.fetch(node.jwksUri, { maxBytes: JWKS_MAX_BYTES, deadlineMs, headers: { accept: 'application/json' } });
    if (res.status !== 200) throw new PullmailError('peer_error', `${node.jwksUri} answered ${res.status}`, { temporary: true });
    let parsed;
    try {
      parsed = jwksSchema.parse(JSON.parse(res.body.toString('utf8')));
    } catch {
      throw new PullmailError('peer_error', `${node.jwksUri} is not a JWKS`);
    }
    // protocol §1: a kid names one key; a set naming one twice could verify with either, so none counts
    const kids = parsed.keys.map((k) => k.kid).filter((k) => typeof k === 'string');
    if (new Set(kids).size !== kids.length) throw new PullmailError('peer_error', `${node.jwksUri} names a kid twice`);
    const keys = new Map<string, KeyObject>();
    for (const jwk of parsed.keys) {
      // only Ed25519 signing keys count; anything else in the set is ignored
      if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || typeof jwk.kid !== 'string' || typeof jwk.x !== 'string' || 'd' in jwk) continue;
      if (jwk.alg !== undefined && jwk.alg !== 'EdDSA') continue;
      try {
        keys.set(jwk.kid, ed25519PublicKey({ kty: 'OKP', crv: 'Ed25519', x: jwk.x }));
      } catch {
        // a malformed key is skipped, not fatal
      }
    }
    cache.set(domain, { keys, fetchedAt: now() });
    return keys;
  }

  return {
    async keyFor(rawDomain, kid, o = {}) {
      const domain = rawDomain.toLowerCase();
      const hit = cache.get(domain);
      let keys = hit && now() - hit.fetchedAt < TTL_MS ? hit.keys : await load(domain, o.client);
      if (!keys.has(kid) && hit && keys === hit.keys && now() - hit.fetchedAt > REFETCH_GAP_MS) keys = await load(domain, o.client);
      const key = keys.get(kid);
      if (!key) throw new PullmailError('unknown_key', `${domain} does not publish key ${kid}`);
      return key;
    },
    get cacheSize() {
      return cache.size;
    },
  };
}

/** Answers for this node's own domains from its own key set, and from peers' JWKS otherwise. */
export function withOwnKeys(ownDomains: readonly string[], own: KeySet, peers: PeerKeys): PeerKeys {
  return {
    get cacheSize() {
      return peers.cacheSize;
    },
    async keyFor(domain, kid, opts) {
      if (!ownDomains.includes(domain.toLowerCase())) return peers.keyFor(domain, kid, opts);
      const key = own.publicKey(kid);
      if (!key) throw new PullmailError('unknown_key', `${domain} does not publish key ${kid}`);
      return key;
    },
  };
}
