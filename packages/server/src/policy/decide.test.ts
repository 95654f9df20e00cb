import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decide, decideRedeeming, type PolicyFacts, type PolicyOutcome } from './decide.ts';

// a verified stranger, as pm1 sees every sender: no rules, no history, default mode
const stranger: PolicyFacts = {
  tooLarge: false, blocked: false, allowed: false, knownCorrespondent: false, senderVerified: true,
  validPow: false, quarantine: false, firstContact: 'hold',
};
const fetch = (reason: string) => ({ decision: 'fetch', reason });
const hold = (reason: string) => ({ decision: 'hold', reason });

describe('decide: one row per branch (protocol §6 order, plus the SMTP facts)', () => {
  const cases: [string, Partial<PolicyFacts>, PolicyOutcome | Record<string, string>][] = [
    ['a stranger is held by default', {}, hold('first_contact')],
    ['challenge mode challenges strangers', { firstContact: 'challenge' }, { decision: 'challenge', reason: 'first_contact' }],
    ['open mode fetches strangers', { firstContact: 'fetch' }, fetch('open')],
    // size first: not even a block rule is looked at for what we would never take
    ['too large beats everything', { tooLarge: true, blocked: true, allowed: true }, { decision: 'reject', reason: 'too_large' }],
    ['an update of an admitted message is fetched again', { settled: 'fetch', firstContact: 'challenge' }, fetch('update')],
    ['an update of a held message stays held', { settled: 'hold', allowed: true }, hold('first_contact')],
    // block beats everything after it, even an allow rule or a consent token
    ['block wins over allow and consent', { blocked: true, allowed: true, knownCorrespondent: true, consent: 'offered' }, { decision: 'reject', reason: 'blocked' }],
    ['allow rule fetches', { allowed: true }, fetch('allowed')],
    ['known correspondent fetches', { knownCorrespondent: true }, fetch('known_correspondent')],
    // a consent token offered to an undecided stranger is the table's to spend, not the caller's
    ['an offered consent token is redeemed', { consent: 'offered' }, { redeem: 'consent' }],
    ['an allowed sender never spends a consent use', { allowed: true, consent: 'offered' }, fetch('allowed')],
    ['a redeemed consent token fetches in hold mode', { consent: 'valid' }, fetch('consent')],
    ['a refused consent token falls through to the mode', { consent: 'invalid', firstContact: 'challenge' }, { decision: 'challenge', reason: 'first_contact' }],
    ['a valid consent token wins over a pow answer', { consent: 'valid', validPow: true }, fetch('consent')],
    ['pow answer fetches in challenge mode', { validPow: true, firstContact: 'challenge' }, fetch('pow')],
    // SMTP: an identity claim needs SPF or DKIM behind it
    ['an allowed but unproven sender is held', { allowed: true, senderVerified: false }, hold('unverified_sender')],
    ['an unproven known correspondent is held even in open mode', { knownCorrespondent: true, senderVerified: false, firstContact: 'fetch' }, hold('unverified_sender')],
    ['an unproven stranger in open mode is fetched', { senderVerified: false, firstContact: 'fetch' }, fetch('open')],
    ['a token taken at RCPT is redeemed where the mail would be held', { grant: { reason: 'consent', state: 'offered' } }, { redeem: 'grant' }],
    ['a token taken at RCPT is not spent in open mode', { firstContact: 'fetch', grant: { reason: 'consent', state: 'offered' } }, fetch('open')],
    ['a redeemed CRI token lets an unproven allowed sender in', { allowed: true, senderVerified: false, grant: { reason: 'cri_token', state: 'valid' } }, fetch('cri_token')],
    ['a refused grant leaves an unproven sender held', { allowed: true, senderVerified: false, grant: { reason: 'consent', state: 'invalid' } }, hold('unverified_sender')],
    ['a redeemed grant lets a challenged stranger in', { firstContact: 'challenge', grant: { reason: 'consent', state: 'valid' } }, fetch('consent')],
    ['a grant never overrides a block', { blocked: true, grant: { reason: 'cri_token', state: 'valid' } }, { decision: 'reject', reason: 'blocked' }],
    // DMARC p=quarantine: whatever would have been fetched is held
    ['quarantine holds an allowed sender', { allowed: true, quarantine: true }, hold('dmarc_quarantine')],
    ['quarantine holds what a grant let in', { quarantine: true, grant: { reason: 'cri_token', state: 'valid' } }, hold('dmarc_quarantine')],
    ['quarantine leaves a challenge a challenge', { quarantine: true, firstContact: 'challenge' }, { decision: 'challenge', reason: 'first_contact' }],
  ];
  for (const [name, facts, expected] of cases) {
    it(name, () => assert.deepEqual(decide({ ...stranger, ...facts }), expected));
  }
});

describe('decideRedeeming', () => {
  it('redeems only the credential the table reaches, and goes on with the answer', async () => {
    const asked: string[] = [];
    const redeem = (ok: boolean) => async (which: 'consent' | 'grant') => (asked.push(which), ok);
    assert.deepEqual(await decideRedeeming({ ...stranger, consent: 'offered' }, redeem(true)), fetch('consent'));
    assert.deepEqual(await decideRedeeming({ ...stranger, consent: 'offered', firstContact: 'challenge' }, redeem(false)), { decision: 'challenge', reason: 'first_contact' });
    assert.deepEqual(await decideRedeeming({ ...stranger, grant: { reason: 'cri_token', state: 'offered' } }, redeem(true)), fetch('cri_token'));
    assert.deepEqual(asked, ['consent', 'consent', 'grant']);
    // decided before the credential: nothing spent
    assert.deepEqual(await decideRedeeming({ ...stranger, knownCorrespondent: true, consent: 'offered' }, redeem(true)), fetch('known_correspondent'));
    assert.equal(asked.length, 3);
  });
});
