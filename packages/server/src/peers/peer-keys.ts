// Public keys of other nodes, from the JWKS of the node discovery gives for a domain (protocol §1
// authority rule). Cached for at most an hour; an unknown kid triggers one refetch, rate-limited.
import { importJWK, type CryptoKey } from 'jose';
import { z } from 'zod';
import { PullmailError } from '../errors.ts';
import type { KeySet } from '../protocol/key-set.ts';
import type { Discovery } from './discovery.ts';
import type { Fetcher } from './fetcher.ts';
import { singleFlight } from './single-flight.ts';

const TTL_MS = 3600_000;
const REFETCH_GAP_MS = 30_000;
const JWKS_MAX_BYTES = 64 * 1024;

const jwksSchema = z.object({ keys: z.array(z.record(z.string(), z.unknown())).max(100) });

export interface PeerKeys {
  /**
   * The Ed25519 key `kid` of the node serving `domain`.
   * @throws PullmailError `unknown_key` when that node does not publish it, or a temporary error.
   */
  keyFor(domain: string, kid: string): Promise<CryptoKey>;
}

export function createPeerKeys(opts: { discovery: Discovery; fetcher: Fetcher; now?: () => number }): PeerKeys {
  const now = opts.now ?? Date.now;
  const cache = new Map<string, { keys: Map<string, CryptoKey>; fetchedAt: number }>();
  // concurrent verifications for one peer (a batch checks 8 at a time) share one JWKS fetch
  const loading = singleFlight<Map<string, CryptoKey>>();
  const load = (domain: string) => loading(domain, () => fetchKeys(domain));

  async function fetchKeys(domain: string): Promise<Map<string, CryptoKey>> {
    const node = await opts.discovery.discover(domain);
    if (!node) throw new PullmailError('unknown_key', `${domain} has no pull node`);
    const res = await opts.fetcher.fetch(node.jwksUri, { maxBytes: JWKS_MAX_BYTES, headers: { accept: 'application/json' } });
    if (res.status !== 200) throw new PullmailError('peer_error', `${node.jwksUri} answered ${res.status}`, { temporary: true });
    let parsed;
    try {
      parsed = jwksSchema.parse(JSON.parse(res.body.toString('utf8')));
    } catch {
      throw new PullmailError('peer_error', `${node.jwksUri} is not a JWKS`);
    }
    const keys = new Map<string, CryptoKey>();
    for (const jwk of parsed.keys) {
      // only Ed25519 signing keys count; anything else in the set is ignored
      if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || typeof jwk.kid !== 'string' || typeof jwk.x !== 'string' || 'd' in jwk) continue;
      if (jwk.alg !== undefined && jwk.alg !== 'EdDSA') continue;
      try {
        keys.set(jwk.kid, (await importJWK({ kty: 'OKP', crv: 'Ed25519', x: jwk.x }, 'EdDSA')) as CryptoKey);
      } catch {
        // a malformed key is skipped, not fatal
      }
    }
    cache.set(domain, { keys, fetchedAt: now() });
    return keys;
  }

  return {
    async keyFor(rawDomain, kid) {
      const domain = rawDomain.toLowerCase();
      const hit = cache.get(domain);
      let keys = hit && now() - hit.fetchedAt < TTL_MS ? hit.keys : await load(domain);
      if (!keys.has(kid) && hit && keys === hit.keys && now() - hit.fetchedAt > REFETCH_GAP_MS) keys = await load(domain);
      const key = keys.get(kid);
      if (!key) throw new PullmailError('unknown_key', `${domain} does not publish key ${kid}`);
      return key;
    },
  };
}

/** Answers for this node's own domains from its own key set, and from peers' JWKS otherwise. */
export function withOwnKeys(ownDomains: readonly string[], own: KeySet, peers: PeerKeys): PeerKeys {
  return {
    async keyFor(domain, kid) {
      if (!ownDomains.includes(domain.toLowerCase())) return peers.keyFor(domain, kid);
      const key = own.publicKey(kid);
      if (!key) throw new PullmailError('unknown_key', `${domain} does not publish key ${kid}`);
      return key;
    },
  };
}
