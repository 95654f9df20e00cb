// Per sender-domain and per sender-address limits on notifications and SMTP messages
// (PULLMAIL_RATE_DOMAIN / PULLMAIL_RATE_SENDER). rate-limiter-flexible's in-memory limiter: the
// limits hold per node process; several processes behind one balancer each apply them.
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { domainOf } from '../address.ts';
import type { RateLimit } from '../config/config.ts';

export interface RateLimits {
  /** Counts one message from `sender` (canonical address); seconds to wait when over a limit, else 0. */
  take(sender: string): Promise<number>;
}

export function createRateLimits(opts: { domain: RateLimit; sender: RateLimit }): RateLimits {
  const byDomain = new RateLimiterMemory({ points: opts.domain.count, duration: opts.domain.seconds, keyPrefix: 'd' });
  const bySender = new RateLimiterMemory({ points: opts.sender.count, duration: opts.sender.seconds, keyPrefix: 's' });
  const wait = (err: unknown) => {
    if (err instanceof RateLimiterRes) return Math.max(1, Math.ceil(err.msBeforeNext / 1000));
    throw err;
  };
  return {
    async take(sender) {
      try {
        await byDomain.consume(domainOf(sender));
        await bySender.consume(sender);
      } catch (err) {
        return wait(err);
      }
      return 0;
    },
  };
}
