// What the recipient policy reads and writes: rules, known correspondents, settings.
import type { CorrespondentSource, RuleAction } from '@pullmail/client/wire';
import { and, eq, gt, inArray, isNull, or, sql } from 'drizzle-orm';
import type { Executor } from './db.ts';
import type { Mailbox } from './mailboxes.ts';
import { preparedFor } from './prepared.ts';
import { correspondents, mailboxes, rules } from './schema.ts';

export type RuleRow = typeof rules.$inferSelect;

/** Rules matching an address exactly or by its `@domain`. */
export async function matchingRules(db: Executor, mailboxId: string, address: string): Promise<RuleRow[]> {
  const domainPattern = address.slice(address.lastIndexOf('@'));
  return preparedFor(db, 'matching_rules', (d) =>
    d.select().from(rules).where(and(eq(rules.mailboxId, sql.placeholder('mailboxId')), inArray(rules.pattern, [sql.placeholder('address'), sql.placeholder('domain')]))).prepare('matching_rules'),
  ).execute({ mailboxId, address, domain: domainPattern });
}

/**
 * A mailbox by address with what the policy knows about `sender` there, in one query (the SMTP RCPT
 * step): the actions of the rules matching the sender, and whether the sender is a known correspondent.
 */
export async function findMailboxFacts(db: Executor, address: string, sender: string, now: Date): Promise<{ mailbox: Mailbox; actions: RuleAction[]; correspondent: boolean } | undefined> {
  const rows = await preparedFor(db, 'find_recipient', buildFindRecipient).execute({ address, sender, domain: sender.slice(sender.lastIndexOf('@')), now: now.toISOString() });
  if (!rows.length) return undefined;
  return { mailbox: rows[0].mailbox, actions: rows.flatMap((r) => (r.action ? [r.action] : [])), correspondent: rows[0].correspondent };
}

function buildFindRecipient(db: Executor) {
  const known = db
    .select({ one: sql`1` })
    .from(correspondents)
    .where(and(eq(correspondents.mailboxId, mailboxes.id), eq(correspondents.address, sql.placeholder('sender')), or(isNull(correspondents.expiresAt), gt(correspondents.expiresAt, sql.placeholder('now')))));
  return db
    .select({ mailbox: mailboxes, action: rules.action, correspondent: sql<boolean>`exists(${known})` })
    .from(mailboxes)
    .leftJoin(rules, and(eq(rules.mailboxId, mailboxes.id), inArray(rules.pattern, [sql.placeholder('sender'), sql.placeholder('domain')])))
    .where(eq(mailboxes.address, sql.placeholder('address')))
    .prepare('find_recipient');
}

export async function isCorrespondent(db: Executor, mailboxId: string, address: string, now: Date): Promise<boolean> {
  const [row] = await db
    .select({ a: correspondents.address })
    .from(correspondents)
    .where(and(eq(correspondents.mailboxId, mailboxId), eq(correspondents.address, address), or(isNull(correspondents.expiresAt), gt(correspondents.expiresAt, now))));
  return !!row;
}

/** Remembers correspondents; a permanent entry is never shortened by a temporary one. */
export async function addCorrespondents(db: Executor, mailboxId: string, addresses: string[], source: CorrespondentSource, expiresAt: Date | null = null): Promise<void> {
  if (!addresses.length) return;
  await db
    .insert(correspondents)
    .values(addresses.map((address) => ({ mailboxId, address, source, expiresAt })))
    .onConflictDoUpdate({
      target: [correspondents.mailboxId, correspondents.address],
      set: expiresAt === null ? { expiresAt: null, source } : { expiresAt },
      setWhere: expiresAt === null ? undefined : gt(correspondents.expiresAt, new Date(0)),
    });
}

export async function listRules(db: Executor, mailboxId: string): Promise<RuleRow[]> {
  return db.select().from(rules).where(eq(rules.mailboxId, mailboxId)).orderBy(rules.createdAt);
}

/** Adds or replaces the rule for a pattern (one action per pattern). */
export async function putRule(db: Executor, mailboxId: string, action: RuleAction, pattern: string): Promise<RuleRow> {
  const [row] = await db
    .insert(rules)
    .values({ mailboxId, action, pattern })
    .onConflictDoUpdate({ target: [rules.mailboxId, rules.pattern], set: { action } })
    .returning();
  return row;
}

export async function deleteRule(db: Executor, mailboxId: string, id: string): Promise<boolean> {
  if (!/^[0-9a-f-]{36}$/i.test(id)) return false;
  const rows = await db.delete(rules).where(and(eq(rules.mailboxId, mailboxId), eq(rules.id, id))).returning({ id: rules.id });
  return rows.length > 0;
}
