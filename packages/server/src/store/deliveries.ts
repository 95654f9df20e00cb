// Delivery rows as the outbound queue (protocol §7): claiming due work with SKIP LOCKED leases, and
// the atomic state changes of fetch, retract and edit (protocol §5).
import type { DeliveryState, NotificationKind, Transport } from '@pullmail/client/wire';
import { and, eq, inArray, isNotNull, isNull, lt, lte, notInArray, or, sql } from 'drizzle-orm';
import { rowsOf, type Executor } from './db.ts';
import type { DeliveryRow } from './messages.ts';
import { ownerGone } from './queue-workers.ts';
import { deliveries, inbound, messageVersions, seenJti } from './schema.ts';
import type { StoredBody } from './bodies.ts';

/** States after which nothing changes any more for the recipient. */
const FINAL_FOR_FETCH: DeliveryState[] = ['fetched', 'retracted'];

/**
 * The notification a claimed row owes: answers and failures are recorded only while it is still the
 * one owed (an edit or retract meanwhile queues a newer one).
 */
export interface OwedNotification {
  id: string;
  kind: NotificationKind;
  version: number;
}

export const owedNotification = (d: DeliveryRow): OwedNotification => ({ id: d.id, kind: d.notifyKind!, version: d.version });

/** `value`, unless the delivery is already final (fetched/retracted), in which case `column` keeps its value. */
const unlessFinal = (column: typeof deliveries.state | typeof deliveries.reason, value: string | null) =>
  sql`case when ${deliveries.state} in (${sql.join(FINAL_FOR_FETCH.map((s) => sql`${s}`), sql`, `)}) then ${column} else ${value} end`;

/**
 * Claims up to `limit` deliveries with a notification due, leasing them for `leaseMs` to `owner`
 * (this process's queue_workers id; null on PGlite). Several processes on one PostgreSQL never claim
 * the same row; a crashed process's lease is free once it stops beating, or at the latest when it runs out.
 */
export async function claimDue(db: Executor, now: Date, limit: number, leaseMs: number, owner: string | null, skipDomains: readonly string[] = []): Promise<DeliveryRow[]> {
  const due = db
    .select({ id: deliveries.id })
    .from(deliveries)
    .where(and(
      isNotNull(deliveries.notifyKind),
      lte(deliveries.nextAttemptAt, now),
      or(isNull(deliveries.leaseUntil), lt(deliveries.leaseUntil, now), ownerGone(deliveries.leaseOwner)),
      skipDomains.length ? notInArray(deliveries.rcptDomain, [...skipDomains]) : undefined,
    ))
    .orderBy(deliveries.nextAttemptAt)
    .limit(limit)
    .for('update', { skipLocked: true });
  return db
    .update(deliveries)
    .set({ leaseUntil: new Date(now.getTime() + leaseMs), leaseOwner: owner, attempts: sql`${deliveries.attempts} + 1` })
    .where(inArray(deliveries.id, due))
    .returning();
}

/**
 * Records a peer's answer to the notification we sent for (kind, version). Does nothing when an edit
 * or retract has queued a newer notification meanwhile, and never moves a delivery out of
 * fetched/retracted.
 */
export async function recordAnswer(
  db: Executor,
  d: OwedNotification,
  answer: { state: DeliveryState; reason?: string | null; challenge?: unknown; challengeUrl?: string | null; now: Date; recheckAt?: Date },
): Promise<void> {
  await db
    .update(deliveries)
    .set(answerChanges(answer, d.kind))
    .where(and(eq(deliveries.id, d.id), eq(deliveries.notifyKind, d.kind), eq(deliveries.version, d.version)));
}

/** The row changes an answer makes (recordAnswer, recordAnswers); `kind` is kept only for a recheck. */
function answerChanges(answer: { state: DeliveryState; reason?: string | null; challenge?: unknown; challengeUrl?: string | null; now: Date; recheckAt?: Date }, kind: OwedNotification['kind']) {
  return {
    // held and challenged deliveries are asked about again later, to learn the user's decision
    notifyKind: answer.recheckAt ? kind : null,
    nextAttemptAt: answer.recheckAt ?? null,
    attempts: answer.recheckAt ? 0 : undefined,
    leaseUntil: null,
    lastError: null,
    notifiedAt: answer.now,
    state: unlessFinal(deliveries.state, answer.state),
    reason: unlessFinal(deliveries.reason, answer.reason ?? null),
    challenge: answer.challenge ?? null,
    challengeUrl: answer.challengeUrl ?? null,
  };
}

/**
 * recordAnswer for several deliveries given one and the same answer (a batch of `fetch allowed`, say),
 * in one statement. With `recheckAt` they must all owe the same kind of notification.
 */
