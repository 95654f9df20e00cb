// The recipient's decision for one message from one sender to one user, for pm1 and SMTP alike: one
// table in the order of protocol §6, plus the facts each door adds (size, sender identity, DMARC,
// a CRI token taken at RCPT, docs/cri.md). Pure: the doors gather the facts and write the outcome.
import type { Decision, FirstContact } from '@pullmail/client/wire';

export type PolicyReason =
  | 'too_large'
  | 'update'
  | 'blocked'
  | 'allowed'
  | 'known_correspondent'
  | 'consent'
  | 'cri_token'
  | 'pow'
  | 'open'
  | 'unverified_sender'
  | 'first_contact'
  | 'dmarc_quarantine';

/**
 * A credential whose use is counted (a consent token's uses, protocol §6): `offered` until the table
 * asks for it to be redeemed, then `valid` or `invalid`. It is spent only when nothing earlier decided.
 */
export type CredentialState = 'offered' | 'valid' | 'invalid';

export interface PolicyFacts {
  /** The announced or received size is over PULLMAIL_MAX_MESSAGE_BYTES. */
  tooLarge: boolean;
  /**
   * pm1 `update` of a message the first notification already admitted (`fetch`) or held (`hold`):
   * protocol §2, the policy and any consent use were settled then.
   */
  settled?: 'fetch' | 'hold';
  /** A block rule matches the sender address or its domain. */
  blocked: boolean;
  /** An allow rule matches. */
  allowed: boolean;
  /** The user wrote to the sender, accepted them, or they answered a challenge (within its window). */
  knownCorrespondent: boolean;
  /**
   * The sender address is proven: pm1 always (the notification is signed by its domain); SMTP by SPF
   * or DKIM for its domain. An allow rule or known correspondent counts only for a proven sender.
   */
  senderVerified: boolean;
  /** pm1: a consent token came with the notification (protocol §6). */
  consent?: CredentialState;
  /** pm1: a right, unused proof-of-work answer to the challenge we issued. */
  validPow: boolean;
  /**
   * SMTP: a token accepted at RCPT (docs/cri.md). It lets the message in where the policy would hold
   * or challenge it, or where only an unproven sender identity would let it in; never past a block.
   */
  grant?: { reason: 'cri_token' | 'consent'; state: CredentialState };
  /** SMTP: DMARC failed with p=quarantine, so never straight into the inbox. */
  quarantine: boolean;
  firstContact: FirstContact;
}

export interface PolicyDecision {
  decision: Decision;
  reason: PolicyReason;
}

/** Either the decision, or which offered credential must be redeemed before the table can go on. */
export type PolicyOutcome = PolicyDecision | { redeem: 'consent' | 'grant' };

const is = (decision: Decision, reason: PolicyReason): PolicyDecision => ({ decision, reason });

/** The table. Callers that may present a credential use {@link decideRedeeming}. */
export function decide(f: PolicyFacts): PolicyOutcome {
  if (f.tooLarge) return is('reject', 'too_large');
  if (f.settled) return f.settled === 'fetch' ? is('fetch', 'update') : is('hold', 'first_contact');
  if (f.blocked) return is('reject', 'blocked');
  const claimed = f.allowed || f.knownCorrespondent;
  const admitted = (d: PolicyDecision) => (f.quarantine && d.decision === 'fetch' ? is('hold', 'dmarc_quarantine') : d);
  if (claimed && f.senderVerified) return admitted(is('fetch', f.allowed ? 'allowed' : 'known_correspondent'));
  if (f.consent === 'offered') return { redeem: 'consent' };
  if (f.consent === 'valid') return admitted(is('fetch', 'consent'));
  if (f.validPow && !claimed) return admitted(is('fetch', 'pow'));
  if (!claimed && f.firstContact === 'fetch') return admitted(is('fetch', 'open'));
  if (f.grant?.state === 'offered') return { redeem: 'grant' };
  if (f.grant?.state === 'valid') return admitted(is('fetch', f.grant.reason));
  if (claimed) return is('hold', 'unverified_sender');
  return f.firstContact === 'challenge' ? is('challenge', 'first_contact') : is('hold', 'first_contact');
}

/**
 * Runs the table, redeeming a credential only when the table reaches it: `redeem` spends one use
 * (inside the caller's transaction) and says whether it could.
 */
export async function decideRedeeming(facts: PolicyFacts, redeem: (which: 'consent' | 'grant') => Promise<boolean>): Promise<PolicyDecision> {
  let f = facts;
  for (;;) {
    const out = decide(f);
    if (!('redeem' in out)) return out;
    const state: CredentialState = (await redeem(out.redeem)) ? 'valid' : 'invalid';
    f = out.redeem === 'consent' ? { ...f, consent: state } : { ...f, grant: { ...f.grant!, state } };
  }
}
