// No unlimited guessing (issue 12): every door that checks a secret (SMTP AUTH, IMAP login, web
// sign-in, API bearer tokens) asks this throttle first. Failures are counted per client address
// (IPv6 per /64) and per account named (PULLMAIL_AUTH_FAILURES_CLIENT / _ACCOUNT); past either limit
// the door refuses without looking at the secret until the window ends, so a correct guess is not
// recognised either. A success clears the account's count, never the client's.
import { isIPv4 } from 'node:net';
import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { RateLimit } from '../config/config.ts';
import { PullmailError } from '../errors.ts';
import { loginFailed, type LoginDoor } from '../events.ts';
import type { AppContext } from '../context.ts';
import { clientNetwork } from '../smtp/dns.ts';
import type { LimiterFactory } from '../store/rate-counters.ts';

export interface LoginAttempt {
  door: LoginDoor;
  /** The client's IP address as the socket reports it; undefined when there is none (in-process requests), which is then not counted per client. */
  client: string | undefined;
  /** The account named (canonical address), when the door names one; bearer tokens do not. */
  account?: string;
}

export interface LoginThrottle {
  /**
   * Runs `check` (the password or token check) unless the client or the account is locked out.
   * Returns what `check` found, or undefined when it found nothing, which is logged and counted once.
   * @throws PullmailError `rate_limited` with `retryAfter` (seconds) while locked out; `check` is not run.
   */
  guard<T>(attempt: LoginAttempt, check: () => Promise<T | undefined>): Promise<T | undefined>;
}

export function createLoginThrottle(
  ctx: Pick<AppContext, 'log' | 'metrics'>,
  opts: { client: RateLimit; account: RateLimit },
  limiter: LimiterFactory,
): LoginThrottle {
  const byClient = limiter('lc', opts.client);
  const byAccount = limiter('la', opts.account);
  // a request with no peer address (in-process, app.request()) has no client to count; its account still counts
  const keys = (a: LoginAttempt): [RateLimiterAbstract, string, RateLimit][] => [
    ...(a.client ? [[byClient, clientKey(a.client), opts.client] as [RateLimiterAbstract, string, RateLimit]] : []),
    ...(a.account ? [[byAccount, a.account, opts.account] as [RateLimiterAbstract, string, RateLimit]] : []),
  ];
  return {
    async guard(attempt, check) {
      const pairs = keys(attempt);
      const wait = Math.max(0, ...(await Promise.all(pairs.map(([l, k, limit]) => lockedFor(l, k, limit)))));
      if (wait > 0) {
        loginFailed(ctx, { ...attempt, reason: 'locked_out' });
        throw new PullmailError('rate_limited', `too many failed logins; try again in ${wait} s`, { retryAfter: wait });
      }
      const found = await check();
      if (found !== undefined) {
        if (attempt.account) await byAccount.delete(attempt.account);
        return found;
      }
      loginFailed(ctx, { ...attempt, reason: 'bad_credentials' });
      await Promise.all(pairs.map(([l, k]) => l.penalty(k, 1)));
      return undefined;
    },
  };
}

/** Seconds until `key` may try again: 0 while it has failed fewer than `limit.count` times in its window. */
async function lockedFor(limiter: RateLimiterAbstract, key: string, limit: RateLimit): Promise<number> {
  const res: RateLimiterRes | null = await limiter.get(key);
  if (!res || res.consumedPoints < limit.count) return 0;
  return Math.max(1, Math.ceil(res.msBeforeNext / 1000));
}

/** The key a client address is counted under: an IPv4 address itself, an IPv6 address by its /64. */
export function clientKey(ip: string | undefined): string {
  if (!ip) return 'local';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)?.[1];
  if (mapped || isIPv4(ip)) return mapped ?? ip;
  // one subscriber usually holds a whole /64: counting single IPv6 addresses would count nothing
  return clientNetwork(ip);
}
