import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NotifyOutcome } from '../peers/notify-client.ts';
import { deliveryUpdate, notifyOutcomes, smtpDeliveryOutcome, type DeliveryOutcome, type DeliveryUpdate, type UpdateContext } from './delivery-updates.ts';

const T = Date.UTC(2026, 0, 10);
const at: UpdateContext = { now: T, backoffMs: 30_000, requestExpirySeconds: 14 * 86_400, heldRecheckSeconds: 3600 };
const row = (over: Partial<{ notifyKind: string | null; createdAt: Date; giveUpAt: Date }> = {}) => ({
  notifyKind: 'new',
  createdAt: new Date(T - 3600_000),
  giveUpAt: new Date(T + 86_400_000),
  ...over,
});
const now = new Date(T);
const recheck = new Date(T + 3600_000);
const human = { type: 'human' as const, url: 'https://b.test/challenge/x' };
const pow = { type: 'pow' as const, alg: 'sha-256' as const, bits: 8, nonce: 'n', expires: 0 };

describe('deliveryUpdate', () => {
  const cases: [string, ReturnType<typeof row>, DeliveryOutcome, DeliveryUpdate][] = [
    ['fetch → notified, nothing more to ask', row(), { outcome: 'decided', result: { decision: 'fetch', reason: 'allowed' } },
      { update: 'answer', state: 'notified', reason: null, challenge: undefined, challengeUrl: null, now }],
    ['hold → held, asked again after the recheck interval', row(), { outcome: 'decided', result: { decision: 'hold', reason: 'first_contact' } },
      { update: 'answer', state: 'held', reason: null, challenge: undefined, challengeUrl: null, now, recheckAt: recheck }],
    ['a human challenge keeps its url for the status', row(), { outcome: 'decided', result: { decision: 'challenge', reason: 'first_contact', challenge: human } },
      { update: 'answer', state: 'challenged', reason: null, challenge: human, challengeUrl: human.url, now, recheckAt: recheck }],
    ['a human challenge whose url was dropped shows none', row(), { outcome: 'decided', result: { decision: 'challenge', reason: 'first_contact', challenge: { type: 'human' } } },
      { update: 'answer', state: 'challenged', reason: null, challenge: { type: 'human' }, challengeUrl: null, now, recheckAt: recheck }],
    ['pow challenge: no url, rechecked too', row(), { outcome: 'decided', result: { decision: 'challenge', reason: 'first_contact', challenge: pow } },
      { update: 'answer', state: 'challenged', reason: null, challenge: pow, challengeUrl: null, now, recheckAt: recheck }],
    ['reject → rejected with its reason', row(), { outcome: 'decided', result: { decision: 'reject', reason: 'blocked' } },
      { update: 'answer', state: 'rejected', reason: 'blocked', challenge: undefined, challengeUrl: null, now }],
    // held past the request expiry (and a day): nothing more to learn
    ['hold long after sending: not asked again', row({ createdAt: new Date(T - 16 * 86_400_000) }), { outcome: 'decided', result: { decision: 'hold', reason: 'first_contact' } },
      { update: 'answer', state: 'held', reason: null, challenge: undefined, challengeUrl: null, now }],
    // whatever the answer to a retract, the delivery is retracted and nothing is rechecked
    ['any answer to a retract → retracted', row({ notifyKind: 'retract' }), { outcome: 'decided', result: { decision: 'hold', reason: 'first_contact' } },
      { update: 'answer', state: 'retracted', reason: null, challenge: undefined, challengeUrl: null, now }],
    ['temporary failure → retry after backoff', row(), { outcome: 'failed', error: 'down', temporary: true },
      { update: 'retry', error: 'down', retryAt: new Date(T + 30_000) }],
    ['temporary failure with Retry-After → retry after that', row(), { outcome: 'failed', error: 'slow down', temporary: true, retryAfterMs: 120_000 },
      { update: 'retry', error: 'slow down', retryAt: new Date(T + 120_000) }],
    ['temporary failure past the retry period → expired', row({ giveUpAt: new Date(T) }), { outcome: 'failed', error: 'down', temporary: true },
      { update: 'end', error: 'down', finalState: 'expired' }],
    ['permanent failure → failed at once', row(), { outcome: 'failed', error: 'bad_signature: no', temporary: false },
      { update: 'end', error: 'bad_signature: no', finalState: 'failed' }],
    ['SMTP hand-over', row(), { outcome: 'handed-over' }, { update: 'handoff', now }],
    ['SMTP nothing to send', row({ notifyKind: 'retract' }), { outcome: 'settled', state: 'retracted' },
      { update: 'answer', state: 'retracted', reason: null, challengeUrl: null, now }],
  ];
  for (const [name, d, outcome, expected] of cases) it(name, () => assert.deepEqual(deliveryUpdate(d, outcome, at), expected));
});

describe('notifyOutcomes', () => {
  const decided = { answer: 'decided' as const, result: { decision: 'fetch' as const, reason: 'allowed' } };
  const cases: [string, NotifyOutcome, DeliveryOutcome[]][] = [
    ['one outcome per answer, refusals as failures', { outcome: 'answered', answers: [decided, { answer: 'refused', code: 'unknown_key', detail: 'k2', temporary: true }] },
      [{ outcome: 'decided', result: decided.result }, { outcome: 'failed', error: 'unknown_key: k2', temporary: true }]],
    ['a refused request fails every notification it carried', { outcome: 'refused', status: 401, code: 'bad_signature', detail: 'no', temporary: false },
      [{ outcome: 'failed', error: 'bad_signature: no', temporary: false }, { outcome: 'failed', error: 'bad_signature: no', temporary: false }]],
    ['429 → temporary, after Retry-After', { outcome: 'rate-limited', retryAfterSeconds: 90, error: 'slow' },
      [{ outcome: 'failed', error: 'slow', temporary: true, retryAfterMs: 90_000 }, { outcome: 'failed', error: 'slow', temporary: true, retryAfterMs: 90_000 }]],
    ['peer failure → temporary', { outcome: 'peer-failed', error: 'answered 502' },
      [{ outcome: 'failed', error: 'answered 502', temporary: true }, { outcome: 'failed', error: 'answered 502', temporary: true }]],
    ['private address → final', { outcome: 'unreachable', code: 'private_address', error: 'refusing', temporary: false },
      [{ outcome: 'failed', error: 'refusing', temporary: false }, { outcome: 'failed', error: 'refusing', temporary: false }]],
  ];
  for (const [name, o, expected] of cases) it(name, () => assert.deepEqual(notifyOutcomes(o, 2), expected));
});

describe('smtpDeliveryOutcome', () => {
  it('maps delivered, nothing to send and failures (the remote reply kept)', () => {
    assert.deepEqual(smtpDeliveryOutcome({ outcome: 'delivered', host: 'mx.c.test', reply: '250 ok' }), { outcome: 'handed-over' });
    assert.deepEqual(smtpDeliveryOutcome({ outcome: 'nothing-to-send', state: 'fetched' }), { outcome: 'settled', state: 'fetched' });
    assert.deepEqual(smtpDeliveryOutcome({ outcome: 'failed', temporary: false, code: 'peer_error', error: 'mx answered 550 5.1.1 no' }),
      { outcome: 'failed', error: 'mx answered 550 5.1.1 no', temporary: false });
    assert.deepEqual(smtpDeliveryOutcome({ outcome: 'failed', temporary: true, code: 'peer_error', error: 'mx answered 451 4.7.1 later' }),
      { outcome: 'failed', error: 'mx answered 451 4.7.1 later', temporary: true });
  });
});
