// Opens the node's database: embedded PGlite in the data directory by default, PostgreSQL through
// postgres.js when DATABASE_URL is set. Both get the same drizzle schema and the same migrations/.
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { PullmailError } from '../errors.ts';
import * as schema from './schema.ts';

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;
/** A transaction handle; queries take `Db | Tx` so they can join a caller's transaction. */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
export type Executor = Db | Tx;

export interface Database {
  db: Db;
  kind: 'pglite' | 'postgres';
  /** True when several node processes may share this database (PostgreSQL). */
  shared: boolean;
  migrate(): Promise<void>;
  /** Cheap liveness probe for /healthz. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../../../migrations', import.meta.url));

/** Advisory lock id held while migrating ("pullmail" in ASCII, truncated). */
const MIGRATION_LOCK = 0x70756c6c;

/** Special data dir value: an embedded database that lives only in memory (ephemeral nodes, tests). */
export const IN_MEMORY = ':memory:';

export async function openDatabase(opts: { databaseUrl?: string; dataDir: string }): Promise<Database> {
  return opts.databaseUrl ? openPostgres(opts.databaseUrl) : openPglite(opts.dataDir);
}

async function openPostgres(url: string): Promise<Database> {
  const client = postgres(url, { max: 10, onnotice: () => {}, connect_timeout: 10 });
  const db = drizzlePostgres(preparing(client), { schema }) as unknown as Db;
  return {
    db,
    kind: 'postgres',
    shared: true,
    migrate: async () => {
      // several processes may start at once: one migrates, the others wait and then find nothing to do
      const lock = await client.reserve();
      try {
        await lock`select pg_advisory_lock(${MIGRATION_LOCK})`;
        await migratePostgres(db as never, { migrationsFolder: MIGRATIONS_DIR });
      } finally {
        await lock`select pg_advisory_unlock(${MIGRATION_LOCK})`.catch(() => {});
        lock.release();
      }
    },
    ping: async () => {
      await client`select 1`;
    },
    close: () => client.end({ timeout: 5 }),
  };
}

/**
 * drizzle sends unnamed queries with `prepare: false`, which costs postgres.js a describe round trip
 * per query (drizzle-orm#6096). Our statements have a fixed set of shapes, so every query is sent as a
 * prepared statement, cached per connection by postgres.js: about half the database CPU per message
 * (bench/). Needs session pooling if a PgBouncer sits in between.
 */
function preparing(sql: postgres.Sql): postgres.Sql {
  return new Proxy(sql, {
    get(target, prop, receiver) {
      if (prop === 'unsafe') {
        return (query: string, params?: unknown[], options?: Record<string, unknown>) => target.unsafe(query, params as never, { ...options, prepare: true });
      }
      if (prop === 'begin' || prop === 'savepoint') {
        return (...args: unknown[]) => {
          const last = args.length - 1;
          const fn = args[last] as (inner: postgres.Sql) => unknown;
          args[last] = (inner: postgres.Sql) => fn(preparing(inner));
          return (Reflect.get(target, prop, receiver) as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
      const value = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

async function openPglite(dataDir: string): Promise<Database> {
  let unlock = () => {};
  let client: PGlite;
  if (dataDir === IN_MEMORY) {
    client = new PGlite();
  } else {
    mkdirSync(dataDir, { recursive: true });
    unlock = lockDataDir(dataDir);
    try {
      client = new PGlite(join(dataDir, 'pglite'));
      await client.waitReady;
    } catch (err) {
      unlock();
      throw err;
    }
  }
  const db = drizzlePglite(client, { schema }) as unknown as Db;
  return {
    db,
    kind: 'pglite',
    shared: false,
    migrate: () => migratePglite(db as never, { migrationsFolder: MIGRATIONS_DIR }),
    ping: async () => {
      await client.query('select 1');
    },
    close: async () => {
      await client.close();
      unlock();
    },
  };
}

/**
 * PGlite is one process: a second process on the same directory would silently lose writes, so the
 * node holds a PID lock file and refuses to start while another live process holds it.
 */
function lockDataDir(dataDir: string): () => void {
  const path = join(dataDir, 'pullmail.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(readFileSync(path, 'utf8'));
      if (pid && isAlive(pid)) {
        throw new PullmailError('unavailable', `data directory ${dataDir} is in use by process ${pid}; use DATABASE_URL to run several processes`);
      }
      rmSync(path, { force: true }); // stale lock from a crashed process
    }
  }
  throw new PullmailError('unavailable', `cannot lock data directory ${dataDir}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
