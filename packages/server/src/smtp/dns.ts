// The SMTP gateway's DNS through the node's injectable DnsResolver (peers/discovery.ts): mailauth's
// `resolver(name, rrtype)` for SPF/DKIM/DMARC, smtp-server's reverse lookup, and MX lookups.
import { isIPv4, isIPv6 } from 'node:net';
import { LRUCache } from 'lru-cache';
import type { DnsResolver } from '../peers/discovery.ts';

/** How long the gateway keeps a DNS answer, or a "no such name / no such record" (RFC 2308 negative caching). */
export const DNS_CACHE_MS = 60_000;
const DNS_CACHE_ENTRIES = 10_000;
/** Answers that say the record is not there: as cacheable as an answer. Timeouts and server failures are not kept. */
const NEGATIVE = new Set(['ENOTFOUND', 'ENODATA']);

/**
 * The SMTP gateway's lookups (reverse lookup, SPF, DKIM, DMARC) through a small cache: mail from one
 * sender asks the same names for every message, and a resolver that drops a query under load stalls
 * that session for its whole timeout (issue 15: 5 s on this machine's resolver, 13 msgs/s from outside).
 * Concurrent identical lookups share one query. `now` is the node's clock.
 */
export function cachingResolver(resolver: DnsResolver, now: () => number, ttlMs = DNS_CACHE_MS): DnsResolver & Required<Pick<DnsResolver, 'resolve'>> {
  const cache = new LRUCache<string, { until: number; answer?: unknown; error?: Error }>({ max: DNS_CACHE_ENTRIES });
  const inFlight = new Map<string, Promise<unknown>>();
  function cached<T>(key: string, ask: () => Promise<T>): Promise<T> {
    const hit = cache.get(key);
    if (hit && hit.until > now()) return hit.error ? Promise.reject(hit.error) : Promise.resolve(hit.answer as T);
    let pending = inFlight.get(key) as Promise<T> | undefined;
    if (!pending) {
      pending = ask().then(
        (answer) => (cache.set(key, { until: now() + ttlMs, answer }), answer),
        (err: Error & { code?: string }) => {
          if (NEGATIVE.has(err.code ?? '')) cache.set(key, { until: now() + ttlMs, error: err });
          throw err;
        },
      );
      const settled = () => inFlight.delete(key);
      pending.then(settled, settled);
      inFlight.set(key, pending);
    }
    return pending;
  }
  return {
    resolveTxt: (name) => cached(`TXT ${name.toLowerCase()}`, () => resolver.resolveTxt(name)),
    resolveMx: (name) => cached(`MX ${name.toLowerCase()}`, () => resolver.resolveMx(name)),
    resolve: (name, rrtype) => {
      const type = rrtype.toUpperCase();
      if (type === 'TXT') return cached(`TXT ${name.toLowerCase()}`, () => resolver.resolveTxt(name));
      if (type === 'MX') return cached(`MX ${name.toLowerCase()}`, () => resolver.resolveMx(name));
      const ask = resolver.resolve;
      if (!ask) return Promise.reject(notFound(`${type} ${name}`));
      return cached(`${type} ${name.toLowerCase()}`, () => ask(name, type));
    },
  };
}

const notFound = (what: string) => Object.assign(new Error(`${what} ENOTFOUND`), { code: 'ENOTFOUND' });

/** mailauth's `resolver` option: answers shaped like node:dns `resolve(name, rrtype)`. */
export function mailauthResolver(resolver: DnsResolver): (name: string, rrtype: string) => Promise<any> {
  return async (name, rrtype) => {
    const type = rrtype.toUpperCase();
    if (type === 'TXT') return resolver.resolveTxt(name);
    if (type === 'MX') return resolver.resolveMx(name);
    if (!resolver.resolve) throw notFound(`${type} ${name}`);
    return resolver.resolve(name, type);
  };
}

/** The in-addr.arpa / ip6.arpa name of an address (RFC 1035 §3.5, RFC 3596 §2.5). */
export function reverseName(ip: string): string | undefined {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)?.[1];
  const v4 = mapped ?? (isIPv4(ip) ? ip : undefined);
  if (v4) return `${v4.split('.').reverse().join('.')}.in-addr.arpa`;
  if (!isIPv6(ip)) return undefined;
  const [head, tail = ''] = ip.toLowerCase().split('::');
  const groups = (s: string) => (s ? s.split(':') : []);
  const missing = 8 - groups(head).length - groups(tail).length;
  const full = [...groups(head), ...Array(ip.includes('::') ? missing : 0).fill('0'), ...groups(tail)];
  if (full.length !== 8) return undefined;
  return `${full.map((g) => g.padStart(4, '0')).join('').split('').reverse().join('.')}.ip6.arpa`;
}

/** smtp-server's `resolver` option (reverse lookup of the client) over our resolver. */
export function smtpServerResolver(resolver: DnsResolver) {
  return {
    reverse(ip: string, callback: (err: Error | null, hostnames?: string[]) => void) {
      const name = reverseName(ip);
      if (!name || !resolver.resolve) return callback(notFound(`PTR ${ip}`));
      resolver.resolve(name, 'PTR').then((names) => callback(null, names as string[]), (err: Error) => callback(err));
    },
  };
}

/** The client's network for greylisting: /24 for IPv4, /64 for IPv6 (senders retry from pools). */
export function clientNetwork(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)?.[1];
  const v4 = mapped ?? (isIPv4(ip) ? ip : undefined);
  if (v4) return `${v4.split('.').slice(0, 3).join('.')}.0/24`;
  const arpa = reverseName(ip);
  if (!arpa) return ip;
  const nibbles = arpa.split('.').slice(0, 32).reverse().join('');
  return `${nibbles.slice(0, 16).match(/.{4}/g)!.join(':')}::/64`;
}