export async function recordAnswers(
  db: Executor,
  ds: readonly OwedNotification[],
  answer: { state: DeliveryState; reason?: string | null; challenge?: unknown; challengeUrl?: string | null; now: Date; recheckAt?: Date },
): Promise<void> {
  if (ds.length <= 1) {
    if (ds.length) await recordAnswer(db, ds[0], answer);
    return;
  }
  const kinds = new Set(ds.map((d) => d.kind));
  if (answer.recheckAt && kinds.size > 1) throw new Error('recordAnswers: a recheck keeps each kind; group by kind');
  const owed = ds.map((d) => sql`(${d.id}::uuid, ${d.kind}, ${d.version}::integer)`);
  await db
    .update(deliveries)
    .set(answerChanges(answer, ds[0].kind))
    .where(sql`(${deliveries.id}, ${deliveries.notifyKind}, ${deliveries.version}) in (${sql.join(owed, sql`, `)})`);
}

/** A retry later (temporary failure), or giving up when the retry period is over. */
export async function recordFailure(
  db: Executor,
  d: OwedNotification,
  f: { error: string; retryAt?: Date; finalState?: 'expired' | 'failed' },
): Promise<void> {
  const set = f.finalState
    ? {
        notifyKind: null,
        leaseUntil: null,
        lastError: f.error,
        state: unlessFinal(deliveries.state, f.finalState),
        reason: unlessFinal(deliveries.reason, f.error),
      }
    : { leaseUntil: null, lastError: f.error, nextAttemptAt: f.retryAt };
  await db.update(deliveries).set(set).where(and(eq(deliveries.id, d.id), eq(deliveries.notifyKind, d.kind), eq(deliveries.version, d.version)));
}

/**
 * protocol §5: the fetch side of the retract-vs-fetch race. One UPDATE decides: the row lock makes a
 * concurrent retract wait and then see `fetched` (or makes us see `retracted`).
 */
export async function markFetched(db: Executor, messageId: string, rcpt: string, now: Date): Promise<{ outcome: 'fetched'; version: number } | { outcome: 'retracted' | 'not_found' }> {
  const [row] = await db
    .update(deliveries)
    // once fetched nothing more is owed to the recipient: no update, retract or recheck can follow
    .set({ state: 'fetched', fetchedAt: sql`coalesce(${deliveries.fetchedAt}, ${now.toISOString()}::timestamptz)`, reason: null, notifyKind: null })
    .where(and(eq(deliveries.messageId, messageId), eq(deliveries.rcpt, rcpt), sql`${deliveries.state} <> 'retracted'`))
    .returning({ version: deliveries.version });
  if (row) return { outcome: 'fetched', version: row.version };
  const [exists] = await db.select({ state: deliveries.state }).from(deliveries).where(and(eq(deliveries.messageId, messageId), eq(deliveries.rcpt, rcpt)));
  return { outcome: exists ? 'retracted' : 'not_found' };
}

/** What one fetch of a message found (serveFetchOnce). */
export type FetchOnce =
  | { outcome: 'fetched'; version: number; body: StoredBody }
  | { outcome: 'replayed' | 'retracted' | 'not_found' };

/**
 * protocol §4, §5 in one statement (one round trip for the fetch serve path): spends the proof's jti
 * (`jti` is the stored `iss:jti`), and only when it was unused marks the delivery fetched unless
 * retracted, returning where the bytes of that version are. All parts see one snapshot, so a retract
 * committed before is seen and one committing after finds the delivery fetched, as with markFetched.
 */
export async function fetchOnce(db: Executor, f: { jti: string; iss: string; expiresAt: Date; messageId: string; rcpt: string; now: Date }): Promise<FetchOnce> {
  const res = await db.execute(sql`
    with spent as (
      insert into ${seenJti} (jti, iss, expires_at) values (${f.jti}, ${f.iss}, ${f.expiresAt.toISOString()}::timestamptz)
      on conflict do nothing returning 1
    ), marked as (
      update ${deliveries} set state = 'fetched', fetched_at = coalesce(fetched_at, ${f.now.toISOString()}::timestamptz), reason = null, notify_kind = null
      where message_id = ${f.messageId} and rcpt = ${f.rcpt} and state <> 'retracted' and exists (select 1 from spent)
      returning version
    )
    select (select count(*) from spent)::int as spent, m.version, v.raw, v.blob_id, v.size, v.sha256,
      (select d.state from ${deliveries} d where d.message_id = ${f.messageId} and d.rcpt = ${f.rcpt}) as state
    from (select 1) one
    left join marked m on true
    left join ${messageVersions} v on v.message_id = ${f.messageId} and v.version = m.version`);
  const rows = rowsOf<{
    spent: number; version: number | null; raw: Uint8Array | null; blob_id: string | null; size: number | null; sha256: string | null; state: string | null;
  }>(res);
  const r = rows[0];
  if (!r.spent) return { outcome: 'replayed' };
  if (r.version === null) return { outcome: r.state ? 'retracted' : 'not_found' };
  if (r.size === null || r.sha256 === null) return { outcome: 'not_found' };
  const raw = r.raw === null ? null : Buffer.isBuffer(r.raw) ? r.raw : Buffer.from(r.raw.buffer, r.raw.byteOffset, r.raw.byteLength);
  return { outcome: 'fetched', version: r.version, body: { raw, blobId: r.blob_id, size: r.size, sha256: r.sha256 } };
}

