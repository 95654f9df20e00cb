// Admission for lookups an unverified request causes (protocol §2: "lookups for unknown domains are
// bounded in number, time and memory per client address"): a discovery or JWKS fetch for a domain we
// know nothing about is allowed only within a rate per client address and in all, and only while
// fewer than a fixed number run at once (per client and in all). Cached answers never pass here.
import { LRUCache } from 'lru-cache';
import type { RateLimit } from '../config/config.ts';
import { PullmailError } from '../errors.ts';

export interface LookupLimits {
  /** Lookups one client address may cause per window (PULLMAIL_LOOKUP_RATE_CLIENT). */
  perClient: RateLimit;
  /** Lookups all clients together may cause per window (PULLMAIL_LOOKUP_RATE). */
  total: RateLimit;
  /** Lookups running at once, all clients (PULLMAIL_LOOKUP_CONCURRENCY). */
  maxConcurrent: number;
  /** Lookups running at once for one client address. */
  maxConcurrentPerClient: number;
}

export interface LookupGate {
  /**
   * Admits one lookup for `client` (an IP address); call the returned function when it has ended.
   * @throws PullmailError `rate_limited` (temporary, with retryAfter) when a limit is reached.
   */
  enter(client: string): () => void;
  /** Client addresses currently tracked (bounded). */
  readonly trackedClients: number;
}

/** How many client addresses are remembered; past it the least recently seen is forgotten. */
const MAX_CLIENTS = 10_000;

interface Window {
  start: number;
  count: number;
  running: number;
}

export function createLookupGate(limits: LookupLimits, now: () => number = Date.now): LookupGate {
  const clients = new LRUCache<string, Window>({ max: MAX_CLIENTS });
  const all: Window = { start: now(), count: 0, running: 0 };

  /** Seconds until `w` has room again, or 0 when it has room now (counting the new lookup). */
  function overRate(w: Window, limit: RateLimit, t: number): number {
    if (t - w.start >= limit.seconds * 1000) {
      w.start = t;
      w.count = 0;
    }
    if (w.count < limit.count) return 0;
    return Math.max(1, Math.ceil((w.start + limit.seconds * 1000 - t) / 1000));
  }

  const refuse = (what: string, retryAfter: number) =>
    new PullmailError('rate_limited', `too many lookups of unknown sender domains ${what}; try again later`, { temporary: true, retryAfter });

  return {
    enter(client) {
      const t = now();
      let mine = clients.get(client);
      if (!mine) {
        mine = { start: t, count: 0, running: 0 };
        clients.set(client, mine);
      }
      if (mine.running >= limits.maxConcurrentPerClient) throw refuse('from this address at once', 1);
      if (all.running >= limits.maxConcurrent) throw refuse('at once', 1);
      const waitMine = overRate(mine, limits.perClient, t);
      if (waitMine) throw refuse('from this address', waitMine);
      const waitAll = overRate(all, limits.total, t);
      if (waitAll) throw refuse('in all', waitAll);
      mine.count++;
      all.count++;
      mine.running++;
      all.running++;
      const w = mine;
      let done = false;
      return () => {
        if (done) return;
        done = true;
        w.running--;
        all.running--;
      };
    },
    get trackedClients() {
      return clients.size;
    },
  };
}

/** A gate that admits everything: lookups the node starts itself (the outbound queue) need none. */
export const openGate: LookupGate = { enter: () => () => undefined, trackedClients: 0 };

/** `work`, but rejected with a temporary peer_unreachable once `ms` have passed (an overall deadline). */
export function withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new PullmailError('peer_unreachable', `${what}: no answer within ${ms} ms`, { temporary: true })), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}
