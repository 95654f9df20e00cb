// Answering a legacy C/R system that challenged one of our users (docs/cri.md "Challenges to our
// users"). Forged mail must never make us answer anyone: we answer only for a message that really
// left this node by SMTP for the recipient that now challenges it, at most once per message and
// recipient, and only to that recipient's own domain. The response is an ordinary sent message of the
// user, so the durable outbound queue delivers (and retries) it like any other.
import { domainOf } from '../address.ts';
import type { AppContext } from '../context.ts';
import { criEvent } from '../events.ts';
import { newMessageIdHeader } from '../mail/compose.ts';
import { randomId } from '../protocol/jws.ts';
import { storeBody } from '../store/bodies.ts';
import { claimCriAnswer, findChallengedDelivery } from '../store/cri-answers.ts';
import type { Mailbox } from '../store/mailboxes.ts';
import { insertMessage } from '../store/messages.ts';
import { composeCriResponse, type CriChallenge, type CriMail } from './cri-message.ts';
import { TOKEN_TYPE_PLAIN } from './cri.ts';

/**
 * `answered`: a response is queued; `already_answered` and `dropped` (about no message of ours): the
 * challenge is stored nowhere; `left_to_user`: about our message but not for a machine to answer
 * (exempt mail, a human-level challenge, no plain token, past its reply time), so the ordinary policy
 * stores it for the user.
 */
export type ChallengeOutcome = 'answered' | 'already_answered' | 'dropped' | 'left_to_user';

export interface ArrivedChallenge {
  cri: CriMail;
  /** The user the challenge is addressed to. */
  mailbox: Mailbox;
  /** Canonical envelope sender ('' for the null sender) and From address of the challenge. */
  envelopeSender: string;
  from?: string;
  /** Why this mail may not be answered automatically (cri.ts loopExemption), if it may not. */
  exemption?: string;
  session: string;
}

export async function handleCriChallenge(ctx: AppContext, a: ArrivedChallenge): Promise<ChallengeOutcome> {
  const user = a.mailbox.address;
  const report = (event: Parameters<typeof criEvent>[1]['event'], detail?: string) =>
    criEvent(ctx, { event, rcpt: user, sender: a.envelopeSender, session: a.session, detail });

  // draft §3.2.2: one message/cri part per challenged sender; ours name our user, or nobody
  let found: Awaited<ReturnType<typeof findChallengedDelivery>>;
  let challenge: CriChallenge | undefined;
  for (const c of a.cri.challenges.filter((x) => !x.sender || x.sender === user)) {
    // the challenger is the recipient of our message: CRI-Recipient, else the challenge's own sender
    const rcpts = c.recipient ? [c.recipient] : [...new Set([a.from, a.envelopeSender].filter((x): x is string => !!x))];
    found = await findChallengedDelivery(ctx.db, { mailboxId: a.mailbox.id, messageIds: a.cri.messageIds, rcpts });
    if (found) {
      challenge = c;
      break;
    }
  }
  if (!found || !challenge) {
    report('challenge_dropped', 'not about a message sent from here');
    return 'dropped';
  }
  const { message, delivery } = found;
  const unanswerable =
    a.exemption ??
    (challenge.level >= 3 ? 'human_level' : undefined) ??
    (!challenge.token || (challenge.tokenType && challenge.tokenType !== TOKEN_TYPE_PLAIN) ? 'no_plain_token' : undefined) ??
    (challenge.replyUntil && challenge.replyUntil.getTime() < ctx.now() ? 'reply_time_over' : undefined);
  if (unanswerable) {
    report('challenge_left_to_user', unanswerable);
    return 'left_to_user';
  }

  // the answer goes to the challenger's domain only: the one our user really wrote to (or a subdomain)
  const target = sameOrSubdomain(domainOf(a.envelopeSender), domainOf(delivery.rcpt)) ? a.envelopeSender : delivery.rcpt;
  const now = new Date(ctx.now());
  const messageIdHeader = newMessageIdHeader(a.mailbox.domain);
  const { raw, subject } = composeCriResponse({
    from: user,
    to: target,
    challengedRcpt: delivery.rcpt,
    about: message.messageIdHeader ?? '',
    challenge: { ...challenge, token: challenge.token! },
    inReplyTo: a.cri.ownMessageId,
    subject: a.cri.subject,
    messageIdHeader,
    date: now,
  });
  const responseId = randomId(16);
  const body = await storeBody(ctx.db, raw, { maxBytes: ctx.config.maxMessageBytes });
  const queued = await ctx.db.transaction(async (tx) => {
    if (!(await claimCriAnswer(tx, { messageId: message.id, rcpt: delivery.rcpt, responseId, now }))) return false;
    await insertMessage(tx, {
      id: responseId,
      mailboxId: a.mailbox.id,
      sender: user,
      subject,
      messageIdHeader,
      body,
      createdAt: now,
      // not remembered as a correspondent: answering a machine is not writing to someone
      deliveries: [{ rcpt: target, rcptDomain: domainOf(target), transport: 'pm1', giveUpAt: new Date(now.getTime() + ctx.config.notifyRetrySeconds * 1000) }],
    });
    return true;
  });
  if (!queued) {
    report('challenge_dropped', 'already answered');
    return 'already_answered';
  }
  ctx.kick();
  report('challenge_answered', `${message.id} to ${target}`);
  return 'answered';
}

const sameOrSubdomain = (d: string, of: string) => d === of || d.endsWith(`.${of}`);
