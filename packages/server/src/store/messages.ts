// Sent messages and their versions (sender side, protocol §5).
import type { Transport } from '@pullmail/client/wire';
import { and, desc, eq, inArray, lt, or, sql } from 'drizzle-orm';
import { isStorableText } from '../text.ts';
import { bodyColumns, type StoredBody } from './bodies.ts';
import type { Executor } from './db.ts';
import { preparedFor } from './prepared.ts';
import { deliveries, messages, messageVersions } from './schema.ts';

export type MessageRow = typeof messages.$inferSelect;
export type DeliveryRow = typeof deliveries.$inferSelect;

export interface NewMessage {
  id: string;
  mailboxId: string;
  sender: string;
  subject: string;
  messageIdHeader: string;
  body: StoredBody;
  createdAt: Date;
  deliveries: { rcpt: string; rcptDomain: string; transport: Transport; giveUpAt: Date; consent?: string | null }[];
}

/** Stores a message, its first version and one queued delivery per recipient. */
export async function insertMessage(tx: Executor, m: NewMessage): Promise<DeliveryRow[]> {
  await tx.insert(messages).values({ id: m.id, mailboxId: m.mailboxId, sender: m.sender, subject: m.subject, messageIdHeader: m.messageIdHeader, createdAt: m.createdAt, updatedAt: m.createdAt });
  await tx.insert(messageVersions).values({ messageId: m.id, version: 1, ...bodyColumns(m.body), createdAt: m.createdAt });
  return tx
    .insert(deliveries)
    .values(m.deliveries.map((d) => ({ messageId: m.id, ...d, state: 'queued' as const, version: 1, notifyKind: 'new' as const, nextAttemptAt: m.createdAt, createdAt: m.createdAt })))
    .returning();
}

/**
 * A user's new message in one statement (SQL function pm_send_message, migration 0012): the message, its
 * first version, a queued delivery per recipient (unique), the recipients as known correspondents and
 * the copy in the Sent folder. Returns how many deliveries were queued.
 */
export async function storeSentMessage(
  db: Executor,
  m: Omit<NewMessage, 'deliveries'> & { giveUpAt: Date; deliveries: Omit<NewMessage['deliveries'][number], 'giveUpAt'>[] },
): Promise<number> {
  const send = preparedFor(db, 'send_message', (d) => {
    const p = (name: string) => sql.placeholder(name);
    return d
      .select({
        n: sql<number>`pm_send_message(${p('id')}, ${p('mailboxId')}::uuid, ${p('sender')}, ${p('subject')}, ${p('messageIdHeader')}, ${p('at')}::timestamptz,
          ${p('giveUpAt')}::timestamptz, ${p('raw')}::bytea, ${p('blobId')}::uuid, ${p('size')}::integer, ${p('sha256')}, ${p('deliveries')}::jsonb)`,
      })
      .from(sql`(select 1) as one`)
      .prepare('send_message');
  });
  const [row] = await send.execute({
    id: m.id,
    mailboxId: m.mailboxId,
    sender: m.sender,
    subject: m.subject,
    messageIdHeader: m.messageIdHeader,
    at: m.createdAt.toISOString(),
    giveUpAt: m.giveUpAt.toISOString(),
    raw: m.body.raw,
    blobId: m.body.blobId,
    size: m.body.size,
    sha256: m.body.sha256,
    deliveries: JSON.stringify(m.deliveries.map((d) => ({ rcpt: d.rcpt, rcptDomain: d.rcptDomain, transport: d.transport, consent: d.consent ?? null }))),
  });
  return Number(row.n);
}

export async function findOwnMessage(db: Executor, mailboxId: string, id: string): Promise<MessageRow | undefined> {
  // an id PostgreSQL text cannot hold (a NUL) is no message, and would fail the query
  if (!isStorableText(id)) return undefined;
  const [row] = await db.select().from(messages).where(and(eq(messages.id, id), eq(messages.mailboxId, mailboxId)));
  return row;
}

