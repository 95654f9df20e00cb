// Sending (docs/operator.md POST /api/v1/messages): build or take the RFC 5322 bytes, store them once,
// queue one delivery per recipient, and remember the recipients as known correspondents.
import { createHash } from 'node:crypto';
import type { SendResponse } from '@pullmail/client/wire';
import { canonicalAddress, domainOf } from '../address.ts';
import type { AppContext } from '../context.ts';
import { PullmailError } from '../errors.ts';
import { completeRawMessage, composeMessage, newMessageIdHeader, uniqueRecipients, type SendInput } from '../mail/compose.ts';
import { peek, randomId } from '../protocol/jws.ts';
import type { Mailbox } from '../store/mailboxes.ts';
import { insertMessage } from '../store/messages.ts';
import { addCorrespondents } from '../store/policy-data.ts';

/** `envelope`: SMTP submission's RCPT TO recipients, used instead of the header fields (so Bcc works). */
export type Outgoing = { json: SendInput } | { raw: Buffer; envelope?: string[] };

const MAX_RECIPIENTS = 1000;

export async function sendMessage(ctx: AppContext, mailbox: Mailbox, out: Outgoing): Promise<SendResponse> {
  const now = new Date(ctx.now());
  const built = await build(mailbox.address, out, { messageIdHeader: newMessageIdHeader(mailbox.domain), date: now });
  const recipients = 'raw' in out && out.envelope ? uniqueRecipients([out.envelope]) : built.recipients;
  if (recipients.length === 0) throw new PullmailError('bad_request', 'at least one recipient is needed');
  if (recipients.length > MAX_RECIPIENTS) throw new PullmailError('bad_request', `at most ${MAX_RECIPIENTS} recipients`);
  if (built.raw.length > ctx.config.maxMessageBytes) throw new PullmailError('too_large', `message is ${built.raw.length} bytes; the limit is ${ctx.config.maxMessageBytes}`);

  const consent = consentByRecipient('json' in out ? out.json.consent : undefined);
  const id = randomId(16);
  const giveUpAt = new Date(now.getTime() + ctx.config.notifyRetrySeconds * 1000);
  const rows = await ctx.db.transaction(async (tx) => {
    const ds = await insertMessage(tx, {
      id,
      mailboxId: mailbox.id,
      sender: mailbox.address,
      subject: built.subject,
      messageIdHeader: built.messageIdHeader,
      raw: built.raw,
      sha256: createHash('sha256').update(built.raw).digest('base64url'),
      createdAt: now,
      deliveries: recipients.map((rcpt) => {
        const rcptDomain = domainOf(rcpt);
        return { rcpt, rcptDomain, transport: ctx.config.domains.includes(rcptDomain) ? 'local' : 'pm1', giveUpAt, consent: consent.get(rcpt) ?? null };
      }),
    });
    // protocol §6: people the user wrote to count as known correspondents
    await addCorrespondents(tx, mailbox.id, recipients, 'sent');
    return ds;
  });
  ctx.kick('notify');
  ctx.log.child({ sub: 'send' }).info({ msgId: id, from: mailbox.address, rcpts: recipients.length, size: built.raw.length }, 'message queued');
  return { id, version: 1, deliveries: rows.map((d) => ({ rcpt: d.rcpt, state: 'queued' })) };
}

/** The bytes and recipients of an outgoing message; also used by edits. */
export async function build(from: string, out: Outgoing, opts: { messageIdHeader: string; date: Date }) {
  return 'json' in out ? composeMessage(from, out.json, opts) : completeRawMessage(out.raw, from, opts);
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
