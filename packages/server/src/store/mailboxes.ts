// Mailboxes, their API tokens and domains.
import type { FirstContact } from '@pullmail/client/wire';
import { eq } from 'drizzle-orm';
import type { Executor } from './db.ts';
import { apiTokens, domains, mailboxes } from './schema.ts';

export type Mailbox = typeof mailboxes.$inferSelect;

export async function ensureDomains(db: Executor, names: readonly string[]): Promise<void> {
  if (names.length) await db.insert(domains).values(names.map((name) => ({ name }))).onConflictDoNothing();
}

/** Inserts a mailbox and its first token; returns undefined when the address is taken. */
export async function insertMailbox(db: Executor, m: { address: string; domain: string; passwordHash: string | null; tokenHash: string }): Promise<Mailbox | undefined> {
  const [row] = await db
    .insert(mailboxes)
    .values({ address: m.address, domain: m.domain, passwordHash: m.passwordHash })
    .onConflictDoNothing()
    .returning();
  if (row) await db.insert(apiTokens).values({ mailboxId: row.id, tokenHash: m.tokenHash });
  return row;
}

export async function findMailbox(db: Executor, address: string): Promise<Mailbox | undefined> {
  const [row] = await db.select().from(mailboxes).where(eq(mailboxes.address, address));
  return row;
}

export async function findMailboxById(db: Executor, id: string): Promise<Mailbox | undefined> {
  const [row] = await db.select().from(mailboxes).where(eq(mailboxes.id, id));
  return row;
}

export async function findMailboxByToken(db: Executor, tokenHash: string): Promise<Mailbox | undefined> {
  const [row] = await db
    .select({ mailbox: mailboxes })
    .from(apiTokens)
    .innerJoin(mailboxes, eq(apiTokens.mailboxId, mailboxes.id))
    .where(eq(apiTokens.tokenHash, tokenHash));
  return row?.mailbox;
}

export async function updateSettings(db: Executor, mailboxId: string, set: { firstContact?: FirstContact; challengeQuestion?: string | null; challengeAnswerHash?: string | null }): Promise<Mailbox> {
  const [row] = await db.update(mailboxes).set(set).where(eq(mailboxes.id, mailboxId)).returning();
  return row;
}
