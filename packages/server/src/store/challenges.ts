// Human challenge pages: which sender must answer which user's question, and for which held message
// (pm1) or for no message at all (an SMTP-stage challenge, docs/cri.md).
import { and, eq, gt, isNull, lt } from 'drizzle-orm';
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

/** Marks solved once, keeping the hash of the CRI token handed out (if any); false when it was already solved. */
export async function solveChallenge(db: Executor, id: string, now: Date, tokenHash: string | null = null): Promise<boolean> {
  const rows = await db.update(challenges).set({ solvedAt: now, tokenHash }).where(and(eq(challenges.id, id), isNull(challenges.solvedAt))).returning({ id: challenges.id });
  return rows.length > 0;
}

/** The answered challenge whose CRI token has this SHA-256 hex. */
export async function findChallengeByToken(db: Executor, tokenHash: string): Promise<ChallengeRow | undefined> {
  const [row] = await db.select().from(challenges).where(eq(challenges.tokenHash, tokenHash));
  return row;
}

/**
 * Forgets SMTP-stage challenges that expired before `before` (the caller passes now − allow window,
 * so a token handed out before expiry has run out too). pm1 challenges go with their held message.
 */
export async function pruneChallenges(db: Executor, before: Date): Promise<number> {
  const rows = await db.delete(challenges).where(and(isNull(challenges.inboundId), lt(challenges.expiresAt, before))).returning({ id: challenges.id });
  return rows.length;
}
