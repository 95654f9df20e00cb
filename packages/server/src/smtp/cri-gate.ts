// The SMTP-stage challenge at RCPT TO (docs/cri.md; draft-irtf-asrg-cri-00 §3.3 (6a), 3.4.2): an
// unknown sender to a user in `challenge` mode gets `452` with the URL of the human challenge page,
// inside the session, so the challenge reaches whoever is really talking to us and never a forged
// address. A retry with `CRI-TOKEN-TYPE=plain CRI-TOKEN=<token>` (the token the page handed out, or a
// consent token of the user) is accepted.
import { hashToken, newToken } from '../accounts/secrets.ts';
import { domainOf } from '../address.ts';
import { seconds, type AppContext } from '../context.ts';
import { isPullmailError } from '../errors.ts';
import type { PolicyDecision } from '../policy/decide.ts';
import { verifyConsent } from '../protocol/consent.ts';
import { randomId } from '../protocol/jws.ts';
import { findChallengeByToken, openChallenge } from '../store/challenges.ts';
import { consentSpendable, spendConsent } from '../store/consent-tokens.ts';
import { hasSentToDomain } from '../store/cri-answers.ts';
import type { Executor } from '../store/db.ts';
import type { Mailbox } from '../store/mailboxes.ts';
import { isListOrSystemSender, type PresentedToken } from './cri.ts';
import { replies, type SmtpReply } from './replies.ts';

/** What a token accepted at RCPT grants when the message is stored (smtp/accept-inbound.ts). */
export interface RcptGrant {
  reason: 'cri_token' | 'consent';
  /** Called inside the storing transaction; a consent use is spent only here. */
  redeem(tx: Executor): Promise<boolean>;
}

/** Tokens the challenge page hands out: `crt_` and 32 random bytes, base64url. Only their SHA-256 is kept. */
const PAGE_TOKEN = /^crt_[A-Za-z0-9_-]{43}$/;
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

export const newCriToken = (): { token: string; hash: string } => newToken('crt_');

/** The page for (user, sender), reusing the open one so a retrying server always sees the same URL. */
async function challengeUrl(ctx: AppContext, mailbox: Mailbox, sender: string): Promise<string> {
  const now = new Date(ctx.now());
  const page = await openChallenge(ctx.db, { id: randomId(18), mailboxId: mailbox.id, sender, inboundId: null, expiresAt: new Date(now.getTime() + ctx.config.requestExpirySeconds * 1000), now });
  return `${ctx.publicUrl}/challenge/${page.id}`;
}

/**
 * The page URL when this RCPT is to be challenged, else undefined: the policy must say `challenge`,
 * the user must have a question (without one, challenge mode holds SMTP mail as before), and the
 * sender must be a real, non-list address. Senders at a domain the user wrote to are not challenged
 * here either: their C/R system's challenges and bounces must reach DATA to be recognised (they are
 * held there, or answered when they are a CRI challenge about our mail).
 */
async function challengeDue(ctx: AppContext, mailbox: Mailbox, sender: string, policy: PolicyDecision): Promise<string | undefined> {
  if (policy.decision !== 'challenge' || !sender || !mailbox.challengeQuestion || isListOrSystemSender(sender)) return undefined;
  const since = new Date(ctx.now() - ctx.config.retentionSeconds * 1000);
  if (await hasSentToDomain(ctx.db, mailbox.id, domainOf(sender), since)) return undefined;
  return challengeUrl(ctx, mailbox, sender);
}

/** The 452 challenge for this RCPT (see challengeDue), or undefined when none is issued. */
export async function rcptChallenge(ctx: AppContext, mailbox: Mailbox, sender: string, policy: PolicyDecision): Promise<SmtpReply | undefined> {
  const url = await challengeDue(ctx, mailbox, sender, policy);
  return url ? replies.criChallenge(url) : undefined;
}

/**
 * Checks a token presented with RCPT TO for mail from `sender` to `mailbox`.
 * @throws SmtpReply 501 (not a token we could have issued), 550 (forged, for someone else, revoked or
 *   used up), 452 with a new challenge when it expired and the user still challenges strangers.
 */
export async function checkPresentedToken(ctx: AppContext, mailbox: Mailbox, sender: string, presented: PresentedToken, policy: PolicyDecision): Promise<RcptGrant> {
  const now = new Date(ctx.now());
  const expired = async () => {
    const url = await challengeDue(ctx, mailbox, sender, policy);
    return url ? replies.criTokenExpired(url) : replies.criTokenStale();
  };
  const { token } = presented;
  if (PAGE_TOKEN.test(token)) {
    const row = await findChallengeByToken(ctx.db, hashToken(token));
    if (!row?.solvedAt || row.mailboxId !== mailbox.id || row.sender !== sender) throw replies.criTokenRefused();
    // the token lasts as long as the allow window the answer opened
    if (row.solvedAt.getTime() + ctx.config.allowWindowSeconds * 1000 <= now.getTime()) throw await expired();
    return { reason: 'cri_token', redeem: async () => true };
  }
  if (COMPACT_JWS.test(token)) {
    let jti: string;
    try {
      jti = (await verifyConsent(ctx.keys, token, { rcpt: mailbox.address, sender }, seconds(ctx))).jti;
    } catch (err) {
      if (isPullmailError(err, 'expired')) throw await expired();
      throw replies.criTokenRefused();
    }
    // protocol §6: uses are spent atomically with storing the message, at DATA
    if (typeof jti !== 'string' || !(await consentSpendable(ctx.db, jti, mailbox.id, now))) throw replies.criTokenRefused();
    return { reason: 'consent', redeem: (tx) => spendConsent(tx, jti, mailbox.id, new Date(ctx.now())) };
  }
  throw replies.criSyntax('CRI-TOKEN is not a token this server issues');
}
