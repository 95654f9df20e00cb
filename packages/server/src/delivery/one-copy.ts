// One copy per mailbox (README "Aliases and catch-all"): a message notified to two addresses of one
// mailbox (an alias and its target, two aliases, the catch-all) is kept once, as SMTP keeps one copy of
// a transaction. The notification that finds the copy there already is answered like the one that made it,
// and its stored answer follows the kept row when the user rejects or blocks it or it expires.
import type { InboundState, NotifyResult } from '@pullmail/client/wire';
import type { Executor } from '../store/db.ts';
import { answeredWithoutRow, overrideAnswers } from '../store/replay.ts';
import { findRecipient } from './recipient.ts';

/** What a copy in `state` answers when no answer of its own agrees with that state. */
const BY_STATE: Record<InboundState, NotifyResult> = {
  // a held request the user accepted since: the sender is now a known correspondent
  fetching: { decision: 'fetch', reason: 'known_correspondent' },
  held: { decision: 'hold', reason: 'first_contact' },
  // a challenged row always has its challenge answer; this is only the fallback
  challenged: { decision: 'hold', reason: 'first_contact' },
  // as receive.ts answers again about a message it has already stored
  stored: { decision: 'fetch', reason: 'already_fetched' },
  retracted: { decision: 'reject', reason: 'policy' },
  rejected: { decision: 'reject', reason: 'policy' },
  expired: { decision: 'reject', reason: 'expired' },
  failed: { decision: 'reject', reason: 'policy' },
};

const DECISION: Record<InboundState, NotifyResult['decision'] | undefined> = {
  fetching: 'fetch', held: 'hold', challenged: 'challenge', stored: undefined, retracted: undefined, rejected: 'reject', expired: undefined, failed: undefined,
};

/**
 * The answer to a notification whose message the mailbox keeps already under another address: the
 * copy's own last answer (`latest`) while it still says where the copy stands, else what its state says.
 */
export function copyAnswer(state: InboundState, latest: NotifyResult | undefined): NotifyResult {
  if (latest && DECISION[state] === latest.decision) return latest;
  return BY_STATE[state];
}

/**
 * overrideAnswers for a kept row and for the other addresses of its mailbox that were answered as its
 * copy: when the user rejects or blocks the request, or it expires, a recheck of either address learns it.
 * An address that no longer reaches the mailbox (its alias deleted since) keeps its answer.
 */
export async function overrideKeptAnswers(tx: Executor, kept: { iss: string; remoteId: string; rcpt: string; mailboxId: string }, result: NotifyResult): Promise<void> {
  await overrideAnswers(tx, kept, result);
  for (const rcpt of await answeredWithoutRow(tx, kept.iss, kept.remoteId)) {
    if (rcpt !== kept.rcpt && (await findRecipient(tx, rcpt))?.mailbox.id === kept.mailboxId) await overrideAnswers(tx, { ...kept, rcpt }, result);
  }
}
