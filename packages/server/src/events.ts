// Business events: one function each, so their log lines and /metrics counters are named and
// levelled in one place. Ids shared by every line about a message: msgId, rcpt, iss/peer.
import type { NotifyResult } from '@pullmail/client/wire';
import type { AppContext } from './context.ts';

type Ctx = Pick<AppContext, 'log' | 'metrics'>;

export function notificationAnswered(ctx: Ctx, e: { iss: string; msgId: string; rcpt: string; kind: string; result: NotifyResult }): void {
  ctx.metrics.notifyDecisions.inc({ decision: e.result.decision, reason: e.result.reason });
  ctx.log.info({ sub: 'notify', iss: e.iss, msgId: e.msgId, rcpt: e.rcpt, kind: e.kind, decision: e.result.decision, reason: e.result.reason }, 'notification answered');
}

export function notificationDelivered(ctx: Ctx, e: { msgId: string; rcpt: string; kind: string; result: Pick<NotifyResult, 'decision' | 'reason'> }): void {
  ctx.metrics.notificationsSent.inc({ outcome: e.result.decision });
  ctx.log.info({ sub: 'queue', msgId: e.msgId, rcpt: e.rcpt, kind: e.kind, decision: e.result.decision, reason: e.result.reason }, 'notification delivered');
}

export function notificationDeferred(ctx: Ctx, e: { peer: string; count: number; error: string; temporary: boolean }): void {
  ctx.metrics.notificationsSent.inc({ outcome: e.temporary ? 'deferred' : 'failed' }, e.count);
  ctx.log[e.temporary ? 'info' : 'warn']({ sub: 'queue', peer: e.peer, count: e.count, err: e.error, temporary: e.temporary }, 'notification not delivered');
}

export function messageFetched(ctx: Ctx, e: { iss: string; msgId: string; rcpt: string; size: number; version: number; seconds: number }): void {
  ctx.metrics.fetchSeconds.observe({ outcome: 'stored' }, e.seconds);
  ctx.log.info({ sub: 'fetch', iss: e.iss, msgId: e.msgId, rcpt: e.rcpt, size: e.size, version: e.version, ms: Math.round(e.seconds * 1000) }, 'message fetched');
}

export function fetchNotCompleted(ctx: Ctx, e: { iss: string; msgId: string; rcpt: string; outcome: 'retracted' | 'failed' | 'retry'; code: string; detail: string; seconds: number }): void {
  ctx.metrics.fetchSeconds.observe({ outcome: e.outcome }, e.seconds);
  const level = e.outcome === 'failed' ? 'warn' : 'info';
  ctx.log[level]({ sub: 'fetch', iss: e.iss, msgId: e.msgId, rcpt: e.rcpt, outcome: e.outcome, code: e.code, detail: e.detail }, 'fetch not completed');
}

export function fetchServed(ctx: Ctx, e: { msgId: string; rcpt: string; outcome: 'served' | 'retracted' | 'refused'; code?: string }): void {
  ctx.metrics.servedFetches.inc({ outcome: e.outcome });
  ctx.log.info({ sub: 'serve', msgId: e.msgId, rcpt: e.rcpt, outcome: e.outcome, code: e.code }, 'fetch answered');
}

export function smtpReply(ctx: Ctx, e: { listener: 'mx' | 'submission'; code: number; session?: string; detail?: string }): void {
  ctx.metrics.smtpReplies.inc({ listener: e.listener, code: String(e.code) });
  if (e.code >= 400) ctx.log.info({ sub: 'smtp', listener: e.listener, code: e.code, session: e.session, detail: e.detail }, 'smtp refusal');
}

/** Challenge/response at the SMTP gateway (docs/cri.md); `detail` never holds a token. */
export function criEvent(ctx: Ctx, e: {
  event: 'challenge_issued' | 'token_accepted' | 'token_refused' | 'challenge_answered' | 'challenge_dropped' | 'challenge_left_to_user';
  rcpt: string;
  sender: string;
  session?: string;
  detail?: string;
}): void {
  ctx.metrics.criEvents.inc({ event: e.event });
  ctx.log.info({ sub: 'cri', event: e.event, rcpt: e.rcpt, from: e.sender, session: e.session, detail: e.detail }, `cri ${e.event.replace(/_/g, ' ')}`);
}

export function senderCalloutChecked(ctx: Ctx, e: { sender: string; verdict: string; cached: boolean; detail: string; session?: string }): void {
  ctx.metrics.senderCallouts.inc({ verdict: e.verdict, cached: String(e.cached) });
  ctx.log.info({ sub: 'smtp-callout', from: e.sender, verdict: e.verdict, cached: e.cached, detail: e.detail, session: e.session }, 'sender callout');
}

/** An answer at the human challenge page (screening/challenge-answer.ts); `locked` when refused by the guess limits. */
export function challengePageAnswered(ctx: Pick<AppContext, 'log'>, e: { rcpt: string; sender: string; client: string; outcome: 'right' | 'wrong' | 'locked' }): void {
  ctx.log.info({ sub: 'policy', rcpt: e.rcpt, sender: e.sender, client: e.client, outcome: e.outcome }, 'human challenge answered');
}

/** Where a secret is checked: SMTP AUTH on submission, IMAP login, web sign-in, API bearer tokens. */
export type LoginDoor = 'submission' | 'imap' | 'web' | 'api_token' | 'admin_token';

/** A failed login (`bad_credentials`) or one refused unheard while locked out; never the secret itself. */
export function loginFailed(ctx: Ctx, e: { door: LoginDoor; client: string | undefined; account?: string; reason: 'bad_credentials' | 'locked_out' }): void {
  ctx.metrics.loginFailures.inc({ door: e.door, reason: e.reason });
  ctx.log.info({ sub: 'auth', door: e.door, ip: e.client, account: e.account, reason: e.reason }, 'login failed');
}

/** A door ended a connection it had let in: the mailbox was disabled or deleted, or its password changed (accounts/login-grants.ts). */
export function loginRevoked(ctx: Pick<AppContext, 'log'>, e: { door: 'imap' | 'submission'; account: string; client: string | undefined }): void {
  ctx.log.info({ sub: 'auth', door: e.door, account: e.account, ip: e.client }, 'login revoked: connection ended');
}
