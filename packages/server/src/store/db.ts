// Opens the node's database: embedded PGlite in the data directory by default, PostgreSQL through
// postgres.js when DATABASE_URL is set. Both get the same drizzle schema and the same migrations/.
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite, types, type QueryOptions } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
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
  /**
   * Calls `onPayload` for every NOTIFY on `channel`, from any process on the same database (PGlite:
   * this process); resolves with the function that stops listening.
   */
  listen(channel: string, onPayload: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/** The rows of a `db.execute` answer: postgres.js answers with the rows, PGlite with `{ rows }`. */
export function rowsOf<T>(res: unknown): T[] {
  return (Array.isArray(res) ? res : (res as { rows: T[] }).rows) as T[];
}

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../../../migrations', import.meta.url));

/** Advisory lock id held while migrating ("pullmail" in ASCII, truncated). */
const MIGRATION_LOCK = 0x70756c6c;

/**
 * The PostgreSQL extensions the migrations create, as PGlite loads them (it only offers an extension
 * it was opened with): pg_trgm for the folder search index (migration 0011). Tests that open a PGlite
 * of their own and migrate it pass these too.
 */
export const PGLITE_EXTENSIONS = { pg_trgm };

/** Special data dir value: an embedded database that lives only in memory (ephemeral nodes, tests). */
export const IN_MEMORY = ':memory:';

export async function openDatabase(opts: { databaseUrl?: string; dataDir: string }): Promise<Database> {
  return opts.databaseUrl ? openPostgres(opts.databaseUrl) : openPglite(opts.dataDir);
}

/**
 * postgres.js's arguments for `url`, whose `?host=` names the server as libpq's does: a host name, or a
 * Unix socket directory (`postgres:///pullmail?host=/var/run/postgresql`). postgres.js reads the host
 * only from the URL's authority and would send `host` to the server as a setting. A local PostgreSQL
 * over its socket saves the TCP loopback path on every statement and allows peer authentication. The
 * URL is otherwise left as written (a multi-host one included: the URL class cannot parse it).
 */
export function postgresTarget(url: string): { url: string; host?: string } {
  const m = /^([^?#]*\?)(.*?)(#.*)?$/s.exec(url);
  if (!m) return { url };
  const params = m[2].split('&');
  const i = params.findIndex((p) => p.startsWith('host='));
  if (i < 0) return { url };
  const host = decodeURIComponent(params[i].slice('host='.length));
  params.splice(i, 1);
  const rest = params.join('&');
  return { url: `${rest ? m[1] : m[1].slice(0, -1)}${rest}${m[3] ?? ''}`, host };
}

/** A postgres.js client for `url` (postgresTarget), with `options`. */
export function postgresClient(url: string, options: postgres.Options<Record<string, never>> = {}): postgres.Sql {
  const target = postgresTarget(url);
  return postgres(target.url, target.host ? { ...options, host: target.host } : options);
}

async function openPostgres(url: string): Promise<Database> {
  // fetch_types off: the schema has no array columns, and postgres.js 3.4.9 runs that per-connection
  // query unawaited, so a session killed during it was an unhandled rejection that ended the process
  const client = postgresClient(url, { max: 10, onnotice: () => {}, connect_timeout: 10, fetch_types: false });
  const db = drizzlePostgres(preparing(client), { schema }) as unknown as Db;
  return {
    db,
    kind: 'postgres',
    shared: true,
    migrate: async () => {
      // several processes may start at once: one migrates, the others wait and then find nothing to do.
      // With fetch_types off, postgres.js 3.4.9 never hands out a reservation that has to open a new
      // connection: open one first, so reserve() takes it from the pool.
      await client`select 1`;
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
    // postgres.js keeps one connection for LISTEN and re-listens after it reconnects
    listen: async (channel, onPayload) => {
      const { unlisten } = await client.listen(channel, onPayload);
      return unlisten;
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
function preparing(sql: postgres.Sql, tx?: TxState): postgres.Sql {
  return new Proxy(sql, {
    get(target, prop, receiver) {
      if (prop === 'unsafe') {
        return (query: string, params?: unknown[], options?: Record<string, unknown>) =>
          tx?.lost ? lostQuery() : target.unsafe(query, params as never, { ...options, prepare: true });
      }
      if (prop === 'begin' || prop === 'savepoint') {
        return (...args: unknown[]) => {
          const last = args.length - 1;
          const fn = args[last] as (inner: postgres.Sql) => unknown;
          const state = prop === 'begin' || !tx ? { lost: false } : tx;
          args[last] = (inner: postgres.Sql) => holdIfLost(() => fn(preparing(inner, state)), state);
          const result = (Reflect.get(target, prop, receiver) as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          // once begin has failed, a callback still running must not reach the connection
          if (prop === 'begin') result.catch(() => void (state.lost = true));
          return result;
        };
      }
      const value = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** Whether a transaction's connection died; nothing more may be sent on it. */
interface TxState {
  lost: boolean;
}

/**
 * postgres.js 3.4.9 answers a failed transaction callback with ROLLBACK on the same connection. When
 * that connection is gone (PostgreSQL restarted, session terminated) the ROLLBACK is written to a null
 * socket from a setImmediate, and the TypeError ends the process (porsager/postgres#1208, unfixed in
 * any release). So a callback that failed because the connection was lost never settles: no ROLLBACK
 * is sent (PostgreSQL rolls back by itself when a session ends), and begin() still rejects, with
 * CONNECTION_CLOSED, from its own close handler.
 */
async function holdIfLost(fn: () => unknown, state: TxState): Promise<unknown> {
  try {
    return await fn();
  } catch (err) {
    if (!isConnectionLost(err)) throw err;
    state.lost = true;
    return new Promise(() => {});
  }
}

/** Errors meaning the session is over: socket gone, or PostgreSQL ended it (class 08, 57P0x, FATAL). */
function isConnectionLost(err: unknown): boolean {
  return someCause(err, (code, severity) => LOST_CODES.has(code) || /^(08|57P0)/.test(code) || severity === 'FATAL' || severity === 'PANIC');
}

const LOST_CODES = new Set(['CONNECTION_CLOSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT']);

/**
 * True when a query failed because the database cannot serve anyone right now, not because of the
 * query: session lost, server restarting or unreachable, read-only (25006), disk full or out of
 * resources (class 53). http/ answers these 503 so that clients try again.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  return isConnectionLost(err) || someCause(err, (code) => UNAVAILABLE_CODES.has(code) || code === '25006' || /^53/.test(code));
}

const UNAVAILABLE_CODES = new Set(['CONNECTION_ENDED', 'CONNECTION_DESTROYED', 'CONNECT_TIMEOUT', 'ECONNREFUSED']);

/** Walks an error and its causes (drizzle wraps driver errors) looking for a code. */
function someCause(err: unknown, test: (code: string, severity: unknown) => boolean): boolean {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const { code, severity } = e as { code?: unknown; severity?: unknown };
    if (test(typeof code === 'string' ? code : '', severity)) return true;
  }
  return false;
}

/** What a query in a lost transaction gets instead of being sent: the shape drizzle awaits, rejected. */
function lostQuery(): never {
  const err = Object.assign(new Error('the database connection of this transaction was lost'), { code: 'CONNECTION_CLOSED' });
  const rejected = () => Promise.reject(err);
  return { values: rejected, then: (ok: never, ko: never) => rejected().then(ok, ko) } as never;
}

/**
 * Type handling set once on the PGlite client. bytea to and from PGlite's text form (`\x` then hex
 * digits) with Buffer's native hex codec: PGlite's own converts byte by byte through a JavaScript
 * closure each, for a 5 KB message body three times per pm1 delivery (send, fetch serve, fetch store).
 */
const PGLITE_TYPES = {
  serializers: {
    [types.BYTEA]: (v: unknown) => {
      if (!(v instanceof Uint8Array)) throw new TypeError('bytea takes a Uint8Array');
      return `\\x${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')}`;
    },
  },
  parsers: {
    [types.BYTEA]: (v: string) => Buffer.from(v.slice(2), 'hex'),
    // what drizzle's PGlite driver asks for on every query (PgliteSession's parsers): dates, times and
    // numeric[] and the date and time arrays stay text, and drizzle maps them per column
    ...Object.fromEntries([types.TIMESTAMP, types.TIMESTAMPTZ, types.INTERVAL, types.DATE, 1231, 1115, 1185, 1187, 1182].map((t) => [t, (v: string) => v])),
  },
};

/**
 * The PGlite client as drizzle gets it: without the parsers drizzle passes with every query, which
 * PGlite merges into its table of some 320 parsers each time (about 90 µs, and a query with them took
 * 320 µs against 130 µs without, on this machine). PGLITE_TYPES sets the same ones once on the client.
 */
function withoutPerQueryParsers<T extends Pick<PGlite, 'query'> & { transaction?: PGlite['transaction'] }>(client: T): T {
  return new Proxy(client, {
    get(target, prop) {
      if (prop === 'query') {
        return (query: string, params?: unknown[], options?: QueryOptions) =>
          target.query(query, params, options?.parsers ? { ...options, parsers: undefined } : options);
      }
      if (prop === 'transaction' && target.transaction) {
        return (fn: (tx: Parameters<Parameters<PGlite['transaction']>[0]>[0]) => Promise<unknown>) => target.transaction!((tx) => fn(withoutPerQueryParsers(tx)));
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

async function openPglite(dataDir: string): Promise<Database> {
  let unlock = () => {};
  let client: PGlite;
  if (dataDir === IN_MEMORY) {
    client = new PGlite({ extensions: PGLITE_EXTENSIONS, ...PGLITE_TYPES });
  } else {
    mkdirSync(dataDir, { recursive: true });
    unlock = lockDataDir(dataDir);
    try {
      client = new PGlite(join(dataDir, 'pglite'), { extensions: PGLITE_EXTENSIONS, ...PGLITE_TYPES });
      await client.waitReady;
    } catch (err) {
      unlock();
      throw err;
    }
  }
  const db = drizzlePglite(withoutPerQueryParsers(client), { schema }) as unknown as Db;
  return {
    db,
    kind: 'pglite',
    shared: false,
    migrate: () => migratePglite(db as never, { migrationsFolder: MIGRATIONS_DIR }),
    ping: async () => {
      await client.query('select 1');
    },
    listen: (channel, onPayload) => client.listen(channel, onPayload),
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
