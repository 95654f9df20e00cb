// Refusal of loopback, private, link-local and other non-public addresses for outbound connections
// (SSRF guard), unless PULLMAIL_ALLOW_PRIVATE_PEERS: the one guard for HTTP to peers (fetcher.ts) and
// SMTP out (smtp/send-smtp.ts, the sender callout in smtp/smtp-probe.ts). Checked both for IP literals
// and for every address a host name resolves to; the connection then goes to an address checked here.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { PullmailError } from '../errors.ts';

const blocked = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24],
  ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) blocked.addSubnet(net, prefix, 'ipv4');
// Not ::ffff:0:0/96: in a BlockList it matches every IPv4 address. Mapped addresses are unwrapped below.
for (const [net, prefix] of [['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8], ['2001:db8::', 32], ['64:ff9b::', 96]] as const) {
  blocked.addSubnet(net, prefix, 'ipv6');
}

/** True when `ip` is not a public unicast address. Non-IP input counts as not public. */
export function isPrivateAddress(ip: string): boolean {
  const bare = ip.replace(/^\[|\]$/g, '');
  const family = isIP(bare);
  if (family === 4) return blocked.check(bare, 'ipv4');
  if (family === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare);
    if (mapped) return blocked.check(mapped[1], 'ipv4');
    return blocked.check(bare, 'ipv6');
  }
  return true;
}

/** The error for a refused address; `private_address` is permanent (the same name resolves the same way). */
export function privateAddressError(what: string): PullmailError {
  return new PullmailError('private_address', `refusing private address: ${what} (set PULLMAIL_ALLOW_PRIVATE_PEERS=1 to allow)`);
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A node:dns `lookup` that fails with `private_address` when any address of the name is not public
 * (one bad address is enough: a name that also resolves to 127.0.0.1 could be made to use it).
 * For undici's connector and `net.connect({ lookup })`.
 */
export function guardedLookup(hostname: string, options: { all?: boolean; family?: number }, callback: LookupCallback): void {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, []);
    const bad = addresses.find((a) => isPrivateAddress(a.address));
    if (bad) return callback(privateAddressError(`${hostname} resolves to ${bad.address}`), []);
    if (options.all) return callback(null, addresses);
    callback(null, addresses[0].address, addresses[0].family);
  });
}

/**
 * One public address of `host` (an IP literal or a name) to connect to.
 * @throws PullmailError `private_address`, or `peer_unreachable` (temporary) when the name does not resolve.
 */
export function publicAddress(host: string): Promise<string> {
  const bare = host.replace(/^\[|\]$/g, '');
  if (isIP(bare)) return isPrivateAddress(bare) ? Promise.reject(privateAddressError(bare)) : Promise.resolve(bare);
  return new Promise((resolve, reject) => {
    guardedLookup(bare, {}, (err, address) => {
      if (err instanceof PullmailError) return reject(err);
      if (err) return reject(new PullmailError('peer_unreachable', `${bare}: ${err.code ?? err.message}`, { temporary: true, cause: err }));
      resolve(address as string);
    });
  });
}
