// The recipient's decision for one sender and one user, in the order of protocol §6. Pure: the caller
// gathers the facts (rules, correspondents, tokens) and acts on the answer.
import type { Decision, FirstContact } from '@pullmail/client/wire';

export interface PolicyFacts {
  blocked: boolean;
  allowed: boolean;
  knownCorrespondent: boolean;
  validConsent: boolean;
  validPow: boolean;
  firstContact: FirstContact;
}

export interface PolicyDecision {
  decision: Decision;
  reason: string;
}

export function decide(f: PolicyFacts): PolicyDecision {
  if (f.blocked) return { decision: 'reject', reason: 'blocked' };
  if (f.allowed) return { decision: 'fetch', reason: 'allowed' };
  if (f.knownCorrespondent) return { decision: 'fetch', reason: 'known_correspondent' };
  if (f.validConsent) return { decision: 'fetch', reason: 'consent' };
  if (f.validPow) return { decision: 'fetch', reason: 'pow' };
  switch (f.firstContact) {
    case 'fetch':
      return { decision: 'fetch', reason: 'open' };
    case 'challenge':
      return { decision: 'challenge', reason: 'first_contact' };
    default:
      return { decision: 'hold', reason: 'first_contact' };
  }
}
