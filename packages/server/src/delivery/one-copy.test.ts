// copyAnswer: the answer to a notification whose message the mailbox keeps already under another address.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { InboundState, NotifyResult } from '@pullmail/client/wire';
import { copyAnswer } from './one-copy.ts';

const pow: NotifyResult = { decision: 'challenge', reason: 'first_contact', challenge: { type: 'pow', alg: 'sha-256', bits: 8, nonce: 'n', expires: 1 } };

describe('copyAnswer', () => {
  const table: [string, InboundState, NotifyResult | undefined, NotifyResult][] = [
    ['fetching with its fetch answer repeats it', 'fetching', { decision: 'fetch', reason: 'allowed' }, { decision: 'fetch', reason: 'allowed' }],
    // the user accepted the held request since: the copy's own answer says hold, its state fetch
    ['fetching after an accepted hold says fetch', 'fetching', { decision: 'hold', reason: 'first_contact' }, { decision: 'fetch', reason: 'known_correspondent' }],
    ['held repeats the hold', 'held', { decision: 'hold', reason: 'dmarc_quarantine' }, { decision: 'hold', reason: 'dmarc_quarantine' }],
    ['held with no answer found holds', 'held', undefined, { decision: 'hold', reason: 'first_contact' }],
    // the same challenge: the sender answers it once, for either address
    ['challenged repeats the challenge', 'challenged', pow, pow],
    ['stored is already fetched', 'stored', { decision: 'fetch', reason: 'allowed' }, { decision: 'fetch', reason: 'already_fetched' }],
    // overrideAnswers replaced the copy's answers when the user blocked the sender
    ['rejected repeats the final reject', 'rejected', { decision: 'reject', reason: 'blocked' }, { decision: 'reject', reason: 'blocked' }],
    ['rejected with a stale hold rejects', 'rejected', { decision: 'hold', reason: 'first_contact' }, { decision: 'reject', reason: 'policy' }],
    ['expired rejects as expired', 'expired', { decision: 'hold', reason: 'first_contact' }, { decision: 'reject', reason: 'expired' }],
    ['retracted rejects', 'retracted', { decision: 'fetch', reason: 'allowed' }, { decision: 'reject', reason: 'policy' }],
    ['failed rejects', 'failed', { decision: 'fetch', reason: 'allowed' }, { decision: 'reject', reason: 'policy' }],
  ];
  for (const [name, state, latest, want] of table) {
    it(name, () => assert.deepEqual(copyAnswer(state, latest), want));
  }
});
