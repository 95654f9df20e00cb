// Greylisting triplets for the SMTP gateway (smtp/greylist.ts decides; this file only reads and writes).
import { and, eq, lt } from 'drizzle-orm';
import type { Executor } from './db.ts';
import { greylist } from './schema.ts';

export type GreylistRow = typeof greylist.$inferSelect;
export type Triplet = { client: string; sender: string; rcpt: string };

const where = (t: Triplet) => and(eq(greylist.client, t.client), eq(greylist.sender, t.sender), eq(greylist.rcpt, t.rcpt));

/** The triplet's row, inserting a first sighting at `now` when it is new. */
export async function seeTriplet(db: Executor, t: Triplet, now: Date): Promise<GreylistRow> {
  await db.insert(greylist).values({ ...t, firstSeenAt: now, lastSeenAt: now }).onConflictDoNothing();
  const [row] = await db.select().from(greylist).where(where(t));
  return row;
}

export async function updateTriplet(db: Executor, t: Triplet, set: Partial<Pick<GreylistRow, 'firstSeenAt' | 'lastSeenAt' | 'passedAt'>>): Promise<void> {
  await db.update(greylist).set(set).where(where(t));
}

/** Forgets triplets not seen since `before`. */
export async function pruneGreylist(db: Executor, before: Date): Promise<number> {
  const rows = await db.delete(greylist).where(lt(greylist.lastSeenAt, before)).returning({ client: greylist.client });
  return rows.length;
}
