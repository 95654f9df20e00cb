// Mail for our users (recipient side): notifications turned into pending fetches or held requests,
// and stored messages. Deduplicated on (iss, msg.id, rcpt) (protocol §7).
import type { InboundState } from '@pullmail/client/wire';
import { and, count, desc, eq, inArray, isNull, lt, lte, or, sql } from 'drizzle-orm';
import { bodyColumns, type StoredBody } from './bodies.ts';
import { rowsOf, type Executor } from './db.ts';
import { inJsonRows, jsonFields, jsonRowSet } from './json-rows.ts';
import { preparedFor } from './prepared.ts';
import { ownerGone } from './queue-workers.ts';
import { inbound } from './schema.ts';

export type InboundRow = typeof inbound.$inferSelect;
export type NewInbound = typeof inbound.$inferInsert;

/** States that may still change on an update or retract notification. */
export const OPEN_STATES: readonly InboundState[] = ['fetching', 'held', 'challenged'];

export async function findInbound(db: Executor, iss: string, remoteId: string, rcpt: string): Promise<InboundRow | undefined> {
  const [row] = await db.select().from(inbound).where(and(eq(inbound.iss, iss), eq(inbound.remoteId, remoteId), eq(inbound.rcpt, rcpt)));
  return row;
}

export async function lockInbound(db: Executor, iss: string, remoteId: string, rcpt: string): Promise<InboundRow | undefined> {
  const [row] = await db.select().from(inbound).where(and(eq(inbound.iss, iss), eq(inbound.remoteId, remoteId), eq(inbound.rcpt, rcpt))).for('update');
  return row;
}

/**
 * Serializes concurrent copies of one notification (iss, msg.id, rcpt) until the transaction ends,
 * also before its inbound row exists: a transaction-scoped advisory lock on their hash.
 */
export async function lockOrigin(tx: Executor, iss: string, remoteId: string, rcpt: string): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`${iss}\n${remoteId}\n${rcpt}`}, 0))`);
}

/** One message (iss, msg.id) in one mailbox, whichever of its addresses (an alias, the mailbox's own) it came to. */
export interface CopyKey {
  iss: string;
  remoteId: string;
  mailboxId: string;
}

/** The key findCopies answers under. */
export const copyKey = (c: CopyKey): string => `${c.iss}\n${c.remoteId}\n${c.mailboxId}`;

/**
 * Serializes the notifications of one message to one mailbox until the transaction ends, also when
 * they name different addresses of it: one of them stores the copy (delivery/receive.ts). Taken after
 * lockOrigin(s), never before, in one statement in one order, so two callers cannot wait on each other.
 */
export function lockCopies(tx: Executor, copies: readonly CopyKey[]): Promise<void> {
  return lockBatch(tx, [], copies);
}

/**
 * lockOrigin for many notifications and then lockCopies for their copies, in one statement. Callers
 * pass the origins in one order (sorted), and copies come after every origin (sorted), so two batches
 * (or a batch and receive.ts) naming the same messages cannot wait on each other.
 */
export async function lockBatch(tx: Executor, origins: readonly { iss: string; remoteId: string; rcpt: string }[], copies: readonly CopyKey[]): Promise<void> {
  const keys = [...origins.map((o) => `${o.iss}\n${o.remoteId}\n${o.rcpt}`), ...[...new Set(copies.map((c) => `copy\n${copyKey(c)}`))].sort()];
  if (!keys.length) return;
  // one jsonb parameter for the whole list: drizzle and the server handle one value, not one per key
  await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(k, 0)) from jsonb_array_elements_text(${JSON.stringify(keys)}::jsonb) with ordinality as t(k, i) order by i`);
}

/** The rows (at most one each, under lockCopies) already kept for any of `copies`, by `iss\nmsg.id\nmailboxId`. */
export async function findCopies(db: Executor, copies: readonly CopyKey[]): Promise<Map<string, InboundRow>> {
  if (!copies.length) return new Map();
  const rows = await db
    .select()
    .from(inbound)
    .where(inJsonRows([inbound.iss, inbound.remoteId, inbound.mailboxId], copies.map((c) => [c.iss, c.remoteId, c.mailboxId])));
  return new Map(rows.map((r) => [copyKey(r), r]));
}

