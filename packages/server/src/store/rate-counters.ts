// Where rate limits and login throttles keep their counters: in process memory on PGlite (one process
// by design), in the rate_counters table when several processes share PostgreSQL, so that a limit
// holds for the node as a whole, not per process (docs/architecture.md "Limits across processes").
// Both are rate-limiter-flexible limiters: RateLimiterMemory, and RateLimiterDrizzle over our own
// drizzle client (no second PostgreSQL driver), whose every hit is one atomic INSERT … ON CONFLICT,
// prepared once (PreparedRateLimiter).
import { and, eq, isNull, gt, lt, or, sql } from 'drizzle-orm';
import { RateLimiterDrizzle, RateLimiterMemory, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { RateLimit } from '../config/config.ts';
import type { Database, Db, Executor } from './db.ts';
import { preparedFor } from './prepared.ts';
import { rateCounters } from './schema.ts';

type Counter = typeof rateCounters.$inferSelect;

/**
 * RateLimiterDrizzle with its two hot statements prepared once per database handle (store/prepared.ts):
 * the library builds them with drizzle's query builder on every hit, which cost more CPU than sending
 * them (a send's limit and every API request's login-throttle read, issue 15). The SQL is the library's
 * own (RateLimiterDrizzle `_upsert` and `_get`, the store methods rate-limiter-flexible's stores implement).
 */
class PreparedRateLimiter extends RateLimiterDrizzle {
  readonly #db: Executor;
  constructor(opts: ConstructorParameters<typeof RateLimiterDrizzle>[0] & { storeClient: Executor }) {
    super(opts);
    this.#db = opts.storeClient;
  }

  async _upsert(key: string, points: number, msDuration: number, forceExpire = false): Promise<Counter> {
    const now = new Date();
    const expire = msDuration > 0 ? new Date(now.getTime() + msDuration).toISOString() : null;
    const [row] = await upsertCounter(this.#db, forceExpire).execute({ key, points, expire, now: now.toISOString() });
    return row;
  }

  async _get(key: string): Promise<Counter | null> {
    const [row] = await liveCounter(this.#db).execute({ key, now: new Date().toISOString() });
    return row ?? null;
  }
}

const upsertCounter = (db: Executor, forceExpire: boolean) =>
  preparedFor(db, forceExpire ? 'rate_counter_set' : 'rate_counter_add', (d) => {
    const points = sql`${sql.placeholder('points')}::int`;
    // drizzle maps a placeholder's value through its column, null included: the dates go in as SQL
    const expire = sql`${sql.placeholder('expire')}::timestamptz`;
    const ended = sql`${rateCounters.expire} <= ${sql.placeholder('now')}::timestamptz`;
    return d
      .insert(rateCounters)
      .values({ key: sql.placeholder('key'), points, expire })
      .onConflictDoUpdate({
        target: rateCounters.key,
        set: forceExpire
          ? { points, expire }
          : { points: sql`case when ${ended} then ${points} else ${rateCounters.points} + ${points} end`, expire: sql`case when ${ended} then ${expire} else ${rateCounters.expire} end` },
      })
      .returning()
      .prepare(forceExpire ? 'rate_counter_set' : 'rate_counter_add');
  });

const liveCounter = (db: Executor) =>
  preparedFor(db, 'rate_counter_get', (d) =>
    d
      .select()
      .from(rateCounters)
      .where(and(eq(rateCounters.key, sql.placeholder('key')), or(gt(rateCounters.expire, sql`${sql.placeholder('now')}::timestamptz`), isNull(rateCounters.expire))))
      .limit(1)
      .prepare('rate_counter_get'),
  );

/** Builds one fixed-window limiter; `name` keeps its keys apart from every other limiter's. */
export type LimiterFactory = (name: string, limit: RateLimit) => RateLimiterAbstract;

export function createLimiterFactory(database: Pick<Database, 'db' | 'shared'>): LimiterFactory {
  if (!database.shared) return (name, limit) => new RateLimiterMemory({ points: limit.count, duration: limit.seconds, keyPrefix: name });
  return (name, limit) =>
    new PreparedRateLimiter({
      storeClient: database.db,
      schema: rateCounters,
      points: limit.count,
      duration: limit.seconds,
      keyPrefix: name,
      // the maintenance worker removes ended windows (pruneRateCounters); no timer per limiter
      clearExpiredByTimeout: false,
    });
}

/** Removes counters whose window ended before `before`; returns how many. */
export async function pruneRateCounters(db: Db, before: Date): Promise<number> {
  return (await db.delete(rateCounters).where(lt(rateCounters.expire, before)).returning({ key: rateCounters.key })).length;
}
