// Points reserved in batches (issue 15): the limit holds as an upper bound across "processes" (two
// takers over one shared limiter), the shared counter is written once per batch, not per point, and
// what is lost to unused reservations stays within the stated tolerance.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RateLimiterMemory, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { RESERVE_SHARE, reservingTaker } from './reserved-points.ts';

/** A shared limiter that counts the writes (consume and reward calls) that reach it. */
function shared(count: number, seconds = 60): { limiter: RateLimiterAbstract; writes: () => number } {
  const limiter = new RateLimiterMemory({ points: count, duration: seconds });
  let writes = 0;
  for (const m of ['consume', 'reward'] as const) {
    const orig = limiter[m].bind(limiter) as (...a: unknown[]) => unknown;
    (limiter as unknown as Record<string, unknown>)[m] = (...a: unknown[]) => (writes++, orig(...a));
  }
  return { limiter, writes: () => writes };
}

describe('reserved points', () => {
  it('hands out exactly the limit in one process, one shared write per batch', async () => {
    const { limiter, writes } = shared(1000);
    const taker = reservingTaker(limiter, { count: 1000, seconds: 60 });
    const waits = await Promise.all(Array.from({ length: 1200 }, () => taker.take('s@a.test')));
    assert.equal(waits.filter((w) => w === 0).length, 1000);
    assert.ok(waits.filter((w) => w > 0).every((w) => w >= 1 && w <= 60), 'the refused wait for the window to end');
    // 100 batches of 10, and one refused reservation
    assert.ok(writes() <= 1000 / (1000 / RESERVE_SHARE) + 2, `${writes()} writes`);
  });

  it('never hands out more than the limit across two processes, and loses at most a batch each', async () => {
    for (const count of [1, 4, 150, 1000, 3003]) {
      const { limiter } = shared(count);
      const takers = [reservingTaker(limiter, { count, seconds: 60 }), reservingTaker(limiter, { count, seconds: 60 })];
      const waits = await Promise.all(Array.from({ length: count * 2 + 10 }, (_, i) => takers[i % 2].take('d.test')));
      const granted = waits.filter((w) => w === 0).length;
      const batch = Math.max(1, Math.floor(count / RESERVE_SHARE));
      assert.ok(granted <= count, `count ${count}: ${granted} granted`);
      assert.ok(granted >= count - 2 * (batch - 1), `count ${count}: only ${granted} granted`);
    }
  });

  it('a small limit is exact: 4 of 20 concurrent takes, each key on its own', async () => {
    const { limiter } = shared(4);
    const taker = reservingTaker(limiter, { count: 4, seconds: 60 });
    const waits = await Promise.all(Array.from({ length: 20 }, () => taker.take('bo@b.test')));
    assert.equal(waits.filter((w) => w === 0).length, 4);
    assert.equal(await taker.take('cy@b.test'), 0, 'another key has its own budget');
  });

  it('a refused take of several points takes none, and undo hands points back', async () => {
    const { limiter } = shared(5);
    const taker = reservingTaker(limiter, { count: 5, seconds: 60 });
    assert.equal(await taker.take('dee@d.test', 3), 0);
    assert.ok((await taker.take('dee@d.test', 3)) > 0, 'three more are over five');
    const two = await taker.hold('dee@d.test', 2);
    assert.equal(two.wait, 0, 'the refused three took nothing: two are still there');
    assert.ok((await taker.take('dee@d.test')) > 0);
    two.undo();
    two.undo();
    assert.equal(await taker.take('dee@d.test', 2), 0, 'undone points can be taken again');
    assert.ok((await taker.take('dee@d.test')) > 0, 'a second undo gave nothing more');
  });

  it('passes on an error of the shared store and takes again next time', async () => {
    const { limiter } = shared(100);
    const consume = limiter.consume.bind(limiter);
    let fail = true;
    limiter.consume = (...a: Parameters<typeof consume>) => (fail ? Promise.reject(new Error('database down')) : consume(...a));
    const taker = reservingTaker(limiter, { count: 100, seconds: 60 });
    await assert.rejects(taker.take('x@y.test'), /database down/);
    fail = false;
    assert.equal(await taker.take('x@y.test'), 0);
  });
});
