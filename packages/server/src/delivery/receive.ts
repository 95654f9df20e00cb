// The recipient side of a notification (protocol §2, §6): find the mailbox, answer idempotently,
// apply the user's policy, and turn the answer into a pending fetch or a held request.
import type { NotificationClaims, NotifyResult } from '@pullmail/client/wire';
import { canonicalAddress } from '../address.ts';
import type { AppContext } from '../context.ts';
import type { Tx } from '../store/db.ts';
import { insertInbound, lockInbound, OPEN_STATES, updateInbound } from '../store/inbound.ts';
import { findMailbox } from '../store/mailboxes.ts';
import { findAnswer, saveAnswer, type NotifyKey } from '../store/replay.ts';
import { evaluatePolicy } from './recipient-policy.ts';

/** Answer to an acknowledged retract: nothing will be fetched. */
const RETRACT_ACK: NotifyResult = { decision: 'reject', reason: 'policy' };

/** Handles one verified notification. Safe to call again with the same claims: same answer, no second effect. */
export async function receiveNotification(ctx: AppContext, n: NotificationClaims): Promise<NotifyResult> {
  const rcpt = canonicalAddress(n.msg.rcpt)!;
  const sender = canonicalAddress(n.msg.from)!;
  const key: NotifyKey = { iss: n.iss, remoteId: n.msg.id, rcpt, version: n.msg.version, kind: n.kind };
  const now = new Date(ctx.now());

  const mailbox = await findMailbox(ctx.db, rcpt);
  if (!mailbox) return { decision: 'reject', reason: 'unknown_recipient' };

  const earlier = (await findAnswer(ctx.db, key)) as NotifyResult | undefined;
  const reevaluate = earlier && (n.pow || n.consent) && (earlier.decision === 'challenge' || earlier.decision === 'hold');
  if (earlier && !reevaluate) return earlier;

  return ctx.db.transaction(async (tx) => {
    // serialize concurrent copies of the same notification on the inbound row
    const existing = await lockInbound(tx, n.iss, n.msg.id, rcpt);
    const again = (await findAnswer(tx, key)) as NotifyResult | undefined;
    if (again && !reevaluate) return again;

    let result: NotifyResult;
    if (n.kind === 'retract') {
      if (existing && OPEN_STATES.includes(existing.state)) await updateInbound(tx, existing.id, { state: 'retracted', leaseUntil: null, raw: null });
      result = RETRACT_ACK;
    } else if (existing && !OPEN_STATES.includes(existing.state)) {
      // already stored (or retracted/refused): deduplicate, never a second copy
      result = existing.state === 'stored' ? { decision: 'fetch', reason: 'already_fetched' } : { decision: 'reject', reason: 'policy' };
    } else if (n.msg.size > ctx.config.maxMessageBytes) {
      result = { decision: 'reject', reason: 'too_large' };
    } else {
      const d = await evaluatePolicy(ctx, tx, mailbox, sender);
      result = d;
      if (d.decision === 'fetch' || d.decision === 'hold') {
        await upsertPending(tx, existing?.id, {
          mailboxId: mailbox.id,
          iss: n.iss,
          remoteId: n.msg.id,
          rcpt,
          sender,
          subject: n.msg.subject ?? '',
          size: n.msg.size,
          sha256: n.msg.sha256,
          version: n.msg.version,
          sentAt: new Date(n.msg.sent_at * 1000),
          via: 'pm1',
          state: d.decision === 'fetch' ? 'fetching' : 'held',
          fetchUrl: n.fetch.url,
          cap: n.fetch.cap,
          nextAttemptAt: now,
          receivedAt: existing?.receivedAt ?? now,
        });
      }
    }
    await saveAnswer(tx, key, result);
    return result;
  }).then((result) => {
    if (result.decision === 'fetch') ctx.kick();
    return result;
  });
}

async function upsertPending(tx: Tx, existingId: string | undefined, row: Parameters<typeof insertInbound>[1]): Promise<void> {
  if (existingId) await updateInbound(tx, existingId, { ...row, leaseUntil: null, attempts: 0 });
  else await insertInbound(tx, row);
}

