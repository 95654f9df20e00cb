// The recipient side of a notification (protocol §2, §6): find the mailbox, answer idempotently,
// gather the facts for the policy table (policy/decide.ts: rules, consent token, proof-of-work
// answer), and write its answer as a pending fetch, a held request or a challenge.
import type { NotificationClaims, NotifyResult } from '@pullmail/client/wire';
import { canonicalAddress } from '../address.ts';
import type { AppContext } from '../context.ts';
import { seconds } from '../context.ts';
import { PullmailError } from '../errors.ts';
import { decideRedeeming } from '../policy/decide.ts';
import { verifyConsent } from '../protocol/consent.ts';
import { randomId } from '../protocol/jws.ts';
import { isValidPow, makePowChallenge } from '../protocol/pow.ts';
import { NO_BODY } from '../store/bodies.ts';
import { openChallenge } from '../store/challenges.ts';
import { spendConsent } from '../store/consent-tokens.ts';
import type { Executor, Tx } from '../store/db.ts';
import { copyKey, findCopies, insertInbound, lockCopies, lockInbound, lockOrigin, OPEN_STATES, updateInbound, type InboundRow } from '../store/inbound.ts';
import type { Mailbox } from '../store/mailboxes.ts';
import { addCorrespondents } from '../store/policy-data.ts';
import { findAnswer, latestAnswer, saveAnswer, useJti, type NotifyKey } from '../store/replay.ts';
import { copyAnswer } from './one-copy.ts';
import { NOTHING_KNOWN, senderFacts } from './recipient-policy.ts';
import { findRecipient } from './recipient.ts';

/** Answer to an acknowledged retract: nothing will be fetched. */
const RETRACT_ACK: NotifyResult = { decision: 'reject', reason: 'policy' };

/**
 * Handles one verified notification. Safe to call again with the same claims: same answer, no second
 * effect. `rateLimit` is off for mail between users of this node, which no peer sent.
 */
export async function receiveNotification(ctx: AppContext, n: NotificationClaims, opts: { rateLimit: boolean } = { rateLimit: true }): Promise<NotifyResult> {
  const key = notifyKey(n);
  const earlier = (await findAnswer(ctx.db, key));
  if (earlier && !mayReevaluate(n, earlier)) return earlier;
  // protocol §2: every verified notification counts against the sender's limits, also one for a mailbox
  // that does not exist (else the answers enumerate mailboxes); only a retry gets its answer for free
  const wait = opts.rateLimit ? await ctx.rateLimits.take(canonicalAddress(n.msg.from)!) : 0;
  if (wait) throw new PullmailError('rate_limited', `too many notifications from ${n.iss}; retry in ${wait} s`, { retryAfter: wait });

  // a mailbox, an alias or the domain's catch-all (delivery/recipient.ts); the policy is the mailbox's
  const found = await findRecipient(ctx.db, key.rcpt);
  if (!found) return { decision: 'reject', reason: 'unknown_recipient' };
  const mailbox = found.mailbox;

  const result = await ctx.db.transaction((tx) => answerLocked(ctx, tx, mailbox, n, key));
  if (result.decision === 'fetch') ctx.kick('fetch');
  return result;
}

/** The key a notification is answered under (protocol §2 idempotency). */
export function notifyKey(n: NotificationClaims): NotifyKey {
  return { iss: n.iss, remoteId: n.msg.id, rcpt: canonicalAddress(n.msg.rcpt)!, version: n.msg.version, kind: n.kind };
}

/** protocol §2: idempotent, except that a pow answer or consent token added to a challenge or hold is evaluated anew. */
export function mayReevaluate(n: NotificationClaims, a: NotifyResult | undefined): boolean {
  return !!a && !!(n.pow || n.consent) && (a.decision === 'challenge' || a.decision === 'hold');
}

/**
 * Decides and records one notification for `mailbox` inside `tx`, after the sender's limits were taken.
 * Serializes with concurrent copies of the same notification first; answers as before when another
 * copy was answered meanwhile. The caller kicks the fetch queue on `fetch`.
 */
