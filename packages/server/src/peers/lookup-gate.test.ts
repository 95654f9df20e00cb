import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isPullmailError } from '../errors.ts';
import { createLookupGate, withDeadline, type LookupLimits } from './lookup-gate.ts';

const limits: LookupLimits = { perClient: { count: 3, seconds: 60 }, total: { count: 5, seconds: 60 }, maxConcurrent: 4, maxConcurrentPerClient: 2 };
const refused = (err: unknown) => isPullmailError(err, 'rate_limited') && err.temporary && (err.retryAfter ?? 0) >= 1;

describe('createLookupGate', () => {
  it('admits a client up to its rate, then refuses it with rate_limited and a Retry-After', () => {
    let t = 0;
    const gate = createLookupGate(limits, () => t);
    for (let i = 0; i < 3; i++) gate.enter('192.0.2.1')();
    assert.throws(() => gate.enter('192.0.2.1'), refused);
    // another address has its own budget
    gate.enter('192.0.2.2')();
    t += 60_000;
    gate.enter('192.0.2.1')();
  });

  it('refuses every client once the total rate is spent', () => {
    const gate = createLookupGate(limits, () => 0);
    for (let i = 0; i < 5; i++) gate.enter(`192.0.2.${i}`)();
    assert.throws(() => gate.enter('192.0.2.99'), refused);
  });

  it('limits lookups running at once, per client and in all, and frees a place when one ends', () => {
    const gate = createLookupGate({ ...limits, perClient: { count: 100, seconds: 60 }, total: { count: 100, seconds: 60 } }, () => 0);
    const a1 = gate.enter('a');
    gate.enter('a');
    assert.throws(() => gate.enter('a'), refused, 'a third at once from one client');
    a1();
    a1(); // leaving twice frees one place only
    const a3 = gate.enter('a');
    gate.enter('b');
    gate.enter('c');
    assert.throws(() => gate.enter('d'), refused, 'a fifth at once in all');
    a3();
    gate.enter('d');
  });

  it('remembers a bounded number of client addresses', () => {
    const gate = createLookupGate({ ...limits, total: { count: 1_000_000, seconds: 60 } }, () => 0);
    for (let i = 0; i < 20_000; i++) gate.enter(`c${i}`)();
    assert.equal(gate.trackedClients, 10_000);
  });
});

describe('withDeadline', () => {
  it('rejects with a temporary peer_unreachable when the work is late, and passes a prompt answer on', async () => {
    await assert.rejects(withDeadline(new Promise(() => undefined), 5, 'test'), (err: unknown) => isPullmailError(err, 'peer_unreachable') && err.temporary);
    assert.equal(await withDeadline(Promise.resolve(7), 5_000, 'test'), 7);
  });
});
