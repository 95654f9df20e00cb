import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRateLimits } from './rate-limits.ts';

describe('rate limits per sender address and per sender domain', () => {
  it('holds one address to its own budget while others of its domain go on', async () => {
    const limits = createRateLimits({ domain: { count: 100, seconds: 3600 }, sender: { count: 2, seconds: 3600 } });
    assert.equal(await limits.take('amy@a.test'), 0);
    assert.equal(await limits.take('amy@a.test'), 0);
    const wait = await limits.take('amy@a.test');
    assert.ok(wait > 0 && wait <= 3600, `a third from amy waits (${wait} s)`);
    assert.equal(await limits.take('ann@a.test'), 0, 'another address of a.test is not held up');
  });

  it('holds a whole domain to its budget, whichever address sends', async () => {
    const limits = createRateLimits({ domain: { count: 3, seconds: 60 }, sender: { count: 100, seconds: 60 } });
    for (const s of ['a1@a.test', 'a2@a.test', 'a3@a.test']) assert.equal(await limits.take(s), 0);
    const wait = await limits.take('a4@a.test');
    assert.ok(wait > 0 && wait <= 60, `the fourth from a.test waits (${wait} s)`);
    assert.equal(await limits.take('c1@c.test'), 0, 'another domain is not held up');
  });
});
