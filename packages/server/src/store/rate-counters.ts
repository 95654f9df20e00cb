// Where rate limits and login throttles keep their counters: in process memory for now, so on
// PostgreSQL each process still counts on its own.
import { RateLimiterMemory, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { RateLimit } from '../config/config.ts';
import type { Database } from './db.ts';

/** Builds one fixed-window limiter; `name` keeps its keys apart from every other limiter's. */
export type LimiterFactory = (name: string, limit: RateLimit) => RateLimiterAbstract;

export function createLimiterFactory(_database: Pick<Database, 'db' | 'shared'>): LimiterFactory {
  return (name, limit) => new RateLimiterMemory({ points: limit.count, duration: limit.seconds, keyPrefix: name });
}
