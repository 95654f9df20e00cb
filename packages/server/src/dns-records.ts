// The DNS records a mail domain of this node needs (`pullmail-server dns show <domain>`): MX, the pm1
// discovery TXT (protocol §1), SPF (RFC 7208), DKIM (RFC 6376), DMARC (RFC 7489), the autoconfig host
// Thunderbird looks up, and the mail-client SRV records of RFC 6186 and RFC 8314. Pure: config and key in,
// records out; the CLI prints them as zone-file lines.
import { isIP } from 'node:net';

export type DnsRecord =
  | { name: string; type: 'MX'; priority: number; exchange: string }
  | { name: string; type: 'TXT'; text: string }
  | { name: string; type: 'CNAME'; target: string }
  | { name: string; type: 'A' | 'AAAA'; address: string }
  | { name: string; type: 'SRV'; priority: number; weight: number; port: number; target: string };

export interface DomainSetup {
  /** The mail domain, a lower-case A-label. */
  domain: string;
  /** PULLMAIL_PUBLIC_URL: its host is the MX, the autoconfig target and the SRV target. */
  publicUrl: string;
  /** Client ports; 0 means the door is off. */
  imapPort: number;
  imapsPort: number;
  submissionPort: number;
  /** PULLMAIL_SMTP_RELAY, when outbound legacy mail leaves through a smarthost. */
  smtpRelay?: string;
  /** The domain's DKIM key record (smtp/dkim.ts `dkimRecord`). */
  dkim: { name: string; value: string };
}

/** Every record the domain needs, in the order `dns show` prints them. */
export function domainRecords(s: DomainSetup): DnsRecord[] {
  const d = s.domain;
  const url = new URL(s.publicUrl);
  const urlHost = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const ipVersion = isIP(urlHost);
  // MX and SRV targets must be host names (RFC 5321 §5.1, RFC 2782): a public URL on an IP address gets
  // a name of its own under the domain, with an address record
  const host = ipVersion ? `mail.${d}` : urlHost;
  const records: DnsRecord[] = [{ name: d, type: 'MX', priority: 10, exchange: host }];
  if (ipVersion) records.push({ name: host, type: ipVersion === 4 ? 'A' : 'AAAA', address: urlHost });
  // protocol §1: discovery reads `v=pm1; node=<base URL>`; the base is written with a trailing slash
  records.push({ name: `_pullmail.${d}`, type: 'TXT', text: `v=pm1; node=${s.publicUrl.replace(/\/+$/, '')}/` });
  // outbound legacy mail leaves from the MX host, or from the smarthost when one is configured
  const relayHost = s.smtpRelay ? new URL(s.smtpRelay).hostname.replace(/^\[(.*)\]$/, '$1') : undefined;
  const relay = relayHost ? ` ${isIP(relayHost) === 6 ? 'ip6' : isIP(relayHost) === 4 ? 'ip4' : 'a'}:${relayHost}` : '';
  records.push({ name: d, type: 'TXT', text: `v=spf1 mx${relay} -all` });
  records.push({ name: s.dkim.name, type: 'TXT', text: s.dkim.value });
  // every outbound message is DKIM-signed with d=<domain>, so aligned DKIM passes and quarantine is safe
  records.push({ name: `_dmarc.${d}`, type: 'TXT', text: 'v=DMARC1; p=quarantine; adkim=s; aspf=r' });
  // Thunderbird asks autoconfig.<domain> for /mail/config-v1.1.xml, which the node serves
  records.push(ipVersion
    ? { name: `autoconfig.${d}`, type: ipVersion === 4 ? 'A' : 'AAAA', address: urlHost }
    : { name: `autoconfig.${d}`, type: 'CNAME', target: host });
  // RFC 6186 §3: one SRV per service; RFC 6186 §3.4 / RFC 2782: target "." says the service is not offered.
  // The node has no implicit-TLS submission port, so _submissions (RFC 8314 §5.1) is always "not offered".
  const srv = (service: string, port: number): DnsRecord =>
    port
      ? { name: `_${service}._tcp.${d}`, type: 'SRV', priority: 0, weight: 1, port, target: host }
      : { name: `_${service}._tcp.${d}`, type: 'SRV', priority: 0, weight: 0, port: 0, target: '' };
  records.push(srv('imap', s.imapPort), srv('imaps', s.imapsPort), srv('submission', s.submissionPort), srv('submissions', 0));
  return records;
}

const fqdn = (name: string) => `${name}.`;

/** A TXT value as quoted strings of at most 255 characters (RFC 1035 §3.3.14), quotes and backslashes escaped. */
function txtStrings(text: string): string {
  const parts = text.match(/[^]{1,255}/g) ?? [''];
  return parts.map((p) => `"${p.replace(/["\\]/g, '\\$&')}"`).join(' ');
}

/** One record as a zone-file line (RFC 1035 §5.1), names fully qualified, no TTL (the zone's default applies). */
export function zoneLine(r: DnsRecord): string {
  const head = `${fqdn(r.name)} IN ${r.type}`;
  switch (r.type) {
    case 'MX':
      return `${head} ${r.priority} ${fqdn(r.exchange)}`;
    case 'TXT':
      return `${head} ${txtStrings(r.text)}`;
    case 'CNAME':
      return `${head} ${fqdn(r.target)}`;
    case 'A':
    case 'AAAA':
      return `${head} ${r.address}`;
    case 'SRV':
      return `${head} ${r.priority} ${r.weight} ${r.port} ${r.target ? fqdn(r.target) : '.'}`;
  }
}
