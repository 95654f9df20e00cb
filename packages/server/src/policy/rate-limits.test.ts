import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLimiterFactory } from '../store/rate-counters.ts';
import { createRateLimits } from './rate-limits.ts';

const memory = createLimiterFactory({ db: undefined as never, shared: false });
const roomy = { count: 1000, seconds: 3600 };

describe('rate limits per sender address and per sender domain', () => {
  it('holds one address to its own budget while others of its domain go on', async () => {
    const limits = createRateLimits({ domain: { count: 100, seconds: 3600 }, sender: { count: 2, seconds: 3600 }, send: roomy }, memory);
    assert.equal(await limits.take('amy@a.test'), 0);
    assert.equal(await limits.take('amy@a.test'), 0);
    const wait = await limits.take('amy@a.test');
    assert.ok(wait > 0 && wait <= 3600, `a third from amy waits (${wait} s)`);
    assert.equal(await limits.take('ann@a.test'), 0, 'another address of a.test is not held up');
  });

  it('holds a whole domain to its budget, whichever address sends', async () => {
    const limits = createRateLimits({ domain: { count: 3, seconds: 60 }, sender: { count: 100, seconds: 60 }, send: roomy }, memory);
    for (const s of ['a1@a.test', 'a2@a.test', 'a3@a.test']) assert.equal(await limits.take(s), 0);
    const wait = await limits.take('a4@a.test');
    assert.ok(wait > 0 && wait <= 60, `the fourth from a.test waits (${wait} s)`);
    assert.equal(await limits.take('c1@c.test'), 0, 'another domain is not held up');
  });
});

describe('a batch of several senders', () => {
  it('counts all or none: a refused sender hands back what the others took', async () => {
    const limits = createRateLimits({ domain: { count: 10, seconds: 60 }, sender: { count: 3, seconds: 60 }, send: roomy }, memory);
    const refused = await limits.takeEach(new Map([['bea@b.test', 2], ['bob@b.test', 4]]));
    assert.ok(refused.wait > 0, 'four from bob are over his three');
    assert.equal(refused.sender, 'bob@b.test');
    // nothing of the refused batch stays counted: bea still has 3, bob 3, and b.test its 10
    assert.deepEqual(await limits.takeEach(new Map([['bea@b.test', 3], ['bob@b.test', 3]])), { wait: 0 });
    for (const s of ['b1', 'b2', 'b3', 'b4']) assert.equal(await limits.take(`${s}@b.test`), 0);
    assert.ok((await limits.take('b5@b.test')) > 0, 'the eleventh from b.test is over the domain limit');
  });

  it('a single take refused by the address limit does not count against the domain', async () => {
    const limits = createRateLimits({ domain: { count: 2, seconds: 60 }, sender: { count: 1, seconds: 60 }, send: roomy }, memory);
    assert.equal(await limits.take('cy@c.test'), 0);
    assert.ok((await limits.take('cy@c.test')) > 0);
    assert.equal(await limits.take('cat@c.test'), 0, 'the refused one left the domain its second point');
  });
});

describe('per-user send limit (PULLMAIL_SEND_LIMIT)', () => {
  it('holds each user to their own budget, apart from the limits on arriving mail', async () => {
    const limits = createRateLimits({ domain: roomy, sender: roomy, send: { count: 2, seconds: 3600 } }, memory);
    assert.equal(await limits.takeSend('amy@a.test'), 0);
    assert.equal(await limits.takeSend('amy@a.test'), 0);
    const wait = await limits.takeSend('amy@a.test');
    assert.ok(wait > 3500 && wait <= 3600, `a third send by amy waits out the window (${wait} s)`);
    assert.equal(await limits.takeSend('ann@a.test'), 0, 'another user is not held up');
    assert.equal(await limits.take('amy@a.test'), 0, 'mail arriving from amy elsewhere is counted apart');
  });
});
