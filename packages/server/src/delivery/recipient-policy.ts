// Gathers what the user's rules and history say about one sender (protocol §6), for the policy table
// in policy/decide.ts. Used by pm1 notifications and by the SMTP gateway alike; each door adds its own
// facts (size, sender identity, credentials) and writes the outcome.
import type { AppContext } from '../context.ts';
import { decideRedeeming, type PolicyDecision, type PolicyFacts } from '../policy/decide.ts';
import type { Executor } from '../store/db.ts';
import type { Mailbox } from '../store/mailboxes.ts';
import { findMailboxFacts, isCorrespondent, matchingRules } from '../store/policy-data.ts';
import { findRecipient } from './recipient.ts';

export type SenderFacts = Pick<PolicyFacts, 'blocked' | 'allowed' | 'knownCorrespondent' | 'firstContact'>;

/** For a message the table refuses before it looks at the sender (too large, an update already settled). */
export const NOTHING_KNOWN: SenderFacts = { blocked: false, allowed: false, knownCorrespondent: false, firstContact: 'hold' };

/** Rules for `sender` (canonical address) at `mailbox`; correspondents are read only when no rule matched. */
export async function senderFacts(db: Executor, mailbox: Mailbox, sender: string, now: Date): Promise<SenderFacts> {
  const rules = await matchingRules(db, mailbox.id, sender);
  const blocked = rules.some((r) => r.action === 'block');
  const allowed = rules.some((r) => r.action === 'allow');
  const knownCorrespondent = !blocked && !allowed && (await isCorrespondent(db, mailbox.id, sender, now));
  return { blocked, allowed, knownCorrespondent, firstContact: mailbox.firstContact };
}

/** The facts from the rules' actions and the correspondent flag (read together by findMailboxFacts). */
export function factsOf(mailbox: Mailbox, actions: readonly string[], correspondent: boolean): SenderFacts {
  const blocked = actions.includes('block');
  const allowed = actions.includes('allow');
  return { blocked, allowed, knownCorrespondent: !blocked && !allowed && correspondent, firstContact: mailbox.firstContact };
}

/**
 * The mailbox `rcpt` delivers to and the policy at SMTP RCPT time, before the message (and so its
 * SPF/DKIM result) is known: the sender's claim is taken at face value here; DATA decides again with
 * the proof (smtp/accept-inbound.ts). Undefined when nothing takes it. A mailbox of
 * that very address (the common case, and first in delivery/recipient.ts's precedence) costs one query;
 * an alias or a catch-all is resolved there and its target's policy read after. `facts` are what DATA
 * stores under, as long as they still hold then (store/smtp-copies.ts).
 */
export async function findRcpt(ctx: AppContext, rcpt: string, sender: string): Promise<{ mailbox: Mailbox; facts: SenderFacts; policy: PolicyDecision } | undefined> {
  const now = new Date(ctx.now());
  const found = await findMailboxFacts(ctx.db, rcpt, sender, now);
  const routed = found ? undefined : await findRecipient(ctx.db, rcpt);
  const mailbox = found?.mailbox ?? routed?.mailbox;
  if (!mailbox) return undefined;
  const facts = found ? factsOf(found.mailbox, found.actions, found.correspondent) : await senderFacts(ctx.db, mailbox, sender, now);
  return { mailbox, facts, policy: await decideAtRcpt(facts) };
}

function decideAtRcpt(facts: SenderFacts): Promise<PolicyDecision> {
  // no credential is offered, so nothing is ever redeemed
  return decideRedeeming({ ...facts, tooLarge: false, senderVerified: true, validPow: false, quarantine: false }, async () => false);
}
