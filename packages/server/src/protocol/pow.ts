// Proof-of-work challenges (protocol §6): find `counter` such that
// SHA-256(nonce ":" msg.id ":" counter) starts with `bits` zero bits.
import { createHash, randomBytes } from 'node:crypto';
import type { PowChallenge } from '@pullmail/client/wire';

/** Largest difficulty a sender node agrees to solve (2^26 hashes is a few seconds on one core). */
export const MAX_SOLVABLE_BITS = 26;

export function makePowChallenge(bits: number, nowSeconds: number, ttlSeconds = 3600): PowChallenge {
  return { type: 'pow', alg: 'sha-256', bits, nonce: randomBytes(16).toString('base64url'), expires: nowSeconds + ttlSeconds };
}

export function leadingZeroBits(digest: Buffer): number {
  let bits = 0;
  for (const byte of digest) {
    if (byte === 0) {
      bits += 8;
      continue;
    }
    return bits + Math.clz32(byte) - 24;
  }
  return bits;
}

export function powDigest(nonce: string, msgId: string, counter: string): Buffer {
  return createHash('sha256').update(`${nonce}:${msgId}:${counter}`).digest();
}

export function isValidPow(challenge: Pick<PowChallenge, 'nonce' | 'bits'>, msgId: string, answer: { nonce: string; counter: string }): boolean {
  return answer.nonce === challenge.nonce && /^\d{1,20}$/.test(answer.counter) && leadingZeroBits(powDigest(challenge.nonce, msgId, answer.counter)) >= challenge.bits;
}

/** Brute force, synchronous: call it off the event loop (queue/pow-solver.ts). Undefined when `deadlineMs` passes. */
export function solvePow(nonce: string, msgId: string, bits: number, deadlineMs: number): string | undefined {
  for (let counter = 0; ; counter++) {
    if ((counter & 0xfff) === 0 && Date.now() > deadlineMs) return undefined;
    const c = String(counter);
    if (leadingZeroBits(powDigest(nonce, msgId, c)) >= bits) return c;
  }
}
