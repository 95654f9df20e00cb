import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { greylistDecision, REMEMBER_MS } from './greylist.ts';

const T0 = Date.UTC(2026, 0, 1);
const row = (o: { first?: number; last?: number; passed?: number }) => ({
  client: '192.0.2.0/24', sender: 'a@x.test', rcpt: 'b@y.test',
  firstSeenAt: new Date(o.first ?? T0), lastSeenAt: new Date(o.last ?? o.first ?? T0), passedAt: o.passed ? new Date(o.passed) : null,
});

describe('greylist decision', () => {
  it('defers a first sighting for the whole delay', () => {
    assert.deepEqual(greylistDecision(row({}), T0, 300).verdict, { pass: false, waitSeconds: 300 });
  });
  it('still defers a retry that comes too early, with the time left', () => {
    assert.deepEqual(greylistDecision(row({}), T0 + 100_000, 300).verdict, { pass: false, waitSeconds: 200 });
  });
  it('passes a retry after the delay and remembers it', () => {
    const d = greylistDecision(row({}), T0 + 301_000, 300);
    assert.deepEqual(d.verdict, { pass: true });
    assert.ok(d.next.passedAt);
    assert.deepEqual(greylistDecision(row({ passed: T0 + 301_000, last: T0 + 301_000 }), T0 + 400_000, 300).verdict, { pass: true });
  });
  it('starts over when a deferred sender came back only after a day', () => {
    assert.equal(greylistDecision(row({}), T0 + 25 * 3600_000, 300).verdict.pass, false);
  });
  it('forgets a passed triplet unused for longer than the memory', () => {
    assert.equal(greylistDecision(row({ passed: T0, last: T0 }), T0 + REMEMBER_MS + 1, 300).verdict.pass, false);
  });
});
