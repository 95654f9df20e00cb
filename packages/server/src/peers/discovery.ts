// Discovery of a mail domain's pull node (protocol §1): static peer map, then DNS TXT
// `_pullmail.<domain>`, then https://<domain>/.well-known/pullmail. No match means a legacy domain.
// Answers are cached in a bounded LRU (a node 1 h, a legacy domain 5 min; failures are not, so a peer
// that fixed its setup is found at once), and a lookup the cache cannot answer passes the lookup gate
// when a client's unverified request caused it.
import { Resolver } from 'node:dns/promises';
import { PROTOCOL_VERSION } from '@pullmail/client/wire';
import { LRUCache } from 'lru-cache';
import { z } from 'zod';
import { PullmailError } from '../errors.ts';
import type { Fetcher } from './fetcher.ts';
import { openGate, withDeadline, type LookupGate } from './lookup-gate.ts';
import { singleFlight } from './single-flight.ts';

/** What we know about another node, from its metadata. */
export interface PeerNode {
  /** Base URL, no trailing slash. */
  base: string;
  origin: string;
  notify: string;
  jwksUri: string;
  domains: string[];
  maxMessageBytes: number;
  /** Which discovery step found it. */
  source: 'static' | 'dns' | 'well-known';
}

/** The DNS calls pullmail makes; a fake replaces it in tests. */
export interface DnsResolver {
  resolveTxt(name: string): Promise<string[][]>;
  resolveMx(name: string): Promise<{ exchange: string; priority: number }[]>;
  /**
   * Any other record type (A, AAAA, PTR… as node:dns `resolve` answers them), for SPF/DMARC checks and
   * reverse lookups in the SMTP gateway. Optional: without it those lookups find nothing.
   */
  resolve?(name: string, rrtype: string): Promise<unknown[]>;
}

export function systemResolver(): DnsResolver {
  const r = new Resolver({ timeout: 5000, tries: 2 });
  return { resolveTxt: (n) => r.resolveTxt(n), resolveMx: (n) => r.resolveMx(n), resolve: (n, t) => r.resolve(n, t) as Promise<unknown[]> };
}

export interface Discovery {
  /**
   * The node serving `domain`, or null for a legacy (SMTP-only) domain. Throws a temporary error when unsure.
   * With `client` (the address of an unverified request's sender) a lookup the cache cannot answer must
   * pass the lookup gate first, which may throw `rate_limited`.
   */
  discover(domain: string, opts?: { client?: string }): Promise<PeerNode | null>;
  /** Drops the cached answer for a domain (after a peer changed). */
  forget(domain: string): void;
  /** Domains with a cached answer (bounded by `maxEntries`). */
  readonly cacheSize: number;
}

/** Most domains one node's metadata may list (a larger list is refused as not pm1). */
export const MAX_METADATA_DOMAINS = 1000;

const metadataSchema = z.object({
  version: z.literal(PROTOCOL_VERSION),
  domains: z.array(z.string().max(253)).max(MAX_METADATA_DOMAINS),
  notify: z.string().url(),
  jwks_uri: z.string().url(),
  max_message_bytes: z.number().int().positive().optional(),
});

const POSITIVE_TTL_MS = 3600_000; // protocol §1: cache metadata at most 1 h
const NEGATIVE_TTL_MS = 300_000;
const METADATA_MAX_BYTES = 64 * 1024;
/** Default overall deadline of one discovery, all steps together. */
const DEADLINE_MS = 15_000;

/** Parses `v=pm1; node=https://host/` (protocol §1). Returns the node base URL or undefined. */
export function parseTxtRecord(txt: string): string | undefined {
  const fields = new Map<string, string>();
  for (const part of txt.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim());
  }
  if (fields.get('v') !== PROTOCOL_VERSION) return undefined;
  const node = fields.get('node');
  if (!node) return undefined;
  try {
    const url = new URL(node);
    if (url.protocol !== 'https:' || url.username || url.password || url.search || url.hash) return undefined;
    return url.href.replace(/\/+$/, '');
  } catch {
    return undefined;
  }
}

