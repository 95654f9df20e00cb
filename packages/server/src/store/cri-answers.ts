// What the CRI gateway (docs/cri.md) asks of our users' sent mail: did this message really leave by
// SMTP for this recipient, was a challenge about it already answered, has the user written to a domain.
import { and, eq, gt, inArray } from 'drizzle-orm';
import type { Executor } from './db.ts';
import type { DeliveryRow, MessageRow } from './messages.ts';
import { criAnswers, deliveries, messages } from './schema.ts';

/**
 * The user's message with one of `messageIds` (Message-ID fields, angle brackets included) that was
 * handed over by SMTP to one of `rcpts`: the only mail a challenge may be answered for.
 */
export async function findChallengedDelivery(
  db: Executor,
  q: { mailboxId: string; messageIds: string[]; rcpts: string[] },
): Promise<{ message: MessageRow; delivery: DeliveryRow } | undefined> {
  if (!q.messageIds.length || !q.rcpts.length) return undefined;
  const [row] = await db
    .select({ message: messages, delivery: deliveries })
    .from(messages)
    .innerJoin(deliveries, eq(deliveries.messageId, messages.id))
    .where(and(
      eq(messages.mailboxId, q.mailboxId),
      inArray(messages.messageIdHeader, q.messageIds),
      inArray(deliveries.rcpt, q.rcpts),
      // `fetched` on an SMTP delivery: the next server took the bytes (smtp/outbound.ts)
      eq(deliveries.transport, 'smtp'),
      eq(deliveries.state, 'fetched'),
    ))
    .limit(1);
  return row;
}

/** Records that (message, rcpt) is answered by `responseId`; false when it already was. */
export async function claimCriAnswer(tx: Executor, a: { messageId: string; rcpt: string; responseId: string; now: Date }): Promise<boolean> {
  const rows = await tx.insert(criAnswers).values({ ...a, createdAt: a.now }).onConflictDoNothing().returning({ rcpt: criAnswers.rcpt });
  return rows.length > 0;
}

/** True when the user sent mail by SMTP to someone at `domain` since `since`. */
export async function hasSentToDomain(db: Executor, mailboxId: string, domain: string, since: Date): Promise<boolean> {
  const [row] = await db
    .select({ id: deliveries.id })
    .from(messages)
    .innerJoin(deliveries, eq(deliveries.messageId, messages.id))
    .where(and(eq(messages.mailboxId, mailboxId), gt(messages.createdAt, since), eq(deliveries.rcptDomain, domain), eq(deliveries.transport, 'smtp')))
    .limit(1);
  return !!row;
}
