// Node signing keys (protocol "Names"): several may be live during rotation.
import { desc, isNull, sql } from 'drizzle-orm';
import type { JWK } from 'jose';
import type { Executor } from './db.ts';
import { nodeKeys } from './schema.ts';

export interface StoredKey {
  kid: string;
  publicJwk: JWK;
  privateJwk: JWK;
  createdAt: Date;
  retiredAt: Date | null;
}

export async function listKeys(db: Executor): Promise<StoredKey[]> {
  const rows = await db.select().from(nodeKeys).orderBy(desc(nodeKeys.createdAt));
  return rows as StoredKey[];
}

/** Adds a key and retires the previous signer, in one transaction. */
export async function addKey(db: Executor, key: { kid: string; publicJwk: JWK; privateJwk: JWK }, now: Date): Promise<void> {
  await db.update(nodeKeys).set({ retiredAt: now }).where(isNull(nodeKeys.retiredAt));
  await db.insert(nodeKeys).values({ ...key, createdAt: now });
}

/**
 * Adds `key` as the node's first key unless another process made one meanwhile (processes starting
 * together on one database must not each sign with a key of their own that the others do not publish).
 */
export async function addFirstKey(tx: Executor, key: { kid: string; publicJwk: JWK; privateJwk: JWK }, now: Date): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended('pullmail first node key', 0))`);
  const [any] = await tx.select({ kid: nodeKeys.kid }).from(nodeKeys).limit(1);
  if (!any) await tx.insert(nodeKeys).values({ ...key, createdAt: now });
}