export function createDiscovery(opts: {
  peers: ReadonlyMap<string, string>;
  resolver: DnsResolver;
  fetcher: Fetcher;
  now?: () => number;
  /** Admits lookups caused by unverified requests (default: no limit). */
  gate?: LookupGate;
  /** Most domains whose answer is kept (PULLMAIL_PEER_CACHE_ENTRIES); the least recently used go first. */
  maxEntries?: number;
  /** Overall deadline of one discovery, ms (PULLMAIL_LOOKUP_DEADLINE_SECONDS). */
  deadlineMs?: number;
}): Discovery {
  const now = opts.now ?? Date.now;
  const gate = opts.gate ?? openGate;
  const deadlineMs = opts.deadlineMs ?? DEADLINE_MS;
  type Entry = { node: PeerNode | null; until: number };
  // sized by the domains a node lists, so 10 000 entries of 1000 domains each cannot pile up
  const maxEntries = opts.maxEntries ?? 10_000;
  const cache = new LRUCache<string, Entry>({
    max: maxEntries,
    maxSize: maxEntries * 10,
    sizeCalculation: (e) => 1 + Math.min(e.node?.domains.length ?? 0, maxEntries * 10 - 1),
  });

  async function readMetadata(base: string, domain: string, source: PeerNode['source']): Promise<PeerNode> {
    const origin = new URL(base).origin;
    const res = await opts.fetcher.fetch(`${base}/.well-known/pullmail`, { maxBytes: METADATA_MAX_BYTES, deadlineMs, headers: { accept: 'application/json' } });
    if (res.status !== 200) {
      throw new PullmailError('peer_error', `${base}: metadata answered ${res.status}`, { temporary: res.status >= 500 || res.status === 429 });
    }
    let parsed;
    try {
      parsed = metadataSchema.parse(JSON.parse(res.body.toString('utf8')));
    } catch {
      throw new PullmailError('peer_error', `${base}: metadata is not pm1 JSON`);
    }
    // protocol §1: notify and jwks_uri must share the node's origin; metadata pointing elsewhere is ignored
    if (new URL(parsed.notify).origin !== origin || new URL(parsed.jwks_uri).origin !== origin) {
      throw new PullmailError('peer_error', `${base}: metadata points to another origin`);
    }
    const domains = parsed.domains.map((d) => d.toLowerCase());
    if (!domains.includes(domain)) throw new PullmailError('peer_error', `${base} does not serve ${domain}`);
    return { base, origin, notify: parsed.notify, jwksUri: parsed.jwks_uri, domains, maxMessageBytes: parsed.max_message_bytes ?? 26_214_400, source };
  }

  async function txtBase(domain: string): Promise<string | undefined> {
    let records: string[][];
    try {
      records = await opts.resolver.resolveTxt(`_pullmail.${domain}`);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOTFOUND' || code === 'ENODATA' || code === 'NXDOMAIN') return undefined;
      throw new PullmailError('peer_unreachable', `DNS TXT _pullmail.${domain}: ${code ?? (err as Error).message}`, { cause: err, temporary: true });
    }
    const bases = new Set<string>();
    for (const chunks of records) {
      const base = parseTxtRecord(chunks.join(''));
      if (base) bases.add(base);
    }
    // protocol §1: two pm1 records naming different nodes fail closed: neither is trusted, and the
    // domain is not taken for a legacy one either (its mail must not go out by SMTP on a DNS mistake)
    if (bases.size > 1) throw new PullmailError('peer_error', `DNS TXT _pullmail.${domain}: conflicting pm1 records (${[...bases].join(', ')})`, { temporary: true });
    return bases.values().next().value;
  }

  async function resolve(domain: string): Promise<PeerNode | null> {
    const fixed = opts.peers.get(domain);
    if (fixed) return readMetadata(fixed, domain, 'static');
    const fromDns = await txtBase(domain);
    if (fromDns) return readMetadata(fromDns, domain, 'dns');
    try {
      return await readMetadata(`https://${domain}`, domain, 'well-known');
    } catch (err) {
      // a server at the domain that is failing right now (5xx, 429) may be a pull node having a bad
      // minute: try again later rather than sending its mail out by SMTP
      if (err instanceof PullmailError && err.code === 'peer_error' && err.temporary) throw err;
      // nothing answering, 404, not pm1 JSON, private address: a legacy domain
      if (err instanceof PullmailError) return null;
      throw err;
    }
  }

  // concurrent lookups of one domain share one resolution
  const resolving = singleFlight<PeerNode | null>();

  async function lookup(domain: string): Promise<PeerNode | null> {
    const node = await withDeadline(resolve(domain), deadlineMs, `discovery of ${domain}`);
    cache.set(domain, { node, until: now() + (node ? POSITIVE_TTL_MS : NEGATIVE_TTL_MS) });
    return node;
  }

  return {
    async discover(rawDomain, o = {}) {
      const domain = rawDomain.toLowerCase();
      const hit = cache.get(domain);
      if (hit && hit.until > now()) return hit.node;
      return resolving(domain, async () => {
        // protocol §2: a lookup an unverified notification causes is admitted per client address
        const leave = o.client === undefined ? () => undefined : gate.enter(o.client);
        try {
          return await lookup(domain);
        } finally {
          leave();
        }
      });
    },
    forget: (domain) => void cache.delete(domain.toLowerCase()),
    get cacheSize() {
      return cache.size;
    },
  };
}
