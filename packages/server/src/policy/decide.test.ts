import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decide, type PolicyFacts } from './decide.ts';

const stranger: PolicyFacts = { blocked: false, allowed: false, knownCorrespondent: false, validConsent: false, validPow: false, firstContact: 'hold' };

describe('decide (protocol §6 order)', () => {
  const cases: [string, Partial<PolicyFacts>, string, string][] = [
    ['a stranger is held by default', {}, 'hold', 'first_contact'],
    ['challenge mode challenges strangers', { firstContact: 'challenge' }, 'challenge', 'first_contact'],
    ['open mode fetches strangers', { firstContact: 'fetch' }, 'fetch', 'open'],
    // block beats everything, even an allow rule or a consent token
    ['block wins over allow and consent', { blocked: true, allowed: true, validConsent: true, knownCorrespondent: true }, 'reject', 'blocked'],
    ['allow rule fetches', { allowed: true }, 'fetch', 'allowed'],
    ['known correspondent fetches', { knownCorrespondent: true }, 'fetch', 'known_correspondent'],
    ['consent fetches in hold mode', { validConsent: true }, 'fetch', 'consent'],
    ['pow answer fetches in challenge mode', { validPow: true, firstContact: 'challenge' }, 'fetch', 'pow'],
  ];
  for (const [name, facts, decision, reason] of cases) {
    it(name, () => assert.deepEqual(decide({ ...stranger, ...facts }), { decision, reason }));
  }
});
