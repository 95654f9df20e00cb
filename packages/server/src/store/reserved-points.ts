// Rate limits without a shared-counter write per message (issue 15): a process takes points from the
// limiter in batches (one INSERT … ON CONFLICT on rate_counters reserves a hundredth of the limit) and
// hands them out from memory until they are spent or the window ends. Every point handed out was
// counted in the shared counter first, so the limit still holds across processes as an upper bound;
// what a process reserved and did not use by the end of the window is lost, so with P processes a key
// may be refused up to P × (batch − 1) points early, at most P % of the limit
// (docs/architecture.md "Limits across processes"). A refusal is remembered until the window ends.
import { LRUCache } from 'lru-cache';
import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { RateLimit } from '../config/config.ts';

/** A batch is this share of the limit's count (at least 1 point). */
export const RESERVE_SHARE = 100;
/** Most keys a limiter keeps reservations for (least recently used dropped: their points are lost). */
const MAX_KEYS = 100_000;

export interface PointTaker {
  /**
   * Takes `count` points (default one) for `key`: 0 when there were that many, else the seconds until
   * the window ends (at least 1). A refusal takes nothing: points taken for it are handed back.
   */
  take(key: string, count?: number): Promise<number>;
  /** Like take, and `undo` hands the points back when a later check refuses what they were taken for. */
  hold(key: string, count?: number): Promise<Taken>;
}

export interface Taken {
  wait: number;
  /** Hands back what was taken (only to the window it came from; nothing after a refusal). */
  undo(): void;
}

interface Held {
  /** Points reserved in the shared counter and not handed out yet. */
  left: number;
  /** When the window these points belong to ends (ms since the epoch). */
  until: number;
  /** Points the shared counter still had after our reservation. */
  remaining: number;
  refused: boolean;
}

/** Points are reserved in batches of `limit.count / RESERVE_SHARE` from `limiter` (consume and reward only). */
export function reservingTaker(limiter: RateLimiterAbstract, limit: RateLimit, now: () => number = Date.now): PointTaker {
  const batch = Math.max(1, Math.floor(limit.count / RESERVE_SHARE));
  const held = new LRUCache<string, Held>({ max: MAX_KEYS });
  const pending = new Map<string, Promise<void>>();

  async function reserve(key: string): Promise<void> {
    const last = held.get(key);
    // near the end of a window take only what the counter said it still had, so others are not starved
    const want = last && last.until > now() ? Math.min(batch, Math.max(1, last.remaining)) : batch;
    try {
      const res = await limiter.consume(key, want);
      held.set(key, { left: want, until: now() + res.msBeforeNext, remaining: res.remainingPoints, refused: false });
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) throw err;
      // the counter took all `want` points anyway: keep what was still free, give back the rest
      const free = Math.min(want, limit.count - (err.consumedPoints - want));
      if (free > 0) await limiter.reward(key, want - free);
      held.set(key, { left: Math.max(0, free), until: now() + err.msBeforeNext, remaining: 0, refused: free <= 0 });
    }
  }

  /** A point from the key's reservation (the Held it came from), or the seconds to wait. */
  async function takeOne(key: string): Promise<Held | number> {
    for (;;) {
      const h = held.get(key);
      const t = now();
      if (h && h.until > t) {
        if (h.left > 0) {
          h.left--;
          return h;
        }
        if (h.refused) return Math.max(1, Math.ceil((h.until - t) / 1000));
      }
      // one reservation per key at a time; everyone waiting for it looks again afterwards
      let p = pending.get(key);
      if (!p) {
        p = reserve(key).finally(() => pending.delete(key));
        pending.set(key, p);
      }
      await p;
    }
  }

  // a point handed back joins the key's reservation while the window it was counted in lasts (a
  // reservation made since is of the same window); a point of an ended window is dropped
  const giveBack = (key: string, from: Held[]) => () => {
    const t = now();
    const live = from.splice(0).filter((h) => h.until > t).length;
    const h = held.get(key);
    if (live && h && h.until > t) h.left += live;
  };

  async function hold(key: string, count = 1): Promise<Taken> {
    const from: Held[] = [];
    for (let i = 0; i < count; i++) {
      const got = await takeOne(key);
      if (typeof got === 'number') {
        giveBack(key, from)();
        return { wait: got, undo: () => {} };
      }
      from.push(got);
    }
    return { wait: 0, undo: giveBack(key, from) };
  }

  return { hold, take: async (key, count) => (await hold(key, count)).wait };
}