export async function answerLocked(ctx: AppContext, tx: Tx, mailbox: Mailbox, n: NotificationClaims, key: NotifyKey): Promise<NotifyResult> {
  // serialize concurrent copies of the same notification, also before its inbound row exists
  await lockOrigin(tx, n.iss, n.msg.id, key.rcpt);
  // and the notifications of this message to other addresses of the same mailbox (delivery/one-copy.ts)
  const copy = { iss: n.iss, remoteId: n.msg.id, mailboxId: mailbox.id };
  await lockCopies(tx, [copy]);
  const existing = await lockInbound(tx, n.iss, n.msg.id, key.rcpt);
  const again = (await findAnswer(tx, key));
  if (again && !mayReevaluate(n, again)) return again;
  // a retract of this address has nothing of its own to remove: the copy goes with the retract of its own address
  const kept = existing || n.kind === 'retract' ? undefined : (await findCopies(tx, [copy])).get(copyKey(copy));
  const r = kept ? await answerAsCopy(tx, kept) : await decideNotification(ctx, tx, mailbox, key.rcpt, n, existing, again);
  // protocol §2: saved under this notification's own key, so a retry gets this same answer
  await saveAnswer(tx, key, r);
  return r;
}

/** The answer about a message the mailbox keeps already, under another of its addresses: nothing new is stored. */
async function answerAsCopy(tx: Tx, kept: InboundRow): Promise<NotifyResult> {
  return copyAnswer(kept.state, await latestAnswer(tx, { iss: kept.iss, remoteId: kept.remoteId, rcpt: kept.rcpt, version: kept.version }));
}

/**
 * `rcpt` is the address the sender used (an alias's own, for one): the key of the inbound row, under
 * which the sender's node knows the delivery. The policy is `mailbox`'s.
 */
