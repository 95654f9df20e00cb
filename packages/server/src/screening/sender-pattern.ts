// Who a rule or consent token names: one address `a@x.test` or a whole domain `@x.test`, canonical.
import { z } from 'zod';
import { canonicalAddress, isDomainName, normalizeDomain } from '../address.ts';

/** `a@x.test` or `@x.test`, canonical; undefined when neither. */
export function canonicalPattern(p: string): string | undefined {
  if (p.startsWith('@')) {
    const d = normalizeDomain(p.slice(1));
    return isDomainName(d) ? `@${d}` : undefined;
  }
  return canonicalAddress(p);
}

/** The zod field for a sender pattern in a request body: made canonical, an issue otherwise. */
export const senderPattern = z.string().max(320).transform((p, ctx) => canonicalPattern(p) ?? (ctx.addIssue({ code: 'custom', message: 'must be an address or @domain' }), z.NEVER));
