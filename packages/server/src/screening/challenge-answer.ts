// The human challenge page (protocol §6 `url`): a sender answers the recipient's question. A right
// answer allows the sender for the allow window and releases the message that waited on it; a page
// opened by the SMTP gateway's 452 (docs/cri.md) has no waiting message, so its answer hands the
// sender a CRI token for the retry instead. Wrong answers are counted per page and per client address
// (policy/guess-limits.ts) and lock both for a while.
import type { AppContext } from '../context.ts';
import { challengePageAnswered } from '../events.ts';
import { newCriToken } from '../smtp/cri-gate.ts';
import { findChallenge, solveChallenge, type ChallengeRow } from '../store/challenges.ts';
import { queueFetch } from '../store/inbound.ts';
import { findMailboxById, type Mailbox } from '../store/mailboxes.ts';
import { addCorrespondents } from '../store/policy-data.ts';
import { hashAnswer } from './challenge-question.ts';

type Ctx = Pick<AppContext, 'db' | 'now' | 'kick' | 'config' | 'log' | 'challengeGuesses'>;

export type ChallengeView =
  | { state: 'not_found' }
  | { state: 'answered'; rcpt: string; waitingMessage: boolean }
  | { state: 'open'; rcpt: string; question: string; sender: string };

export type ChallengeAnswer =
  | { outcome: 'not_found' }
  | { outcome: 'locked'; retryAfter: number }
  | { outcome: 'wrong'; rcpt: string }
  | { outcome: 'already_answered' }
  /** `criToken` only for an SMTP-stage page: shown this once, only its hash is kept. */
  | { outcome: 'answered'; rcpt: string; sender: string; until: Date; criToken?: string };

/** The page and its owner, while the owner still asks a question. */
async function load(ctx: Ctx, id: string): Promise<{ ch: ChallengeRow; owner: Mailbox & { challengeQuestion: string } } | undefined> {
  const ch = await findChallenge(ctx.db, id);
  if (!ch) return undefined;
  const owner = await findMailboxById(ctx.db, ch.mailboxId);
  return owner?.challengeQuestion ? { ch, owner: { ...owner, challengeQuestion: owner.challengeQuestion } } : undefined;
}

/** What the page shows: the question, that it was answered, or nothing (unknown or expired). */
export async function viewChallenge(ctx: Ctx, id: string): Promise<ChallengeView> {
  const found = await load(ctx, id);
  if (!found || (!found.ch.solvedAt && found.ch.expiresAt.getTime() < ctx.now())) return { state: 'not_found' };
  const { ch, owner } = found;
  if (ch.solvedAt) return { state: 'answered', rcpt: owner.address, waitingMessage: !!ch.inboundId };
  return { state: 'open', rcpt: owner.address, question: owner.challengeQuestion, sender: ch.sender };
}

/** Checks `answer` from `client` (its address, for the guess limit) and, when right, lets the sender in. */
export async function answerChallenge(ctx: Ctx, id: string, answer: string, client: string): Promise<ChallengeAnswer> {
  const found = await load(ctx, id);
  if (!found || found.ch.expiresAt.getTime() < ctx.now()) return { outcome: 'not_found' };
  const { ch, owner } = found;
  // issue 12: locked pages and addresses are refused before the answer is even looked at
  const retryAfter = await ctx.challengeGuesses.lockedFor(ch.id, client);
  if (retryAfter > 0) {
    challengePageAnswered(ctx, { rcpt: owner.address, sender: ch.sender, client, outcome: 'locked' });
    return { outcome: 'locked', retryAfter };
  }
  if (hashAnswer(answer) !== owner.challengeAnswerHash) {
    await ctx.challengeGuesses.countWrong(ch.id, client);
    challengePageAnswered(ctx, { rcpt: owner.address, sender: ch.sender, client, outcome: 'wrong' });
    return { outcome: 'wrong', rcpt: owner.address };
  }
  const now = new Date(ctx.now());
  const until = new Date(now.getTime() + ctx.config.allowWindowSeconds * 1000);
  const cri = ch.inboundId ? undefined : newCriToken();
  const solved = await ctx.db.transaction(async (tx) => {
    if (!(await solveChallenge(tx, ch.id, now, cri?.hash ?? null))) return false;
    await addCorrespondents(tx, owner.id, [ch.sender], 'challenge', until);
    if (ch.inboundId) await queueFetch(tx, ch.inboundId, now, 'challenged');
    return true;
  });
  if (!solved) return { outcome: 'already_answered' };
  ctx.kick('fetch');
  challengePageAnswered(ctx, { rcpt: owner.address, sender: ch.sender, client, outcome: 'right' });
  return { outcome: 'answered', rcpt: owner.address, sender: ch.sender, until, criToken: cri?.token };
}
