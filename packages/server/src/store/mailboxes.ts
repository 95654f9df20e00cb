// Mailboxes, their API tokens and domains.
import type { FirstContact } from '@pullmail/client/wire';
import { asc, count, eq, inArray, sql } from 'drizzle-orm';
import type { Executor } from './db.ts';
import { preparedFor } from './prepared.ts';
import { apiTokens, domains, mailboxes } from './schema.ts';

export type Mailbox = typeof mailboxes.$inferSelect;

export async function ensureDomains(db: Executor, names: readonly string[]): Promise<void> {
  if (names.length) await db.insert(domains).values(names.map((name) => ({ name }))).onConflictDoNothing();
}

/** Inserts a mailbox and its first token; returns undefined when the address is taken. */
export async function insertMailbox(db: Executor, m: { address: string; domain: string; passwordHash: string | null; tokenHash: string; admin?: boolean }): Promise<Mailbox | undefined> {
  const [row] = await db
    .insert(mailboxes)
    .values({ address: m.address, domain: m.domain, passwordHash: m.passwordHash, admin: m.admin ?? false })
    .onConflictDoNothing()
    .returning();
  if (row) await db.insert(apiTokens).values({ mailboxId: row.id, tokenHash: m.tokenHash });
  return row;
}

export async function findMailbox(db: Executor, address: string): Promise<Mailbox | undefined> {
  const [row] = await db.select().from(mailboxes).where(eq(mailboxes.address, address));
  return row;
}

/** The mailboxes of those of `addresses` (canonical) that have one, by address; one query. */
export async function findMailboxes(db: Executor, addresses: readonly string[]): Promise<Map<string, Mailbox>> {
  if (!addresses.length) return new Map();
  const rows = await db.select().from(mailboxes).where(inArray(mailboxes.address, [...new Set(addresses)]));
  return new Map(rows.map((m) => [m.address, m]));
}

export async function findMailboxById(db: Executor, id: string): Promise<Mailbox | undefined> {
  const [row] = await db.select().from(mailboxes).where(eq(mailboxes.id, id));
  return row;
}

export async function findMailboxByToken(db: Executor, tokenHash: string): Promise<Mailbox | undefined> {
  // every API request asks this: prepared once (store/prepared.ts)
  const find = preparedFor(db, 'mailbox_by_token', (d) =>
    d
      .select({ mailbox: mailboxes })
      .from(apiTokens)
      .innerJoin(mailboxes, eq(apiTokens.mailboxId, mailboxes.id))
      .where(eq(apiTokens.tokenHash, sql.placeholder('tokenHash')))
      .prepare('mailbox_by_token'),
  );
  const [row] = await find.execute({ tokenHash });
  return row?.mailbox;
}

export async function updateSettings(db: Executor, mailboxId: string, set: { firstContact?: FirstContact; challengeQuestion?: string | null; challengeAnswerHash?: string | null }): Promise<Mailbox> {
  const [row] = await db.update(mailboxes).set(set).where(eq(mailboxes.id, mailboxId)).returning();
  return row;
}

/** Every mailbox, by address, with whether it has a password and how many API tokens (admin `user list`). */
export async function listMailboxes(db: Executor): Promise<{ address: string; hasPassword: boolean; admin: boolean; disabledAt: Date | null; tokens: number; createdAt: Date }[]> {
  return db
    .select({
      address: mailboxes.address,
      hasPassword: sql<boolean>`${mailboxes.passwordHash} is not null`,
      admin: mailboxes.admin,
      disabledAt: mailboxes.disabledAt,
      tokens: count(apiTokens.id),
      createdAt: mailboxes.createdAt,
    })
    .from(mailboxes)
    .leftJoin(apiTokens, eq(apiTokens.mailboxId, mailboxes.id))
    .groupBy(mailboxes.id)
    .orderBy(asc(mailboxes.address));
}

/** Removes a mailbox with its tokens and mail (foreign keys cascade); its id, undefined when there was none. */
export async function deleteMailbox(db: Executor, address: string): Promise<string | undefined> {
  const [row] = await db.delete(mailboxes).where(eq(mailboxes.address, address)).returning({ id: mailboxes.id });
  return row?.id;
}

/** Disables (a time) or enables (null) a mailbox's logins. */
export async function setDisabledAt(db: Executor, mailboxId: string, disabledAt: Date | null): Promise<void> {
  await db.update(mailboxes).set({ disabledAt }).where(eq(mailboxes.id, mailboxId));
}

export async function setPasswordHash(db: Executor, mailboxId: string, passwordHash: string): Promise<void> {
  await db.update(mailboxes).set({ passwordHash }).where(eq(mailboxes.id, mailboxId));
}

/** Adds an API token; with `revokeOthers` every other token of the mailbox stops working. Returns how many were revoked. */
export async function addApiToken(db: Executor, mailboxId: string, tokenHash: string, revokeOthers: boolean): Promise<number> {
  const revoked = revokeOthers ? await db.delete(apiTokens).where(eq(apiTokens.mailboxId, mailboxId)).returning({ id: apiTokens.id }) : [];
  await db.insert(apiTokens).values({ mailboxId, tokenHash });
  return revoked.length;
}