export async function lockOwnMessage(tx: Executor, mailboxId: string, id: string): Promise<MessageRow | undefined> {
  const [row] = await tx.select().from(messages).where(and(eq(messages.id, id), eq(messages.mailboxId, mailboxId))).for('update');
  return row;
}

export async function findVersion(db: Executor, messageId: string, version: number) {
  const [row] = await db.select().from(messageVersions).where(and(eq(messageVersions.messageId, messageId), eq(messageVersions.version, version)));
  return row;
}

/** What a notification needs about each (message, version): header fields and digest, not the bytes. */
export async function notificationFacts(db: Executor, keys: { messageId: string; version: number }[]) {
  if (!keys.length) return new Map<string, { sender: string; subject: string; createdAt: Date; size: number; sha256: string }>();
  const rows = await db
    .select({ id: messages.id, sender: messages.sender, subject: messages.subject, createdAt: messages.createdAt, version: messageVersions.version, size: messageVersions.size, sha256: messageVersions.sha256 })
    .from(messages)
    .innerJoin(messageVersions, eq(messageVersions.messageId, messages.id))
    .where(inArray(messages.id, [...new Set(keys.map((k) => k.messageId))]));
  return new Map(rows.map((r) => [`${r.id}:${r.version}`, r]));
}

export async function addVersion(tx: Executor, v: { messageId: string; version: number; body: StoredBody; subject: string; now: Date }): Promise<void> {
  await tx.insert(messageVersions).values({ messageId: v.messageId, version: v.version, ...bodyColumns(v.body), createdAt: v.now });
  await tx.update(messages).set({ version: v.version, subject: v.subject, updatedAt: v.now }).where(eq(messages.id, v.messageId));
}

export async function listDeliveries(db: Executor, messageId: string): Promise<DeliveryRow[]> {
  return db.select().from(deliveries).where(eq(deliveries.messageId, messageId)).orderBy(deliveries.rcpt);
}

/** Newest first; the cursor is `<created_at ms>.<id>` of the last row of the previous page. */
export async function listSent(db: Executor, mailboxId: string, limit: number, cursor?: { at: Date; id: string }) {
  const rows = await db
    .select({
      id: messages.id,
      subject: messages.subject,
      version: messages.version,
      createdAt: messages.createdAt,
      // json, not an array type: postgres.js parses json without fetching type oids (fetch_types is off)
      recipients: sql<string[]>`(select coalesce(json_agg(d.rcpt order by d.rcpt), '[]'::json) from deliveries d where d.message_id = "messages"."id")`,
    })
    .from(messages)
    .where(and(eq(messages.mailboxId, mailboxId), cursor ? or(lt(messages.createdAt, cursor.at), and(eq(messages.createdAt, cursor.at), lt(messages.id, cursor.id))) : undefined))
    .orderBy(desc(messages.createdAt), desc(messages.id))
    .limit(limit);
  return rows;
}

/** Per sent message: how many recipients there are, how many fetched, and how many could still be retracted. */
export async function sentDeliveryCounts(db: Executor, messageIds: string[]): Promise<Map<string, { total: number; fetched: number; open: number }>> {
  if (!messageIds.length) return new Map();
  const rows = await db
    .select({
      id: deliveries.messageId,
      total: sql<number>`count(*)`.mapWith(Number),
      fetched: sql<number>`count(*) filter (where ${deliveries.state} = 'fetched')`.mapWith(Number),
      open: sql<number>`count(*) filter (where ${deliveries.state} in ('queued', 'notified', 'held', 'challenged'))`.mapWith(Number),
    })
    .from(deliveries)
    .where(inArray(deliveries.messageId, [...new Set(messageIds)]))
    .groupBy(deliveries.messageId);
  return new Map(rows.map((r) => [r.id, r]));
}
