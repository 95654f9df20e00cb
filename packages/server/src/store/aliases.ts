// Aliases and catch-alls (schema `aliases`): the rows, and what one recipient address may match.
import { asc, eq, inArray, sql } from 'drizzle-orm';
import type { Executor } from './db.ts';
import { preparedFor } from './prepared.ts';
import { aliases, mailboxes } from './schema.ts';
import type { Mailbox } from './mailboxes.ts';

export interface AliasRow {
  id: string;
  address: string;
  target: string;
  createdAt: Date;
}

const listed = { id: aliases.id, address: aliases.address, target: mailboxes.address, createdAt: aliases.createdAt };

/** Inserts an alias for `targetMailboxId`; undefined when the address is taken by another alias. */
export async function insertAlias(db: Executor, a: { address: string; domain: string; targetMailboxId: string }): Promise<{ id: string } | undefined> {
  const [row] = await db.insert(aliases).values(a).onConflictDoNothing().returning({ id: aliases.id });
  return row;
}

export async function listAliases(db: Executor): Promise<AliasRow[]> {
  return db.select(listed).from(aliases).innerJoin(mailboxes, eq(aliases.targetMailboxId, mailboxes.id)).orderBy(asc(aliases.address));
}

/** The exact aliases (no catch-all) of a mailbox: the addresses its user may also send as. */
export async function aliasesOf(db: Executor, mailboxId: string): Promise<string[]> {
  // asked on every send: prepared once (store/prepared.ts)
  const find = preparedFor(db, 'aliases_of', (d) =>
    d.select({ address: aliases.address }).from(aliases).where(eq(aliases.targetMailboxId, sql.placeholder('mailboxId'))).prepare('aliases_of'),
  );
  const rows = await find.execute({ mailboxId });
  return rows.map((r) => r.address).filter((a) => !a.startsWith('@'));
}

export async function deleteAlias(db: Executor, id: string): Promise<AliasRow | undefined> {
  const [row] = await db.select(listed).from(aliases).innerJoin(mailboxes, eq(aliases.targetMailboxId, mailboxes.id)).where(eq(aliases.id, id));
  if (row) await db.delete(aliases).where(eq(aliases.id, id));
  return row;
}

/**
 * Serializes every creation of a mailbox or an alias of `address` (canonical) until the transaction
 * ends: a transaction-scoped advisory lock on its hash, so the check that the address is neither and
 * the insert are one step, across processes sharing a PostgreSQL database too.
 */
export async function lockAddress(tx: Executor, address: string): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`address\n${address}`}, 0))`);
}

export async function aliasExists(db: Executor, address: string): Promise<boolean> {
  const [row] = await db.select({ id: aliases.id }).from(aliases).where(eq(aliases.address, address));
  return !!row;
}

/**
 * What `address` could resolve to: the mailbox of that address, else the mailboxes an exact alias
 * and the domain's catch-all point at (one query each). delivery/recipient.ts picks among them.
 */
export async function recipientCandidates(db: Executor, address: string, catchAll: string): Promise<{ mailbox?: Mailbox; alias?: Mailbox; catchAll?: Mailbox }> {
  const [own] = await db.select().from(mailboxes).where(eq(mailboxes.address, address));
  if (own) return { mailbox: own };
  const viaAlias = await db
    .select({ address: aliases.address, mailbox: mailboxes })
    .from(aliases)
    .innerJoin(mailboxes, eq(aliases.targetMailboxId, mailboxes.id))
    .where(inArray(aliases.address, [address, catchAll]));
  return {
    mailbox: own,
    alias: viaAlias.find((r) => r.address === address)?.mailbox,
    catchAll: viaAlias.find((r) => r.address === catchAll)?.mailbox,
  };
}
