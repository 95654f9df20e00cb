// Rate limits on what arrives and what users send: notifications and SMTP messages per sender domain
// and per sender address (PULLMAIL_RATE_DOMAIN / PULLMAIL_RATE_SENDER), and messages per signed-in
// user over every door (PULLMAIL_SEND_LIMIT). The counters live where the LimiterFactory keeps them:
// in memory on PGlite, in PostgreSQL when several processes share it (store/rate-counters.ts). The
// per-message limits reserve their points in batches (store/reserved-points.ts): no counter row is
// written for most messages, and one busy sender is not one hot row every message waits for.
import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { domainOf } from '../address.ts';
import type { RateLimit } from '../config/config.ts';
import type { LimiterFactory } from '../store/rate-counters.ts';
import { reservingTaker } from '../store/reserved-points.ts';

export interface RateLimits {
  /** Counts `count` (default 1) messages from `sender` (canonical address); seconds to wait when over a limit, else 0. */
  take(sender: string, count?: number): Promise<number>;
  /** Counts one message sent or edited by the user `address`, whatever the door; seconds to wait when over, else 0. */
  takeSend(address: string): Promise<number>;
}

export function createRateLimits(opts: { domain: RateLimit; sender: RateLimit; send: RateLimit }, limiter: LimiterFactory): RateLimits {
  const byDomain = reservingTaker(limiter('d', opts.domain), opts.domain);
  const bySender = reservingTaker(limiter('s', opts.sender), opts.sender);
  const byUser = limiter('u', opts.send);
  return {
    async take(sender, count = 1) {
      return (await byDomain.take(domainOf(sender), count)) || bySender.take(sender, count);
    },
    takeSend: (address) => consume(byUser, address),
  };
}

/** Takes `points` (default one); the seconds until the window ends when not that many were left, else 0. */
export async function consume(limiter: RateLimiterAbstract, key: string, points = 1): Promise<number> {
  try {
    await limiter.consume(key, points);
    return 0;
  } catch (err) {
    if (err instanceof RateLimiterRes) return Math.max(1, Math.ceil(err.msBeforeNext / 1000));
    throw err;
  }
}