/**
 * protocol §5: the retract side. Deliveries not yet fetched become `retracted`; those already
 * notified owe the recipient a `retract` notification.
 */
export async function retractDeliveries(db: Executor, messageId: string, now: Date): Promise<{ rcpt: string; result: 'retracted' | 'already_fetched' }[]> {
  await db
    .update(deliveries)
    .set({
      state: 'retracted',
      // never tried: the recipient has heard nothing, so nothing is owed
      notifyKind: sql`case when ${deliveries.notifiedAt} is null and ${deliveries.attempts} = 0 then null else 'retract' end`,
      nextAttemptAt: now,
      leaseUntil: null,
      attempts: 0,
    })
    .where(and(eq(deliveries.messageId, messageId), notInArray(deliveries.state, FINAL_FOR_FETCH)));
  const rows = await db.select({ rcpt: deliveries.rcpt, state: deliveries.state }).from(deliveries).where(eq(deliveries.messageId, messageId)).orderBy(deliveries.rcpt);
  return rows.map((r) => ({ rcpt: r.rcpt, result: r.state === 'fetched' ? 'already_fetched' : 'retracted' }));
}

/**
 * protocol §5: an edit offers version `version` to every recipient who has not fetched (and was not
 * retracted or refused); those already notified get an `update` notification.
 */
export async function offerVersion(db: Executor, messageId: string, version: number, now: Date): Promise<number> {
  const rows = await db
    .update(deliveries)
    .set({
      version,
      notifyKind: sql`case when ${deliveries.notifiedAt} is null and ${deliveries.notifyKind} = 'new' then 'new' else 'update' end`,
      nextAttemptAt: now,
      leaseUntil: null,
      attempts: 0,
    })
    .where(and(eq(deliveries.messageId, messageId), notInArray(deliveries.state, ['fetched', 'retracted', 'rejected', 'expired', 'failed'])))
    .returning({ id: deliveries.id });
  return rows.length;
}

export async function findDelivery(db: Executor, messageId: string, rcpt: string): Promise<DeliveryRow | undefined> {
  const [row] = await db.select().from(deliveries).where(and(eq(deliveries.messageId, messageId), eq(deliveries.rcpt, rcpt)));
  return row;
}

/**
 * Frees every lease. Only for a process that owns the database alone (PGlite): whatever a crashed
 * predecessor had claimed is due again at once instead of after its lease.
 */
export async function releaseAllLeases(db: Executor): Promise<void> {
  await db.update(deliveries).set({ leaseUntil: null }).where(isNotNull(deliveries.leaseUntil));
  await db.update(inbound).set({ leaseUntil: null }).where(isNotNull(inbound.leaseUntil));
}

/** Queues the notification again carrying a proof-of-work answer (protocol §6). */
export async function attachPow(db: Executor, d: OwedNotification, pow: { nonce: string; counter: string }, now: Date): Promise<boolean> {
  const rows = await db
    .update(deliveries)
    .set({ pow, notifyKind: d.kind, nextAttemptAt: now, leaseUntil: null })
    .where(and(eq(deliveries.id, d.id), eq(deliveries.version, d.version), eq(deliveries.state, 'challenged')))
    .returning({ id: deliveries.id });
  return rows.length > 0;
}

/**
 * SMTP gateway: the next hop took the message (250 to DATA). Shown as `fetched`: the remote server
 * has the bytes and nothing can be retracted any more. Recorded even if a retract or edit was queued
 * meanwhile, because the handoff happened; the queued notification is then only cleared.
 */
export async function recordHandoff(db: Executor, d: OwedNotification, now: Date): Promise<void> {
  await db
    .update(deliveries)
    .set({
      state: 'fetched',
      reason: null,
      lastError: null,
      transport: 'smtp',
      notifiedAt: now,
      fetchedAt: sql`coalesce(${deliveries.fetchedAt}, ${now.toISOString()}::timestamptz)`,
      leaseUntil: null,
      notifyKind: sql`case when ${deliveries.notifyKind} = ${d.kind} and ${deliveries.version} = ${d.version} then null else ${deliveries.notifyKind} end`,
    })
    .where(eq(deliveries.id, d.id));
}

/** Marks deliveries as going through the SMTP gateway (their domain has no pull node). */
export async function setTransport(db: Executor, ids: string[], transport: Transport): Promise<void> {
  if (ids.length) await db.update(deliveries).set({ transport }).where(inArray(deliveries.id, ids));
}
