// Notification answers for idempotent retries (protocol §2) and single-use token ids (protocol §4).
import type { NotificationKind, NotifyResult } from '@pullmail/client/wire';
import { and, desc, eq, lt, notExists, sql } from 'drizzle-orm';
import type { Executor } from './db.ts';
import { inJsonRows, jsonFields, jsonRowSet } from './json-rows.ts';
import { inbound, notifyLog, seenJti } from './schema.ts';

export interface NotifyKey {
  iss: string;
  remoteId: string;
  rcpt: string;
  version: number;
  kind: NotificationKind;
}

export async function findAnswer(db: Executor, k: NotifyKey): Promise<NotifyResult | undefined> {
  const [row] = await db
    .select({ result: notifyLog.result })
    .from(notifyLog)
    .where(and(eq(notifyLog.iss, k.iss), eq(notifyLog.remoteId, k.remoteId), eq(notifyLog.rcpt, k.rcpt), eq(notifyLog.version, k.version), eq(notifyLog.kind, k.kind)));
  return row?.result;
}

/** notify_log's primary key, in NotifyKey's order. */
const KEY_COLUMNS = [notifyLog.iss, notifyLog.remoteId, notifyLog.rcpt, notifyLog.version, notifyLog.kind];

const keyString = (k: NotifyKey) => `${k.iss}\n${k.remoteId}\n${k.rcpt}\n${k.version}\n${k.kind}`;

/** The answers already given to any of `keys` (a batch), by key; one query. */
export async function findAnswers(db: Executor, keys: readonly NotifyKey[]): Promise<(k: NotifyKey) => NotifyResult | undefined> {
  if (!keys.length) return () => undefined;
  // matched on the primary key, the keys as one jsonb parameter
  const rows = await db
    .select({ iss: notifyLog.iss, remoteId: notifyLog.remoteId, rcpt: notifyLog.rcpt, version: notifyLog.version, kind: notifyLog.kind, result: notifyLog.result })
    .from(notifyLog)
    .where(inJsonRows(KEY_COLUMNS, keys.map((k) => [k.iss, k.remoteId, k.rcpt, k.version, k.kind])));
  const found = new Map(rows.map((r) => [keyString(r), r.result]));
  return (k) => found.get(keyString(k));
}

/** Records many answers in one statement (saveAnswer for a batch; at most one entry per key). */
export async function saveAnswers(db: Executor, entries: readonly { key: NotifyKey; result: NotifyResult }[]): Promise<void> {
  if (!entries.length) return;
  // the entries as one jsonb parameter, like findAnswers
  const rows = entries.map(({ key: k, result }) => [k.iss, k.remoteId, k.rcpt, k.version, k.kind, result]);
  await db.execute(sql`
    insert into notify_log (iss, remote_id, rcpt, version, kind, result)
    select ${jsonFields([...KEY_COLUMNS, notifyLog.result], 'e')} from ${jsonRowSet(rows, 'e')}
    on conflict (iss, remote_id, rcpt, version, kind) do update set result = excluded.result`);
}

/** The last answer given about one version of a message for one recipient, whatever its kind. */
export async function latestAnswer(db: Executor, k: Omit<NotifyKey, 'kind'>): Promise<NotifyResult | undefined> {
  const [row] = await db
    .select({ result: notifyLog.result })
    .from(notifyLog)
    .where(and(eq(notifyLog.iss, k.iss), eq(notifyLog.remoteId, k.remoteId), eq(notifyLog.rcpt, k.rcpt), eq(notifyLog.version, k.version)))
    .orderBy(desc(notifyLog.createdAt))
    .limit(1);
  return row?.result;
}

/** Records an answer; replaces an earlier one (re-evaluation after a pow/consent retry). */
export async function saveAnswer(db: Executor, k: NotifyKey, result: NotifyResult): Promise<void> {
  await db.insert(notifyLog).values({ ...k, result }).onConflictDoUpdate({
    target: [notifyLog.iss, notifyLog.remoteId, notifyLog.rcpt, notifyLog.version, notifyLog.kind],
    set: { result },
  });
}

/** True the first time a jti is seen; false on reuse. */
export async function useJti(db: Executor, jti: string, iss: string, expiresAt: Date): Promise<boolean> {
  const rows = await db.insert(seenJti).values({ jti: `${iss}:${jti}`, iss, expiresAt }).onConflictDoNothing().returning({ jti: seenJti.jti });
  return rows.length > 0;
}

export async function pruneJtis(db: Executor, now: Date): Promise<void> {
  await db.delete(seenJti).where(lt(seenJti.expiresAt, now));
}

/**
 * Replaces every stored answer about one message for one recipient: after the user rejects or a
 * request expires, the sender's next (re)notification learns the final answer.
 */
export async function overrideAnswers(db: Executor, k: { iss: string; remoteId: string; rcpt: string }, result: NotifyResult): Promise<void> {
  await db.update(notifyLog).set({ result }).where(and(eq(notifyLog.iss, k.iss), eq(notifyLog.remoteId, k.remoteId), eq(notifyLog.rcpt, k.rcpt)));
}

/**
 * The recipients of one message that were answered but have no inbound row of their own: refused ones,
 * and addresses answered as the copy kept under another address of their mailbox (delivery/one-copy.ts).
 */
export async function answeredWithoutRow(db: Executor, iss: string, remoteId: string): Promise<string[]> {
  const own = db.select({ id: inbound.id }).from(inbound).where(and(eq(inbound.iss, notifyLog.iss), eq(inbound.remoteId, notifyLog.remoteId), eq(inbound.rcpt, notifyLog.rcpt)));
  const rows = await db.selectDistinct({ rcpt: notifyLog.rcpt }).from(notifyLog).where(and(eq(notifyLog.iss, iss), eq(notifyLog.remoteId, remoteId), notExists(own)));
  return rows.map((r) => r.rcpt);
}