/** lockInbound for many (iss, msg.id, rcpt) at once: the rows that exist, locked, by `iss\nmsg.id\nrcpt`. */
export async function lockInbounds(tx: Executor, origins: readonly { iss: string; remoteId: string; rcpt: string }[]): Promise<Map<string, InboundRow>> {
  if (!origins.length) return new Map();
  // exactly these rows: the caller holds their origin locks, so no other transaction waits on them in another order
  const rows = await tx
    .select()
    .from(inbound)
    .where(inJsonRows([inbound.iss, inbound.remoteId, inbound.rcpt], origins.map((o) => [o.iss, o.remoteId, o.rcpt])))
    .for('update');
  return new Map(rows.map((r) => [`${r.iss}\n${r.remoteId}\n${r.rcpt}`, r]));
}

/** The columns the batch path sets on a new pm1 row (delivery/receive-batch.ts), `via` being pm1. */
const NOTIFIED = ['mailboxId', 'iss', 'remoteId', 'rcpt', 'sender', 'subject', 'size', 'sha256', 'version', 'sentAt', 'state', 'fetchUrl', 'cap', 'nextAttemptAt', 'receivedAt'] as const;
export type NotifiedInbound = Required<Pick<NewInbound, (typeof NOTIFIED)[number]>>;
const NOTIFIED_COLUMNS = NOTIFIED.map((k) => inbound[k]);

/**
 * Inserts many pm1 rows in one statement whose one parameter is the rows as JSON (a multi-row VALUES
 * list costs drizzle and PostgreSQL per value: 15 per row), skipping any whose (iss, msg.id, rcpt)
 * exists; returns how many went in.
 */
export async function insertNotifiedRows(db: Executor, rows: readonly NotifiedInbound[]): Promise<number> {
  if (!rows.length) return 0;
  const names = sql.raw(NOTIFIED_COLUMNS.map((c) => `"${c.name}"`).join(', '));
  const res = await db.execute(sql`insert into inbound (${names}, via)
    select ${jsonFields(NOTIFIED_COLUMNS, 'r')}, 'pm1' from ${jsonRowSet(rows.map((r) => NOTIFIED.map((k) => r[k])), 'r')}
    on conflict do nothing returning id`);
  return rowsOf(res).length;
}

/** Inserts unless that (iss, msg.id, rcpt) exists; returns the new row or undefined. */
export async function insertInbound(db: Executor, row: NewInbound): Promise<InboundRow | undefined> {
  const [created] = await db.insert(inbound).values(row).onConflictDoNothing().returning();
  return created;
}

/** The columns the SMTP gateway sets on a copy it stores (smtp/accept-inbound.ts). */
export type SmtpCopy = Required<Pick<NewInbound, 'mailboxId' | 'iss' | 'remoteId' | 'rcpt' | 'sender' | 'subject' | 'size' | 'sha256' | 'via' | 'state' | 'receivedAt'>> &
  Pick<NewInbound, 'sentAt' | 'raw' | 'blobId' | 'storedAt'>;

/** Like insertInbound for an SMTP copy, as one prepared statement; only the new row's id comes back (not the body it was just sent). */
export async function insertSmtpCopy(db: Executor, row: SmtpCopy): Promise<string | undefined> {
  const insert = preparedFor(db, 'insert_smtp_copy', (d) => {
    const p = (name: keyof SmtpCopy) => sql.placeholder(name);
    // drizzle maps a placeholder's value through its column, null included (a null date fails there):
    // the nullable dates go in as SQL, their values as ISO strings
    const nullableDate = (name: 'sentAt' | 'storedAt') => sql`${sql.placeholder(name)}::timestamptz`;
    return d
      .insert(inbound)
      .values({
        mailboxId: p('mailboxId'), iss: p('iss'), remoteId: p('remoteId'), rcpt: p('rcpt'), sender: p('sender'), subject: p('subject'), size: p('size'),
        sha256: p('sha256'), via: p('via'), state: p('state'), receivedAt: p('receivedAt'), sentAt: nullableDate('sentAt'), raw: p('raw'), blobId: p('blobId'), storedAt: nullableDate('storedAt'),
      })
      .onConflictDoNothing()
      .returning({ id: inbound.id })
      .prepare('insert_smtp_copy');
  });
  const [created] = await insert.execute({ ...row, sentAt: row.sentAt?.toISOString() ?? null, raw: row.raw ?? null, blobId: row.blobId ?? null, storedAt: row.storedAt?.toISOString() ?? null });
  return created?.id;
}

export async function updateInbound(db: Executor, id: string, set: Partial<NewInbound>): Promise<void> {
  await db.update(inbound).set(set).where(eq(inbound.id, id));
}

/**
 * Updates a row only while it is still `fetching`: a fetch that ends in an error never overwrites
 * what happened meanwhile (stored by another attempt, retracted by the sender).
 */
export async function updateFetching(db: Executor, id: string, set: Partial<NewInbound>): Promise<void> {
  await db.update(inbound).set(set).where(and(eq(inbound.id, id), eq(inbound.state, 'fetching')));
}

