// The outbound queue as an operator sees it (admin UI "Queue"): deliveries by state, and the two
// things an operator may do to one that still owes a notification or hand-off: try it now, or give up.
import type { DeliveryState, Transport } from '@pullmail/client/wire';
import { and, desc, eq, isNotNull, notInArray, type SQL } from 'drizzle-orm';
import type { Executor } from './db.ts';
import { deliveries, messages } from './schema.ts';

export interface QueuedDelivery {
  id: string;
  messageId: string;
  sender: string;
  rcpt: string;
  transport: Transport;
  state: DeliveryState;
  /** Something is still to be sent (a notification, an SMTP hand-off). */
  owed: boolean;
  attempts: number;
  nextAttemptAt: Date | null;
  lastError: string | null;
  createdAt: Date;
}

/** Deliveries newest first: those in `state`, or (no state) those that still owe something. */
export async function listQueueDeliveries(db: Executor, opts: { state?: DeliveryState; limit: number }): Promise<QueuedDelivery[]> {
  const where: SQL = opts.state ? eq(deliveries.state, opts.state) : isNotNull(deliveries.notifyKind);
  const rows = await db
    .select({
      id: deliveries.id, messageId: deliveries.messageId, sender: messages.sender, rcpt: deliveries.rcpt, transport: deliveries.transport,
      state: deliveries.state, notifyKind: deliveries.notifyKind, attempts: deliveries.attempts, nextAttemptAt: deliveries.nextAttemptAt,
      lastError: deliveries.lastError, createdAt: deliveries.createdAt,
    })
    .from(deliveries)
    .innerJoin(messages, eq(messages.id, deliveries.messageId))
    .where(where)
    .orderBy(desc(deliveries.createdAt))
    .limit(opts.limit);
  return rows.map(({ notifyKind, ...r }) => ({ ...r, owed: notifyKind !== null }));
}

/** Makes an owed delivery due now (its lease dropped); false when it owes nothing. */
export async function makeDueNow(db: Executor, id: string, now: Date): Promise<boolean> {
  const rows = await db
    .update(deliveries)
    .set({ nextAttemptAt: now, leaseUntil: null })
    .where(and(eq(deliveries.id, id), isNotNull(deliveries.notifyKind)))
    .returning({ id: deliveries.id });
  return rows.length > 0;
}

/** Stops trying an owed delivery: `failed` with `reason`; never one already fetched or retracted. False when there was nothing to stop. */
export async function stopTrying(db: Executor, id: string, reason: string): Promise<boolean> {
  const rows = await db
    .update(deliveries)
    .set({ notifyKind: null, nextAttemptAt: null, leaseUntil: null, state: 'failed', reason, lastError: reason })
    .where(and(eq(deliveries.id, id), isNotNull(deliveries.notifyKind), notInArray(deliveries.state, ['fetched', 'retracted'])))
    .returning({ id: deliveries.id });
  return rows.length > 0;
}
