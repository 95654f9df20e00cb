// Where rate limits and login throttles keep their counters: in process memory on PGlite (one process
// by design), in the rate_counters table when several processes share PostgreSQL, so that a limit
// holds for the node as a whole, not per process (docs/architecture.md "Limits across processes").
// Both are rate-limiter-flexible limiters: RateLimiterMemory, and RateLimiterDrizzle over our own
// drizzle client (no second PostgreSQL driver), whose every hit is one atomic INSERT … ON CONFLICT.
import { lt } from 'drizzle-orm';
import { RateLimiterDrizzle, RateLimiterMemory, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { RateLimit } from '../config/config.ts';
import type { Database, Db } from './db.ts';
import { rateCounters } from './schema.ts';

/** Builds one fixed-window limiter; `name` keeps its keys apart from every other limiter's. */
export type LimiterFactory = (name: string, limit: RateLimit) => RateLimiterAbstract;

export function createLimiterFactory(database: Pick<Database, 'db' | 'shared'>): LimiterFactory {
  if (!database.shared) return (name, limit) => new RateLimiterMemory({ points: limit.count, duration: limit.seconds, keyPrefix: name });
  return (name, limit) =>
    new RateLimiterDrizzle({
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
