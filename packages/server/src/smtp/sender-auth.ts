// SPF, DKIM and DMARC for mail arriving at the MX (RFC 7208, 6376, 7489) with mailauth, through the
// node's injectable resolver. Returns the trace fields to prepend and what the gateway acts on.
import { authenticate } from 'mailauth';
import type { DnsResolver } from '../peers/discovery.ts';
import { mailauthResolver } from './dns.ts';

export interface SenderAuth {
  /** `Received-SPF` and `Authentication-Results` fields, CRLF-terminated, to prepend. */
  headers: string;
  spf: string;
  dmarc: string;
  /** Effective DMARC policy of the author domain when DMARC failed ('none' | 'quarantine' | 'reject'). */
  dmarcFailPolicy?: string;
  /** The author domain DMARC was evaluated for. */
  authorDomain?: string;
  /** Domains proven by an SPF pass (envelope domain) or a passing DKIM signature (d=). */
  verifiedDomains: string[];
}

export async function checkSenderAuth(
  raw: Buffer,
  opts: { ip: string; helo: string; sender: string; authservId: string; resolver: DnsResolver },
): Promise<SenderAuth> {
  const r = await authenticate(raw, {
    ip: opts.ip,
    helo: opts.helo,
    sender: opts.sender,
    mta: opts.authservId,
    resolver: mailauthResolver(opts.resolver),
    disableArc: true,
    disableBimi: true,
  });
  const spfPass = r.spf && r.spf.status.result === 'pass' ? [r.spf.domain] : [];
  const dkimPass = r.dkim.results.filter((d) => d.status.result === 'pass' && d.signingDomain).map((d) => d.signingDomain!.toLowerCase());
  const dmarcFailed = r.dmarc && r.dmarc.status.result === 'fail';
  return {
    headers: r.headers,
    spf: r.spf ? r.spf.status.result : 'none',
    dmarc: r.dmarc ? r.dmarc.status.result : 'none',
    dmarcFailPolicy: dmarcFailed ? (r.dmarc as { policy: string }).policy : undefined,
    authorDomain: r.dmarc ? r.dmarc.status.header?.from : undefined,
    verifiedDomains: [...new Set([...spfPass.map((d) => d.toLowerCase()), ...dkimPass])],
  };
}

/** True when `address`'s domain is one of `domains` or a subdomain of one (relaxed alignment). */
export function isVerifiedSender(address: string, domains: readonly string[]): boolean {
  const domain = address.slice(address.lastIndexOf('@') + 1).toLowerCase();
  return domains.some((d) => domain === d || domain.endsWith(`.${d}`));
}