/** Puts a held or challenged row on the fetch queue, due now; with `from`, only while it is in that state. */
export async function queueFetch(db: Executor, id: string, now: Date, from?: InboundState): Promise<void> {
  await db
    .update(inbound)
    .set({ state: 'fetching', nextAttemptAt: now, leaseUntil: null, attempts: 0 })
    .where(and(eq(inbound.id, id), from ? eq(inbound.state, from) : undefined));
}

export async function renewFetchLease(db: Executor, id: string, until: Date): Promise<void> {
  await updateFetching(db, id, { leaseUntil: until });
}

/** Pending fetches that are due, leased to `owner` like the outbound queue (deliveries.ts claimDue). */
export async function claimDueFetches(db: Executor, now: Date, limit: number, leaseMs: number, owner: string | null): Promise<InboundRow[]> {
  const due = db
    .select({ id: inbound.id })
    .from(inbound)
    .where(and(eq(inbound.state, 'fetching'), lte(inbound.nextAttemptAt, now), or(isNull(inbound.leaseUntil), lt(inbound.leaseUntil, now), ownerGone(inbound.leaseOwner))))
    .orderBy(inbound.nextAttemptAt)
    .limit(limit)
    .for('update', { skipLocked: true });
  return db
    .update(inbound)
    .set({ leaseUntil: new Date(now.getTime() + leaseMs), leaseOwner: owner, attempts: sql`${inbound.attempts} + 1` })
    .where(inArray(inbound.id, due))
    .returning();
}

/** Completes a fetch unless the row moved on meanwhile (retracted, or a newer version was announced). */
export async function storeFetched(db: Executor, id: string, f: { body: StoredBody; version: number; now: Date }): Promise<boolean> {
  // every pm1 message received ends here: prepared once (store/prepared.ts)
  const update = preparedFor(db, 'store_fetched', (d) => {
    // update's set() takes SQL, not placeholders: each value goes in with its type named
    const p = (name: string, type: string) => sql`${sql.placeholder(name)}::${sql.raw(type)}`;
    return d
      .update(inbound)
      .set({ state: 'stored', raw: p('raw', 'bytea'), blobId: p('blobId', 'uuid'), size: p('size', 'integer'), sha256: p('sha256', 'text'), version: p('version', 'integer'), storedAt: p('storedAt', 'timestamptz'), leaseUntil: null, lastError: null, cap: null })
      .where(and(eq(inbound.id, sql.placeholder('id')), eq(inbound.state, 'fetching')))
      .returning({ id: inbound.id })
      .prepare('store_fetched');
  });
  const b = bodyColumns(f.body);
  const rows = await update.execute({ id, raw: b.raw ?? null, blobId: b.blobId ?? null, size: b.size, sha256: b.sha256, version: f.version, storedAt: f.now.toISOString() });
  return rows.length > 0;
}

/** Columns for listings: everything but the message bytes. */
const summary = {
  id: inbound.id, iss: inbound.iss, remoteId: inbound.remoteId, rcpt: inbound.rcpt, sender: inbound.sender, subject: inbound.subject,
  size: inbound.size, via: inbound.via, state: inbound.state, receivedAt: inbound.receivedAt, storedAt: inbound.storedAt,
};

export async function listByState(db: Executor, mailboxId: string, state: InboundState, limit: number, cursor?: { at: Date; id: string }) {
  return db
    .select(summary)
    .from(inbound)
    .where(and(
      eq(inbound.mailboxId, mailboxId),
      eq(inbound.state, state),
      isNull(inbound.deletedAt),
      cursor ? or(lt(inbound.receivedAt, cursor.at), and(eq(inbound.receivedAt, cursor.at), lt(inbound.id, cursor.id))) : undefined,
    ))
    .orderBy(desc(inbound.receivedAt), desc(inbound.id))
    .limit(limit);
}

export async function countByState(db: Executor, mailboxId: string, state: InboundState): Promise<number> {
  const [row] = await db.select({ n: count() }).from(inbound).where(and(eq(inbound.mailboxId, mailboxId), eq(inbound.state, state), isNull(inbound.deletedAt)));
  return Number(row.n);
}

export async function findOwnInbound(db: Executor, mailboxId: string, id: string, state: InboundState): Promise<InboundRow | undefined> {
  if (!/^[0-9a-f-]{36}$/i.test(id)) return undefined;
  const [row] = await db.select().from(inbound).where(and(eq(inbound.id, id), eq(inbound.mailboxId, mailboxId), eq(inbound.state, state), isNull(inbound.deletedAt)));
  return row;
}

