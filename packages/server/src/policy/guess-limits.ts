// Attempts at the human challenge page (issue 12: no unlimited guessing): after a few wrong answers
// to one page, or from one client address to any page, both are locked for a while. In memory, like
// the rate limits: each node process counts for itself.
import { RateLimiterMemory } from 'rate-limiter-flexible';

export interface GuessLimit {
  /** Wrong answers allowed before the lock. */
  attempts: number;
  /** How long wrong answers are remembered, and so how long a lock lasts at most. */
  seconds: number;
}

/** Five wrong answers per page, ten per client address (several senders behind one NAT), per quarter hour. */
export const CHALLENGE_GUESS_LIMITS: { page: GuessLimit; client: GuessLimit } = {
  page: { attempts: 5, seconds: 900 },
  client: { attempts: 10, seconds: 900 },
};

export interface GuessLimits {
  /** Seconds until `page` may be answered from `client` again; 0 when it may now. */
  lockedFor(page: string, client: string): Promise<number>;
  /** Counts one wrong answer against the page and the client address. */
  countWrong(page: string, client: string): Promise<void>;
}

export function createGuessLimits(limits = CHALLENGE_GUESS_LIMITS): GuessLimits {
  const limiter = (l: GuessLimit, keyPrefix: string) => ({ attempts: l.attempts, rl: new RateLimiterMemory({ points: l.attempts, duration: l.seconds, keyPrefix }) });
  const byPage = limiter(limits.page, 'page');
  const byClient = limiter(limits.client, 'client');
  const wait = async (l: ReturnType<typeof limiter>, key: string) => {
    const res = await l.rl.get(key);
    return res && res.consumedPoints >= l.attempts ? Math.max(1, Math.ceil(res.msBeforeNext / 1000)) : 0;
  };
  return {
    async lockedFor(page, client) {
      return Math.max(await wait(byPage, page), await wait(byClient, client));
    },
    async countWrong(page, client) {
      // over the limit the consume is refused, which is the lock we want: nothing to handle
      await Promise.allSettled([byPage.rl.consume(page), byClient.rl.consume(client)]);
    },
  };
}
