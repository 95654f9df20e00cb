// Where mail for a legacy domain goes (RFC 5321 §5.1): the smarthost PULLMAIL_SMTP_RELAY when set,
// else the domain's MX hosts by preference, the domain itself when it has no MX (implicit MX), and
// nowhere for a null MX (RFC 7505).
import type { DnsResolver } from '../peers/discovery.ts';
import { PullmailError } from '../errors.ts';

export interface SmtpHop {
  host: string;
  port: number;
  /** Implicit TLS (smtps://); otherwise STARTTLS when the server offers it. */
  secure: boolean;
  /** True for the configured relay (certificate checked), false for MX hosts (opportunistic TLS). */
  relay: boolean;
}

/** Parses PULLMAIL_SMTP_RELAY (`smtp://host:port` or `smtps://host:port`). */
export function relayHop(relay: string): SmtpHop {
  const url = new URL(relay);
  const secure = url.protocol === 'smtps:';
  return { host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port) || (secure ? 465 : 25), secure, relay: true };
}

/** The hosts to try for `domain`, best first. @throws PullmailError no_route (permanent) or peer_unreachable (temporary). */
export async function smtpRoute(domain: string, opts: { relay?: string; resolver: DnsResolver }): Promise<SmtpHop[]> {
  if (opts.relay) return [relayHop(opts.relay)];
  let mx: { exchange: string; priority: number }[];
  try {
    mx = await opts.resolver.resolveMx(domain);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENODATA') mx = [];
    else if (code === 'ENOTFOUND' || code === 'NXDOMAIN') throw new PullmailError('no_route', `${domain} does not exist (no such domain in DNS)`);
    else throw new PullmailError('peer_unreachable', `MX lookup for ${domain} failed: ${code ?? (err as Error).message}`, { temporary: true, cause: err });
  }
  if (mx.length === 0) return [{ host: domain, port: 25, secure: false, relay: false }];
  // RFC 7505: a single MX of "." means the domain takes no mail
  if (mx.some((m) => m.exchange === '' || m.exchange === '.')) throw new PullmailError('no_route', `${domain} accepts no mail (null MX)`);
  return [...mx].sort((a, b) => a.priority - b.priority).map((m) => ({ host: m.exchange.replace(/\.$/, ''), port: 25, secure: false, relay: false }));
}
