import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isValidPow, leadingZeroBits, makePowChallenge, powDigest, solvePow } from './pow.ts';

describe('proof of work (protocol §6)', () => {
  it('counts leading zero bits', () => {
    assert.equal(leadingZeroBits(Buffer.from([0x80])), 0);
    assert.equal(leadingZeroBits(Buffer.from([0x01])), 7);
    assert.equal(leadingZeroBits(Buffer.from([0x00, 0x00, 0x10])), 19);
    assert.equal(leadingZeroBits(Buffer.alloc(4)), 32);
  });

  it('accepts a solved answer and refuses a wrong counter, another nonce or another message', () => {
    const ch = makePowChallenge(12, 1000);
    const counter = solvePow(ch.nonce, 'msg1', ch.bits, Date.now() + 10_000)!;
    assert.ok(leadingZeroBits(powDigest(ch.nonce, 'msg1', counter)) >= 12);
    assert.equal(isValidPow(ch, 'msg1', { nonce: ch.nonce, counter }), true);
    assert.equal(isValidPow(ch, 'msg2', { nonce: ch.nonce, counter }), leadingZeroBits(powDigest(ch.nonce, 'msg2', counter)) >= 12);
    assert.equal(isValidPow(ch, 'msg1', { nonce: 'other', counter }), false);
    assert.equal(isValidPow(ch, 'msg1', { nonce: ch.nonce, counter: '-1' }), false); // not a decimal counter
  });

  it('property: an answer is valid exactly when its digest has enough zero bits', () => {
    fc.assert(fc.property(fc.nat(), fc.integer({ min: 0, max: 10 }), (n, bits) => {
      const ch = { nonce: 'n0nce', bits };
      const ok = isValidPow(ch, 'm', { nonce: 'n0nce', counter: String(n) });
      return ok === leadingZeroBits(powDigest('n0nce', 'm', String(n))) >= bits;
    }));
  });

  it('gives up at the deadline', () => {
    assert.equal(solvePow('x', 'y', 60, Date.now() - 1), undefined);
  });
});
