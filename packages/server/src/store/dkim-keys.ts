// Per-domain DKIM keys for outbound SMTP, kept in the `domains` table (selector and PEM private key).
import { and, eq, isNull } from 'drizzle-orm';
import type { Executor } from './db.ts';
import { domains } from './schema.ts';

export interface StoredDkimKey {
  selector: string;
  privateKey: string;
}

export async function findDkimKey(db: Executor, domain: string): Promise<StoredDkimKey | undefined> {
  const [row] = await db.select({ selector: domains.dkimSelector, privateKey: domains.dkimPrivateKey }).from(domains).where(eq(domains.name, domain));
  return row?.selector && row.privateKey ? { selector: row.selector, privateKey: row.privateKey } : undefined;
}

/** Stores a key unless the domain has one already (two processes racing keep the first). */
export async function saveDkimKeyIfAbsent(db: Executor, domain: string, key: StoredDkimKey): Promise<void> {
  await db
    .update(domains)
    .set({ dkimSelector: key.selector, dkimPrivateKey: key.privateKey })
    .where(and(eq(domains.name, domain), isNull(domains.dkimPrivateKey)));
}
