// Where a test node keeps its data: in-memory PGlite by default; with DATABASE_URL set, a fresh
// PostgreSQL database of its own on that server, dropped when the test is done.
import { randomBytes } from 'node:crypto';
import { IN_MEMORY, openDatabase, postgresClient, type Database } from '../../packages/server/src/store/db.ts';

export interface TestDatabase {
  env: Record<string, string>;
  drop(): Promise<void>;
}

export async function testDatabase(): Promise<TestDatabase> {
  const url = process.env.DATABASE_URL;
  if (!url) return { env: { PULLMAIL_DATA_DIR: ':memory:' }, drop: async () => {} };
  const name = `pm_t_${randomBytes(6).toString('hex')}`;
  const admin = postgresClient(url, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE "${name}"`);
  await admin.end();
  const own = new URL(url);
  own.pathname = `/${name}`;
  return {
    env: { DATABASE_URL: own.href },
    async drop() {
      const a = postgresClient(url, { max: 1, onnotice: () => {} });
      await a.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await a.end();
    },
  };
}

/**
 * One migrated test database opened twice, as two processes of one node would: on PostgreSQL two
 * connection pools; on PGlite (one connection by design) the same handle twice, so concurrent work
 * interleaves at every await instead.
 */
export async function sharedDatabase(): Promise<{ first: Database; second: Database; close(): Promise<void> }> {
  const test = await testDatabase();
  const url = test.env.DATABASE_URL;
  const first = await openDatabase({ databaseUrl: url, dataDir: IN_MEMORY });
  await first.migrate();
  const second = url ? await openDatabase({ databaseUrl: url, dataDir: IN_MEMORY }) : first;
  return {
    first,
    second,
    async close() {
      if (second !== first) await second.close();
      await first.close();
      await test.drop();
    },
  };
}
