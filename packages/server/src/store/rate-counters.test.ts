// Limits hold across processes (issue 12): two contexts, each with its own connection and its own
// limiters, on one database share each budget. Runs on the SQL store over PGlite always, and over two
// PostgreSQL connection pools when DATABASE_URL is set; the memory store is per process by design.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../log.ts';
import { createMetrics } from '../metrics.ts';
import { createLoginThrottle } from '../policy/login-throttle.ts';
import { createRateLimits } from '../policy/rate-limits.ts';
import { sharedDatabase } from '../../../../test/harness/database.ts';
import type { Database } from './db.ts';
import { createLimiterFactory, pruneRateCounters } from './rate-counters.ts';
import { rateCounters } from './schema.ts';

describe(`rate counters shared by two contexts (${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'})`, () => {
  let first: Database;
  let second: Database;
  let close: (() => Promise<void>) | undefined;
  before(async () => {
    ({ first, second, close } = await sharedDatabase());
  });
  after(async () => {
    await close?.();
  });

  const sql = (d: Database) => createLimiterFactory({ db: d.db, shared: true });
  const limits = (d: Database) => createRateLimits({ domain: { count: 1000, seconds: 60 }, sender: { count: 4, seconds: 60 }, send: { count: 3, seconds: 3600 } }, sql(d));

  it('a user\'s send budget is spent through either context', async () => {
    const [one, two] = [limits(first), limits(second)];
    assert.equal(await one.takeSend('amy@a.test'), 0);
    assert.equal(await two.takeSend('amy@a.test'), 0);
    assert.equal(await one.takeSend('amy@a.test'), 0);
    const wait = await two.takeSend('amy@a.test');
    assert.ok(wait > 3500 && wait <= 3600, `the fourth send, in the other context, waits (${wait} s)`);
    assert.ok((await one.takeSend('amy@a.test')) > 0, 'and so does a fifth in the first');
  });

  it('concurrent takes from both contexts never hand out more than the budget', async () => {
    const [one, two] = [limits(first), limits(second)];
    const waits = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? one : two).take('bo@b.test')));
    assert.equal(waits.filter((w) => w === 0).length, 4, `exactly 4 of 20 got through (${waits})`);
  });

  it('failed logins counted in one context lock the account in the other', async () => {
    const throttle = (d: Database) => createLoginThrottle({ log: createLogger('silent'), metrics: createMetrics(() => undefined) }, { client: { count: 100, seconds: 600 }, account: { count: 2, seconds: 600 } }, sql(d));
    const [one, two] = [throttle(first), throttle(second)];
    const attempt = { door: 'imap' as const, client: '192.0.2.1', account: 'cy@c.test' };
    assert.equal(await one.guard(attempt, async () => undefined), undefined);
    assert.equal(await two.guard(attempt, async () => undefined), undefined);
    await assert.rejects(one.guard(attempt, async () => 'right'), { code: 'rate_limited' });
  });

  it('ended windows are pruned', async () => {
    const before = (await first.db.select().from(rateCounters)).length;
    assert.ok(before > 0);
    assert.equal(await pruneRateCounters(first.db, new Date(Date.now() + 7200_000)), before);
    assert.equal((await first.db.select().from(rateCounters)).length, 0);
  });
});
