// Gathers the facts protocol §6 needs for one (sender, recipient user) and returns the decision.
// Used by pm1 notifications and by mail arriving through the SMTP gateway alike.
import type { AppContext } from '../context.ts';
import { decide, type PolicyDecision } from '../policy/decide.ts';
import type { Executor } from '../store/db.ts';
import type { Mailbox } from '../store/mailboxes.ts';
import { isCorrespondent, matchingRules } from '../store/policy-data.ts';

export interface PolicyExtras {
  /** A consent token presented with the message (protocol §6); counted only when it decides. */
  consentValid?: (tx: Executor) => Promise<boolean>;
  /** A proof-of-work answer already checked by the caller. */
  powValid?: boolean;
}

/**
 * The recipient's decision for mail from `sender` (canonical address) to `mailbox`.
 * Run inside the transaction that records the outcome, so a consent use is counted atomically with it.
 */
export async function evaluatePolicy(ctx: AppContext, tx: Executor, mailbox: Mailbox, sender: string, extras: PolicyExtras = {}): Promise<PolicyDecision> {
  const now = new Date(ctx.now());
  const rules = await matchingRules(tx, mailbox.id, sender);
  const blocked = rules.some((r) => r.action === 'block');
  const allowed = rules.some((r) => r.action === 'allow');
  const knownCorrespondent = !blocked && !allowed && (await isCorrespondent(tx, mailbox.id, sender, now));
  const undecided = !blocked && !allowed && !knownCorrespondent;
  // a consent use is only spent when nothing earlier in the order already decided
  const validConsent = undecided && extras.consentValid ? await extras.consentValid(tx) : false;
  return decide({
    blocked,
    allowed,
    knownCorrespondent,
    validConsent,
    validPow: undecided && !validConsent && !!extras.powValid,
    firstContact: mailbox.firstContact,
  });
}
