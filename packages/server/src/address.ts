// Mail addresses and domains as pm1 compares them (protocol "Names"): domain case-insensitive in
// A-label form, local part kept as written but matched case-insensitively.
import { domainToASCII } from 'node:url';

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
// RFC 5321 dot-atom local part; quoted local parts are refused (rare, and a header-injection risk).
const LOCAL = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
// Of ASCII only letters, digits, '-' and '.' (IDN letters beyond): domainToASCII parses its input as a URL
// host, so it would cut "a/b.com" to "a", decode %-escapes and silently drop tab, CR and LF.
const DOMAIN_CHARS = /^[A-Za-z0-9.\-\u0080-\u{10FFFF}]+$/u;
// Control characters and spaces anywhere in an address (CR/LF injection, padding).
const CONTROL_OR_SPACE = /[\x00-\x20\x7f]/;

/** Lower-case A-label form of a domain, or '' when it cannot be converted. */
export function normalizeDomain(domain: string): string {
  const trimmed = domain.trim().replace(/\.$/, '');
  if (!trimmed || trimmed.length > 253 || !DOMAIN_CHARS.test(trimmed)) return '';
  return domainToASCII(trimmed.toLowerCase());
}

/** True for a syntactically valid host name (already normalized). */
export function isDomainName(domain: string): boolean {
  if (!domain || domain.length > 253) return false;
  const labels = domain.split('.');
  // an all-numeric top-level label is an IP address, not a domain (RFC 3696 §2); domainToASCII turns "0x7f.1" into 127.0.0.1
  if (/^\d+$/.test(labels[labels.length - 1])) return false;
  return labels.every((l) => LABEL.test(l));
}

export interface Address {
  local: string;
  domain: string;
}

/** Parses `local@domain`; returns undefined for anything else (display names, quoting, CR/LF…). */
export function parseAddress(input: string): Address | undefined {
  if (typeof input !== 'string' || input.length > 320 || CONTROL_OR_SPACE.test(input)) return undefined;
  const at = input.lastIndexOf('@');
  if (at < 1) return undefined;
  const local = input.slice(0, at);
  const domain = normalizeDomain(input.slice(at + 1));
  if (local.length > 64 || !LOCAL.test(local) || !isDomainName(domain)) return undefined;
  return { local, domain };
}

/** The form we store and compare: local part lower-cased, domain normalized. */
export function canonicalAddress(input: string): string | undefined {
  const a = parseAddress(input);
  return a && `${a.local.toLowerCase()}@${a.domain}`;
}

export function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1);
}

/** An alias's address (README "Aliases and catch-all"): canonical `local@domain`, or `@domain` for a catch-all; undefined for anything else. */
export function aliasAddress(raw: string): string | undefined {
  if (raw.startsWith('@')) {
    const domain = normalizeDomain(raw.slice(1));
    return isDomainName(domain) ? `@${domain}` : undefined;
  }
  return canonicalAddress(raw);
}
