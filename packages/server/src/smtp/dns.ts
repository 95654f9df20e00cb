// The SMTP gateway's DNS through the node's injectable DnsResolver (peers/discovery.ts): mailauth's
// `resolver(name, rrtype)` for SPF/DKIM/DMARC, smtp-server's reverse lookup, and MX lookups.
import { isIPv4, isIPv6 } from 'node:net';
import type { DnsResolver } from '../peers/discovery.ts';

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
