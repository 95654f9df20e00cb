// Where mail for one of our addresses goes (README "Aliases and catch-all"): the one place a recipient
// address becomes a mailbox, for pm1 notifications (delivery/receive.ts) and SMTP RCPT TO
// (smtp/mx-listener.ts) alike. The mailbox found decides the policy, whichever address was used.
import { domainOf } from '../address.ts';
import type { Executor } from '../store/db.ts';
import { recipientCandidates } from '../store/aliases.ts';
import type { Mailbox } from '../store/mailboxes.ts';

export type RecipientVia = 'mailbox' | 'alias' | 'catch_all';

/**
 * Precedence: a mailbox of that address, then an exact alias, then the domain's catch-all; so a
 * catch-all never takes mail that has a more specific home.
 */
export function pickRecipient<M>(c: { mailbox?: M; alias?: M; catchAll?: M }): { mailbox: M; via: RecipientVia } | undefined {
  if (c.mailbox) return { mailbox: c.mailbox, via: 'mailbox' };
  if (c.alias) return { mailbox: c.alias, via: 'alias' };
  if (c.catchAll) return { mailbox: c.catchAll, via: 'catch_all' };
  return undefined;
}

/** The catch-all key of an address's domain: `@x.test`. */
export const catchAllOf = (address: string): string => `@${domainOf(address)}`;

/** The mailbox mail for canonical `address` is delivered to, or undefined when none takes it. */
export async function findRecipient(db: Executor, address: string): Promise<{ mailbox: Mailbox; via: RecipientVia } | undefined> {
  return pickRecipient(await recipientCandidates(db, address, catchAllOf(address)));
}
