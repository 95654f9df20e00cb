// The same migrations give the same schema on embedded PGlite and on PostgreSQL: tables, columns,
// types, nullability, defaults and indexes are compared from the catalogs of both.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { IN_MEMORY, openDatabase, type Database } from '../packages/server/src/store/db.ts';
import { testDatabase } from './harness/database.ts';
import { postgresSkipReason, reachablePostgres } from './harness/postgres.ts';

const PG_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

async function describeSchema(database: Database): Promise<unknown> {
  const rows = async (q: ReturnType<typeof sql>) => {
    const r = (await database.db.execute(q)) as unknown as { rows?: unknown[] } | unknown[];
    return JSON.parse(JSON.stringify(Array.isArray(r) ? r : (r.rows ?? [])));
  };
  const columns = await rows(sql`select table_name, column_name, data_type, is_nullable, column_default
    from information_schema.columns where table_schema = 'public' order by table_name, column_name`);
  const indexes = await rows(sql`select tablename, indexname, indexdef from pg_indexes where schemaname = 'public' order by tablename, indexname`);
  const constraints = await rows(sql`select conname, contype, pg_get_constraintdef(oid) as def from pg_constraint
    where connamespace = 'public'::regnamespace and contype <> 'n' order by conname`);
  // PostgreSQL 18 (inside PGlite) also lists NOT NULL as constraints; 15 does not. Nullability is compared through the columns.
  return { columns, indexes, constraints };
}

describe('migrations', () => {
  it('produce the same schema on PGlite and PostgreSQL', async (t) => {
    // without DATABASE_URL, the local server is tried (and skipped when absent); with it, it must answer
    if (process.env.DATABASE_URL) await postgresSkipReason(PG_URL, 'compare with PostgreSQL');
    else if (!(await reachablePostgres(PG_URL))) return t.skip(`no PostgreSQL at ${PG_URL}`);
    const saved = process.env.DATABASE_URL;
    process.env.DATABASE_URL = PG_URL;
    const pgDb = await testDatabase();
    if (saved === undefined) delete process.env.DATABASE_URL;
    const lite = await openDatabase({ dataDir: IN_MEMORY });
    const pg = await openDatabase({ databaseUrl: pgDb.env.DATABASE_URL, dataDir: IN_MEMORY });
    try {
      await lite.migrate();
      await pg.migrate();
      const a = await describeSchema(lite);
      const b = await describeSchema(pg);
      assert.ok(((a as { columns: unknown[] }).columns).length > 50, 'the schema has its tables');
      assert.deepEqual(a, b);
      // applying again is a no-op on both
      await lite.migrate();
      await pg.migrate();
    } finally {
      await lite.close();
      await pg.close();
      await pgDb.drop();
    }
  });
});
