// Human challenge pages: which sender must answer which user's question, and for which held message.
import { and, eq, gt, isNull } from 'drizzle-orm';
import type { Executor } from './db.ts';
import { challenges } from './schema.ts';

export type ChallengeRow = typeof challenges.$inferSelect;

/** The open challenge for (mailbox, sender), reused so a sender gets one page, not one per message. */
export async function openChallenge(db: Executor, c: { id: string; mailboxId: string; sender: string; inboundId: string | null; expiresAt: Date; now: Date }): Promise<ChallengeRow> {
  const [existing] = await db
    .select()
    .from(challenges)
    .where(and(eq(challenges.mailboxId, c.mailboxId), eq(challenges.sender, c.sender), isNull(challenges.solvedAt), gt(challenges.expiresAt, c.now), c.inboundId ? eq(challenges.inboundId, c.inboundId) : isNull(challenges.inboundId)));
  if (existing) return existing;
  const [row] = await db.insert(challenges).values({ id: c.id, mailboxId: c.mailboxId, sender: c.sender, inboundId: c.inboundId, expiresAt: c.expiresAt, createdAt: c.now }).returning();
  return row;
}

export async function findChallenge(db: Executor, id: string): Promise<ChallengeRow | undefined> {
  if (!/^[A-Za-z0-9_-]{16,64}$/.test(id)) return undefined;
  const [row] = await db.select().from(challenges).where(eq(challenges.id, id));
  return row;
}

/** Marks solved once; false when it was already solved. */
export async function solveChallenge(db: Executor, id: string, now: Date): Promise<boolean> {
  const rows = await db.update(challenges).set({ solvedAt: now }).where(and(eq(challenges.id, id), isNull(challenges.solvedAt))).returning({ id: challenges.id });
  return rows.length > 0;
}
