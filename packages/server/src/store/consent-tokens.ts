// Consent tokens issued by our users, and the atomic counting of their uses (protocol §6).
import { and, desc, eq, gt, isNull, lt, sql } from 'drizzle-orm';
import type { Executor } from './db.ts';
import { consentTokens } from './schema.ts';

export type ConsentRow = typeof consentTokens.$inferSelect;

export async function insertConsent(db: Executor, row: { mailboxId: string; jti: string; senderPattern: string; maxUses: number; expiresAt: Date }): Promise<ConsentRow> {
  const [created] = await db.insert(consentTokens).values(row).returning();
  return created;
}

export async function listConsents(db: Executor, mailboxId: string): Promise<ConsentRow[]> {
  return db.select().from(consentTokens).where(eq(consentTokens.mailboxId, mailboxId)).orderBy(desc(consentTokens.createdAt));
}

export async function revokeConsent(db: Executor, mailboxId: string, id: string, now: Date): Promise<boolean> {
  if (!/^[0-9a-f-]{36}$/i.test(id)) return false;
  const rows = await db
    .update(consentTokens)
    .set({ revokedAt: sql`coalesce(${consentTokens.revokedAt}, ${now.toISOString()}::timestamptz)` })
    .where(and(eq(consentTokens.mailboxId, mailboxId), eq(consentTokens.id, id)))
    .returning({ id: consentTokens.id });
  return rows.length > 0;
}

/** The token, if it is ours, not revoked, not exhausted and not expired. */
function spendable(jti: string, mailboxId: string, now: Date) {
  return and(
    eq(consentTokens.jti, jti),
    eq(consentTokens.mailboxId, mailboxId),
    isNull(consentTokens.revokedAt),
    lt(consentTokens.uses, consentTokens.maxUses),
    gt(consentTokens.expiresAt, now),
  );
}

/** True when one use of the token could be spent now (read only: the SMTP gateway spends at DATA). */
export async function consentSpendable(db: Executor, jti: string, mailboxId: string, now: Date): Promise<boolean> {
  const [row] = await db
    .select({ id: consentTokens.id })
    .from(consentTokens)
    .where(spendable(jti, mailboxId, now));
  return !!row;
}

/**
 * Spends one use of a token. One UPDATE decides, so two concurrent uses of a one-use token cannot
 * both succeed. False for unknown, revoked, exhausted or expired tokens.
 */
export async function spendConsent(db: Executor, jti: string, mailboxId: string, now: Date): Promise<boolean> {
  const rows = await db
    .update(consentTokens)
    .set({ uses: sql`${consentTokens.uses} + 1` })
    .where(spendable(jti, mailboxId, now))
    .returning({ id: consentTokens.id });
  return rows.length > 0;
}
