// Everything a request handler or worker needs, built once by createServer and passed down.
import type { Accounts } from './accounts/accounts.ts';
import type { Aliases } from './accounts/aliases.ts';
import type { CredentialChanges } from './accounts/credential-changes.ts';
import type { Config } from './config/config.ts';
import type { Logger } from './log.ts';
import type { Metrics } from './metrics.ts';
import type { Discovery, DnsResolver } from './peers/discovery.ts';
import type { Fetcher } from './peers/fetcher.ts';
import type { PeerKeys } from './peers/peer-keys.ts';
import type { GuessLimits } from './policy/guess-limits.ts';
import type { LoginThrottle } from './policy/login-throttle.ts';
import type { RateLimits } from './policy/rate-limits.ts';
import type { KeySet } from './protocol/key-set.ts';
import type { Database, Db } from './store/db.ts';

export interface AppContext {
  config: Config;
  database: Database;
  db: Db;
  keys: KeySet;
  accounts: Accounts;
  /** Announced by `accounts` when a password, disable or delete changes a mailbox's credentials; doors holding logins listen. */
  credentialChanges: CredentialChanges;
  aliases: Aliases;
  log: Logger;
  fetcher: Fetcher;
  resolver: DnsResolver;
  discovery: Discovery;
  peerKeys: PeerKeys;
  rateLimits: RateLimits;
  /** Wrong answers at the human challenge page, per page and per client address. */
  challengeGuesses: GuessLimits;
  /** Asked by every door that checks a password or token (policy/login-throttle.ts). */
  loginThrottle: LoginThrottle;
  metrics: Metrics;
  /** Base URL peers reach us at (config, or derived from the bound port). */
  publicUrl: string;
  /** This process's id in queue_workers, signed on the queue rows it claims (PostgreSQL); null on PGlite. */
  leaseOwner: string | null;
  /** Injected clock: milliseconds since the epoch. */
  now: () => number;
  /** Wakes the outbound and fetch queues after new work is stored. */
  kick: (queue?: 'notify' | 'fetch') => void;
}

export const seconds = (ctx: Pick<AppContext, 'now'>): number => Math.floor(ctx.now() / 1000);
