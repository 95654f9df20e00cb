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
import { reservingTaker, type Taken } from '../store/reserved-points.ts';

export interface RateLimits {
  /** Counts `count` (default 1) messages from `sender` (canonical address); seconds to wait when over a limit, else 0. */
  take(sender: string, count?: number): Promise<number>;
  /**
   * Counts the messages of several senders together (a batch): the seconds to wait when any of them is
   * over a limit, and then nothing is counted for any of them (the batch is refused and comes again).
   */
  takeEach(counts: ReadonlyMap<string, number>): Promise<{ wait: number; sender?: string }>;
  /** Counts one message sent or edited by the user `address`, whatever the door; seconds to wait when over, else 0. */
  takeSend(address: string): Promise<number>;
}

export function createRateLimits(opts: { domain: RateLimit; sender: RateLimit; send: RateLimit }, limiter: LimiterFactory): RateLimits {
  const byDomain = reservingTaker(limiter('d', opts.domain), opts.domain);
  const bySender = reservingTaker(limiter('s', opts.sender), opts.sender);
  // not reserved: points held by another process would refuse a user's sends before the limit (P × batch early)
  const byUser = limiter('u', opts.send);
  async function takeEach(counts: ReadonlyMap<string, number>) {
    const taken: Taken[] = [];
    const refused = (wait: number, sender: string) => {
      for (const t of taken) t.undo();
      return { wait, sender };
    };
    for (const [sender, count] of counts) {
      const domain = await byDomain.hold(domainOf(sender), count);
      if (domain.wait) return refused(domain.wait, sender);
      taken.push(domain);
      const own = await bySender.hold(sender, count);
      if (own.wait) return refused(own.wait, sender);
      taken.push(own);
    }
    return { wait: 0 };
  }
  return {
    take: async (sender, count = 1) => (await takeEach(new Map([[sender, count]]))).wait,
    takeEach,
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
