// Sending (docs/operator.md POST /api/v1/messages): build or take the RFC 5322 bytes, store them once,
// queue one delivery per recipient, and remember the recipients as known correspondents.
import { tooLargeDetail } from '../mail/limits.ts';
import type { SendResponse } from '@pullmail/client/wire';
import { canonicalAddress, domainOf } from '../address.ts';
import type { AppContext } from '../context.ts';
import { PullmailError } from '../errors.ts';
import { completeRawMessage, composeMessage, newMessageIdHeader, uniqueRecipients, type SendInput } from '../mail/compose.ts';
import { readHeaderBlock, refuseBareCr } from '../mail/raw-stream.ts';
import { peek, randomId } from '../protocol/jws.ts';
import type { Mailbox } from '../store/mailboxes.ts';
import { linkBody, spoolBody, storeBody, type StoredBody } from '../store/bodies.ts';
import { storeSentMessage } from '../store/messages.ts';
import { aliasesOf } from '../store/aliases.ts';

/**
 * What the user sends: JSON to compose, a raw message in memory (SMTP submission; `envelope` is its
 * RCPT TO recipients, used instead of the header fields so Bcc works), or a raw message still
 * arriving (the API's message/rfc822 upload), whose body is stored as it comes.
 */
export type Outgoing = { json: SendInput } | { raw: Buffer; envelope?: string[] } | { stream: AsyncIterable<Uint8Array> };

const MAX_RECIPIENTS = 1000;

export async function sendMessage(ctx: AppContext, mailbox: Mailbox, out: Outgoing): Promise<SendResponse> {
  await takeSendAllowance(ctx, mailbox);
  const now = new Date(ctx.now());
  const built = await build(ctx, await allowedSenders(ctx, mailbox, out), out, { messageIdHeader: newMessageIdHeader(mailbox.domain), date: now });
  const id = randomId(16);
  return linkBody(ctx.db, built.body, async () => {
    const recipients = 'raw' in out && out.envelope ? uniqueRecipients([out.envelope]) : built.recipients;
    if (recipients.length === 0) throw new PullmailError('bad_request', 'at least one recipient is needed');
    if (recipients.length > MAX_RECIPIENTS) throw new PullmailError('bad_request', `at most ${MAX_RECIPIENTS} recipients`);
    const consent = consentByRecipient('json' in out ? out.json.consent : undefined);
    const giveUpAt = new Date(now.getTime() + ctx.config.notifyRetrySeconds * 1000);
    // one statement: the message, its version, the deliveries, the correspondents (protocol §6) and Sent
    await storeSentMessage(ctx.db, {
      id,
      mailboxId: mailbox.id,
      sender: built.sender,
      subject: built.subject,
      messageIdHeader: built.messageIdHeader,
      body: built.body,
      createdAt: now,
      giveUpAt,
      deliveries: recipients.map((rcpt) => {
        const rcptDomain = domainOf(rcpt);
        return { rcpt, rcptDomain, transport: ctx.config.domains.includes(rcptDomain) ? 'local' : 'pm1', consent: consent.get(rcpt) ?? null };
      }),
    });
    ctx.kick('notify');
    ctx.log.child({ sub: 'send' }).info({ msgId: id, from: built.sender, rcpts: recipients.length, size: built.body.size }, 'message queued');
    return { id, version: 1, deliveries: recipients.map((rcpt) => ({ rcpt, state: 'queued' })) };
  });
}

/**
 * Counts one message against the user's PULLMAIL_SEND_LIMIT, whichever door it came through (API,
 * submission, web); sends and edits both call it, before any bytes are stored.
 * @throws PullmailError `rate_limited` with `retryAfter` (429 in the API, 451 4.7.1 in submission)
 */
export async function takeSendAllowance(ctx: AppContext, mailbox: Mailbox): Promise<void> {
  const wait = await ctx.rateLimits.takeSend(mailbox.address);
  if (wait) throw new PullmailError('rate_limited', `${mailbox.address} has sent too many messages; try again in ${wait} s`, { retryAfter: wait });
}

/**
 * The addresses a user may send as (README "Aliases and catch-all"): the mailbox's own first, then its
 * exact aliases. A catch-all gives none: it receives for addresses nobody owns.
 */
export async function sendingAddresses(ctx: Pick<AppContext, 'db'>, mailbox: Mailbox): Promise<string[]> {
  return [mailbox.address, ...(await aliasesOf(ctx.db, mailbox.id))];
}

/** What `out` may be from: a JSON send from the mailbox's own address needs no look-up of its aliases. */
function allowedSenders(ctx: Pick<AppContext, 'db'>, mailbox: Mailbox, out: Outgoing): Promise<string[]> | string[] {
  if ('json' in out && (out.json.from === undefined || canonicalAddress(out.json.from) === mailbox.address)) return [mailbox.address];
  return sendingAddresses(ctx, mailbox);
}

export interface Built {
  /** The author, one of the addresses build() was given. */
  sender: string;
  body: StoredBody;
  subject: string;
  messageIdHeader: string;
  recipients: string[];
}

/**
 * Checks and stores the bytes of an outgoing message (a blob when large); also used by edits. `from`:
 * the addresses the user may send as, the default first.
 * @throws PullmailError forbidden when the message is from another address
 */
export async function build(ctx: AppContext, from: readonly string[], out: Outgoing, opts: { messageIdHeader: string; date: Date }): Promise<Built> {
  const maxBytes = ctx.config.maxMessageBytes;
  if ('stream' in out) {
    // only the header block is held: checked and completed, then the body follows it into the store
    const { head, rest } = await readHeaderBlock(out.stream);
    const done = completeRawMessage(head, from, opts);
    const body = await spoolBody(ctx.db, concat([done.raw], refuseBareCr(rest)), { maxBytes });
    return { ...done, body };
  }
  let done: Omit<Built, 'body'> & { raw: Buffer };
  if ('json' in out) {
    const sender = jsonSender(from, out.json.from);
    done = { ...(await composeMessage(sender, out.json, opts)), sender };
  } else {
    done = completeRawMessage(out.raw, from, opts);
  }
  if (done.raw.length > maxBytes) throw new PullmailError('too_large', tooLargeDetail(done.raw.length, maxBytes));
  return { ...done, body: await storeBody(ctx.db, done.raw, { maxBytes }) };
}

function jsonSender(allowed: readonly string[], asked: string | undefined): string {
  if (asked === undefined) return allowed[0];
  const sender = allowed.find((a) => a === canonicalAddress(asked));
  if (!sender) throw new PullmailError('forbidden', `from: ${asked} is not your address or one of your aliases (${allowed.join(', ')})`);
  return sender;
}

async function* concat(...sources: (AsyncIterable<Uint8Array> | Iterable<Uint8Array>)[]): AsyncGenerator<Uint8Array> {
  for (const source of sources) yield* source;
}

/** Maps each consent token to the recipient named in its `sub` (unverified here: the recipient's node decides). */
function consentByRecipient(tokens: string[] | undefined): Map<string, string> {
  const map = new Map<string, string>();
  for (const token of tokens ?? []) {
    let sub: unknown;
    try {
      sub = peek(token).claims.sub;
    } catch {
      throw new PullmailError('bad_request', 'consent: not a token');
    }
    const rcpt = typeof sub === 'string' ? canonicalAddress(sub) : undefined;
    if (!rcpt) throw new PullmailError('bad_request', 'consent: token names no recipient');
    map.set(rcpt, token);
  }
  return map;
}
