// What an attempt at a delivery comes to, as a change of its row (protocol §7), decided without I/O.
// One path for every way a delivery goes out: a peer's answer (peers/notify-client.ts), a recipient on
// this node (delivery/receive.ts), the SMTP gateway (smtp/outbound.ts). A permanent failure ends a
// delivery as `failed`; a temporary one is retried with backoff (or after the peer's Retry-After)
// until the retry period is over, and then ends as `expired`.
import type { DeliveryState, NotificationKind } from '@pullmail/client/wire';
import type { Decided, NotifyOutcome } from '../peers/notify-client.ts';
import type { SmtpOutcome } from '../smtp/outbound.ts';

/** What came of one delivery's attempt, whichever way it went. */
export type DeliveryOutcome =
  /** The recipient node decided (fetch, hold, challenge, reject). */
  | { outcome: 'decided'; result: Decided }
  /** Not delivered this time; `temporary` when trying again might help. */
  | { outcome: 'failed'; error: string; temporary: boolean; retryAfterMs?: number }
  /** SMTP: the next hop took the message. */
  | { outcome: 'handed-over' }
  /** SMTP: nothing to send (a retract of mail not yet handed over, an edit of mail already gone). */
  | { outcome: 'settled'; state: 'fetched' | 'retracted' };

/** The change to make to the delivery row (store/deliveries.ts: recordAnswer, recordFailure, recordHandoff). */
export type DeliveryUpdate =
  | { update: 'answer'; state: DeliveryState; reason: string | null; challenge?: unknown; challengeUrl: string | null; recheckAt?: Date; now: Date }
  | { update: 'retry'; error: string; retryAt: Date }
  | { update: 'end'; error: string; finalState: 'expired' | 'failed' }
  | { update: 'handoff'; now: Date };

/** Delivery state the sender shows for each decision (docs/operator.md delivery states). */
const STATE_FOR = { fetch: 'notified', hold: 'held', challenge: 'challenged', reject: 'rejected' } as const satisfies Record<Decided['decision'], DeliveryState>;

export interface UpdateContext {
  now: number;
  /** The wait before the next try when the peer named none (queue/poller.ts backoffMs for this attempt). */
  backoffMs: number;
  requestExpirySeconds: number;
  heldRecheckSeconds: number;
}

/** The row change for `outcome` of the claimed delivery `d`. */
export function deliveryUpdate(
  d: { notifyKind: string | null; createdAt: Date; giveUpAt: Date },
  outcome: DeliveryOutcome,
  at: UpdateContext,
): DeliveryUpdate {
  const now = new Date(at.now);
  switch (outcome.outcome) {
    case 'handed-over':
      return { update: 'handoff', now };
    case 'settled':
      return { update: 'answer', state: outcome.state, reason: null, challengeUrl: null, now };
    case 'failed': {
      const giveUp = !outcome.temporary || at.now >= d.giveUpAt.getTime();
      if (giveUp) return { update: 'end', error: outcome.error, finalState: outcome.temporary ? 'expired' : 'failed' };
      return { update: 'retry', error: outcome.error, retryAt: new Date(at.now + (outcome.retryAfterMs ?? at.backoffMs)) };
    }
    case 'decided': {
      const r = outcome.result;
      const retract = (d.notifyKind as NotificationKind | null) === 'retract';
      const challenge = r.decision === 'challenge' ? r.challenge : undefined;
      // ask again while the recipient may still decide, to learn a rejection or expiry; a pow challenge
      // is rechecked too: if solving fails, the sender still learns a later reject or expiry
      const waiting = !retract && (r.decision === 'hold' || r.decision === 'challenge');
      const recheckUntil = d.createdAt.getTime() + (at.requestExpirySeconds + 86_400) * 1000;
      return {
        update: 'answer',
        state: retract ? 'retracted' : STATE_FOR[r.decision],
        reason: r.decision === 'reject' ? r.reason : null,
        challenge,
        challengeUrl: challenge && 'url' in challenge && typeof challenge.url === 'string' ? challenge.url : null,
        now,
        ...(waiting && at.now < recheckUntil ? { recheckAt: new Date(at.now + at.heldRecheckSeconds * 1000) } : {}),
      };
    }
  }
}

/**
 * One outcome per notification of a notify request: a refusal or failure of the whole request is
 * the same failure for each of them.
 */
export function notifyOutcomes(o: NotifyOutcome, count: number): DeliveryOutcome[] {
  const each = (x: DeliveryOutcome) => Array.from({ length: count }, () => x);
  switch (o.outcome) {
    case 'answered':
      return o.answers.map((a) => a.answer === 'decided' ? { outcome: 'decided', result: a.result } : { outcome: 'failed', error: `${a.code}: ${a.detail}`, temporary: a.temporary });
    case 'refused':
      return each({ outcome: 'failed', error: `${o.code}: ${o.detail}`, temporary: o.temporary });
    case 'rate-limited':
      return each({ outcome: 'failed', error: o.error, temporary: true, retryAfterMs: o.retryAfterSeconds * 1000 });
    case 'peer-failed':
      return each({ outcome: 'failed', error: o.error, temporary: true });
    case 'unreachable':
      return each({ outcome: 'failed', error: o.error, temporary: o.temporary });
  }
}

/** The delivery outcome of an SMTP hand-over (smtp/outbound.ts). */
export function smtpDeliveryOutcome(o: SmtpOutcome): DeliveryOutcome {
  switch (o.outcome) {
    case 'delivered':
      return { outcome: 'handed-over' };
    case 'nothing-to-send':
      return { outcome: 'settled', state: o.state };
    case 'failed':
      return { outcome: 'failed', error: o.error, temporary: o.temporary };
  }
}