export async function decideNotification(ctx: AppContext, tx: Tx, mailbox: Mailbox, rcpt: string, n: NotificationClaims, existing: InboundRow | undefined, earlier: NotifyResult | undefined): Promise<NotifyResult> {
  const sender = canonicalAddress(n.msg.from)!;
  const now = new Date(ctx.now());
  const nowS = seconds(ctx);

  if (n.kind === 'retract') {
    if (existing && OPEN_STATES.includes(existing.state)) await updateInbound(tx, existing.id, { state: 'retracted', leaseUntil: null, cap: null, ...NO_BODY });
    return RETRACT_ACK;
  }
  if (existing && !OPEN_STATES.includes(existing.state)) {
    // already stored (or retracted/refused): deduplicate, never a second copy
    return existing.state === 'stored' ? { decision: 'fetch', reason: 'already_fetched' } : { decision: 'reject', reason: 'policy' };
  }
  if (n.kind === 'update' && existing && n.msg.version <= existing.version) {
    // protocol §2: a late update (no higher version than we have) changes nothing, answered as before
    if (existing.state === 'fetching') return { decision: 'fetch', reason: 'update' };
    if (existing.state === 'held') return { decision: 'hold', reason: 'first_contact' };
    const before = await latestAnswer(tx, { iss: n.iss, remoteId: n.msg.id, rcpt, version: existing.version });
    if (before) return before;
  }
  const tooLarge = n.msg.size > ctx.config.maxMessageBytes;
  // protocol §2: an update of what was already admitted or held keeps the first notification's policy
  const settled = n.kind === 'update' && existing && (existing.state === 'fetching' || existing.state === 'held') && !n.pow && !n.consent
    ? (existing.state === 'fetching' ? 'fetch' : 'hold')
    : undefined;

  const issued = earlier?.decision === 'challenge' && earlier.challenge?.type === 'pow' ? earlier.challenge : undefined;
  let validPow = false;
  let powProblem: string | undefined;
  if (n.pow && !tooLarge) {
    if (!issued) powProblem = 'pow_unexpected';
    else if (issued.expires < nowS) powProblem = 'pow_expired';
    else if (!isValidPow(issued, n.msg.id, n.pow)) powProblem = 'pow_invalid';
    // protocol §6: a right answer counts once
    else if (!(await useJti(tx, `pow:${n.pow.nonce}`, n.iss, new Date((issued.expires + 3600) * 1000)))) powProblem = 'pow_reused';
    else validPow = true;
  }

  const d = await decideRedeeming({
    ...(tooLarge || settled ? NOTHING_KNOWN : await senderFacts(tx, mailbox, sender, now)),
    tooLarge,
    settled,
    // the notification is signed by the sender's domain (protocol §2)
    senderVerified: true,
    consent: n.consent ? 'offered' : undefined,
    validPow,
    quarantine: false,
  }, () => consentUsable(ctx, tx, n.consent!, { rcpt: mailbox.address, sender, mailboxId: mailbox.id }, now));
  if (d.decision === 'reject') return d;
  if (settled && existing) {
    await updateInbound(tx, existing.id, {
      subject: n.msg.subject ?? '', size: n.msg.size, sha256: n.msg.sha256, version: n.msg.version, fetchUrl: n.fetch.url, cap: n.fetch.cap,
      ...(existing.state === 'fetching' ? { nextAttemptAt: now, leaseUntil: null, attempts: 0 } : {}),
    });
    return d;
  }
  if (d.reason === 'pow') await addCorrespondents(tx, mailbox.id, [sender], 'pow', new Date(now.getTime() + ctx.config.allowWindowSeconds * 1000));

  const state = d.decision === 'fetch' ? 'fetching' : d.decision === 'hold' ? 'held' : 'challenged';
  const row = await upsertPending(tx, existing, {
    mailboxId: mailbox.id,
    iss: n.iss,
    remoteId: n.msg.id,
    rcpt,
    sender,
    subject: n.msg.subject ?? '',
    size: n.msg.size,
    sha256: n.msg.sha256,
    version: n.msg.version,
    sentAt: new Date(n.msg.sent_at * 1000),
    via: 'pm1',
    state,
    fetchUrl: n.fetch.url,
    cap: n.fetch.cap,
    nextAttemptAt: now,
    receivedAt: existing?.receivedAt ?? now,
  });
  if (d.decision !== 'challenge') return d;

  // protocol §6: a challenge stays valid until it expires; a wrong answer gets the same one again
  if (issued && issued.expires >= nowS && powProblem !== 'pow_reused') return { decision: 'challenge', reason: powProblem ?? d.reason, challenge: issued };
  // protocol §6: a pow challenge, plus the human page when the user has set a question
  const challenge = makePowChallenge(ctx.config.powBits, nowS);
  if (mailbox.challengeQuestion) {
    const page = await openChallenge(tx, { id: randomId(18), mailboxId: mailbox.id, sender, inboundId: row.id, expiresAt: new Date(now.getTime() + ctx.config.requestExpirySeconds * 1000), now });
    challenge.url = `${ctx.publicUrl}/challenge/${page.id}`;
  }
  return { decision: 'challenge', reason: powProblem ?? d.reason, challenge };
}

async function consentUsable(ctx: AppContext, db: Executor, token: string, who: { rcpt: string; sender: string; mailboxId: string }, now: Date): Promise<boolean> {
  try {
    const claims = await verifyConsent(ctx.keys, token, who, seconds(ctx));
    // protocol §6: uses are counted by the issuing node; an exhausted, revoked or expired token is ignored
    return await spendConsent(db, claims.jti, who.mailboxId, now);
  } catch {
    return false;
  }
}

async function upsertPending(tx: Tx, existing: InboundRow | undefined, row: Parameters<typeof insertInbound>[1]): Promise<InboundRow> {
  if (existing) {
    await updateInbound(tx, existing.id, { ...row, leaseUntil: null, attempts: 0 });
    return { ...existing, ...row } as InboundRow;
  }
  const created = await insertInbound(tx, row);
  // a concurrent copy won the insert: the row exists now
  return created ?? (await lockInbound(tx, row.iss, row.remoteId, row.rcpt))!;
}
