// Crash recovery without waiting out the lease (issue 12): on PostgreSQL every node process writes a
// heartbeat to queue_workers and signs the queue rows it claims with its id (lease_owner). A claim
// treats a lease as free once its owner has not beaten for DEAD_AFTER_SECONDS, so after a SIGKILL the
// work is taken over in seconds instead of after PULLMAIL_QUEUE_LEASE_SECONDS. PGlite is one process
// and frees every lease at start (releaseAllLeases); its rows carry no owner.
import { eq, lt, sql, type Column, type SQL } from 'drizzle-orm';
import type { Executor } from './db.ts';
import { queueWorkers } from './schema.ts';

/** How often a process beats, ms. */
export const HEARTBEAT_MS = 2_000;
/**
 * Silence after which a process counts as dead, seconds: ten missed beats, so a process that is only
 * slow (a busy pool, a long pause) keeps its leases. A live process wrongly judged dead means a
 * notification or fetch sent twice, which recipients and senders deduplicate (protocol §7).
 */
export const DEAD_AFTER_SECONDS = 20;

/** Records that process `id` is alive, by the database's clock. */
export async function beat(db: Executor, id: string): Promise<void> {
  await db
    .insert(queueWorkers)
    .values({ id, seenAt: sql`now()` })
    .onConflictDoUpdate({ target: queueWorkers.id, set: { seenAt: sql`now()` } });
}

/** A stopping process leaves: whatever it still leases is free at once. */
export async function forgetWorker(db: Executor, id: string): Promise<void> {
  await db.delete(queueWorkers).where(eq(queueWorkers.id, id));
}

/** Removes processes silent for longer than `seconds` (housekeeping); returns how many. */
export async function pruneWorkers(db: Executor, seconds: number): Promise<number> {
  const rows = await db.delete(queueWorkers).where(lt(queueWorkers.seenAt, sql`now() - make_interval(secs => ${seconds})`)).returning({ id: queueWorkers.id });
  return rows.length;
}

/**
 * SQL true when the lease owner in `owner` has stopped beating (or left). A null owner (PGlite, or a
 * row leased before owners existed) never matches: `NULL NOT IN (<empty>)` would be true, hence the
 * explicit test and NOT EXISTS.
 */
export function ownerGone(owner: Column): SQL {
  return sql`(${owner} is not null and not exists (select 1 from ${queueWorkers} where ${queueWorkers.id} = ${owner} and ${queueWorkers.seenAt} > now() - make_interval(secs => ${DEAD_AFTER_SECONDS})))`;
}
