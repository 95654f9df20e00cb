// Queries of the web UI's sessions (web_sessions): rows are found, touched and deleted by the hash of
// the cookie's id, never by the id itself.
import { and, eq, gt, lt } from 'drizzle-orm';
import type { Executor } from './db.ts';
import { mailboxes, webSessions } from './schema.ts';
import type { Mailbox } from './mailboxes.ts';

export type WebSessionRow = typeof webSessions.$inferSelect;

export async function insertWebSession(db: Executor, row: Omit<WebSessionRow, 'createdAt' | 'lastSeenAt'> & { now: Date }): Promise<void> {
  const { now, ...rest } = row;
  await db.insert(webSessions).values({ ...rest, createdAt: now, lastSeenAt: now });
}

/** The live session with this hash and its mailbox (null for an admin session without one). */
export async function findWebSession(db: Executor, idHash: string, now: Date): Promise<{ session: WebSessionRow; mailbox: Mailbox | null } | undefined> {
  const [row] = await db
    .select({ session: webSessions, mailbox: mailboxes })
    .from(webSessions)
    .leftJoin(mailboxes, eq(mailboxes.id, webSessions.mailboxId))
    .where(and(eq(webSessions.idHash, idHash), gt(webSessions.expiresAt, now)))
    .limit(1);
  return row;
}

export async function touchWebSession(db: Executor, idHash: string, set: { lastSeenAt: Date; expiresAt: Date }): Promise<void> {
  await db.update(webSessions).set(set).where(eq(webSessions.idHash, idHash));
}

export async function deleteWebSession(db: Executor, idHash: string): Promise<void> {
  await db.delete(webSessions).where(eq(webSessions.idHash, idHash));
}

/** Deletes every session of a mailbox; returns how many there were. */
export async function deleteMailboxWebSessions(db: Executor, mailboxId: string): Promise<number> {
  return (await db.delete(webSessions).where(eq(webSessions.mailboxId, mailboxId)).returning({ h: webSessions.idHash })).length;
}

export async function pruneWebSessions(db: Executor, now: Date): Promise<void> {
  await db.delete(webSessions).where(lt(webSessions.expiresAt, now));
}
