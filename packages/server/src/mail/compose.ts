// Builds the RFC 5322 bytes of a message sent through the API: from JSON with nodemailer's
// MailComposer, or from a raw message/rfc822 body that we check and complete (Message-ID, Date).
import { randomBytes } from 'node:crypto';
import addressparser from 'nodemailer/lib/addressparser';
import MailComposer from 'nodemailer/lib/mail-composer';
import { z } from 'zod';
import { canonicalAddress } from '../address.ts';
import { PullmailError } from '../errors.ts';
import { decodeFieldText } from '../smtp/headers.ts';
import { storableText } from '../text.ts';

const address = z.string().max(320).refine((a) => canonicalAddress(a) !== undefined, 'is not a mail address (local@domain)');
/** Header text may not carry line breaks: they would inject headers. */
const headerText = z.string().max(998).refine((s) => !/[\r\n]/.test(s), 'may not contain line breaks');

export const sendSchema = z
  .object({
    to: z.array(address).max(1000).default([]),
    cc: z.array(address).max(1000).optional(),
    bcc: z.array(address).max(1000).optional(),
    // stored (and shown) as text: what PostgreSQL cannot hold becomes U+FFFD, in the bytes too
    subject: headerText.transform(storableText).default(''),
    text: z.string().optional(),
    html: z.string().optional(),
    attachments: z
      .array(z.object({
        filename: headerText.min(1),
        contentType: z.string().regex(/^[\w.+-]+\/[\w.+-]+$/, 'must be type/subtype'),
        content: z.string().regex(/^[A-Za-z0-9+/=\s]*$/, 'must be base64'),
      }))
      .max(100)
      .optional(),
    /** Send as one of the user's aliases (README "Aliases and catch-all"); the mailbox address by default. */
    from: address.optional(),
    /** Consent tokens (protocol §6) recipients gave the sender; each applies to the recipient in its `sub`. */
    consent: z.array(z.string().max(8192)).max(1000).optional(),
  })
  .refine((m) => m.to.length + (m.cc?.length ?? 0) + (m.bcc?.length ?? 0) > 0, 'at least one recipient is needed');

export type SendInput = z.infer<typeof sendSchema>;

export interface Composed {
  raw: Buffer;
  subject: string;
  messageIdHeader: string;
  /** Canonical envelope recipients (To, Cc and Bcc), deduplicated. */
  recipients: string[];
}

export function newMessageIdHeader(domain: string): string {
  return `<${randomBytes(12).toString('base64url')}@${domain}>`;
}

export function uniqueRecipients(lists: (string[] | undefined)[]): string[] {
  return [...new Set(lists.flatMap((l) => l ?? []).map((a) => canonicalAddress(a)!))];
}

/** Composes a JSON send into MIME. Bcc recipients never appear in the bytes. */
export async function composeMessage(from: string, input: SendInput, opts: { messageIdHeader: string; date: Date }): Promise<Composed> {
  const composer = new MailComposer({
    from,
    to: input.to,
    cc: input.cc,
    subject: input.subject,
    text: input.text ?? (input.html ? undefined : ''),
    html: input.html,
    messageId: opts.messageIdHeader,
    date: opts.date,
    attachments: input.attachments?.map((a) => ({ filename: a.filename, contentType: a.contentType, content: Buffer.from(a.content, 'base64') })),
    disableFileAccess: true,
    disableUrlAccess: true,
  } as never);
  const raw = await composer.compile().build();
  return { raw, subject: input.subject, messageIdHeader: opts.messageIdHeader, recipients: uniqueRecipients([input.to, input.cc, input.bcc]) };
}

const HEADER_END = /\r?\n\r?\n/;

/**
 * Checks a raw message from the API: it must have a header block, a From that is the sender (one of
 * `from` when several addresses are the user's: the mailbox and its aliases), and no bare CR. Adds Message-ID and Date when missing and removes any Bcc header (recipients arrive
 * separately).
 */
export function completeRawMessage(
  raw: Buffer,
  from: string | readonly string[],
  opts: { messageIdHeader: string; date: Date },
): { raw: Buffer; subject: string; messageIdHeader: string; recipients: string[]; sender: string } {
  const senders = typeof from === 'string' ? [from] : from;
  const text = raw.toString('latin1');
  // a CR not followed by LF is a line break to some servers on the way: header injection, SMTP smuggling
  if (/\r(?!\n)/.test(text)) throw new PullmailError('bad_request', 'raw message has a bare CR (every line must end with CRLF or LF)');
  const end = text.search(HEADER_END);
  if (end < 0) throw new PullmailError('bad_request', 'raw message has no header/body separator');
  const headerBlock = text.slice(0, end);
  const rest = text.slice(end);
  const lines = headerBlock.split(/\r?\n/);
  const headers: { name: string; lines: string[] }[] = [];
  for (const line of lines) {
    if (/^[ \t]/.test(line) && headers.length) headers[headers.length - 1].lines.push(line);
    else if (/^[!-9;-~]+:/.test(line)) headers.push({ name: line.slice(0, line.indexOf(':')).toLowerCase(), lines: [line] });
    else throw new PullmailError('bad_request', `raw message has a malformed header line: ${JSON.stringify(line.slice(0, 60))}`);
  }
  const value = (name: string) => {
    const h = headers.find((x) => x.name === name);
    // unfolded as RFC 5322 §2.2.3 says (and the MX's headerValue does): only the line breaks go
    return h ? h.lines.join('').slice(name.length + 1).trim() : undefined;
  };
  // one From field naming one author, the user: a second field or a second author would let a user
  // put someone else's name on the message
  const fromFields = headers.filter((h) => h.name === 'from');
  const authors = fromFields.length === 1 ? flattenAddresses(addressparser(fromFields[0].lines.join(' ').slice('from:'.length))) : [];
  const author = authors.length === 1 ? canonicalAddress(authors[0]) : undefined;
  const sender = senders.find((s) => canonicalAddress(s) === author);
  if (!sender) throw new PullmailError('forbidden', `From must be your own address ${senders.join(' or ')}, alone`);
  const kept = headers.filter((h) => h.name !== 'bcc');
  const added: string[] = [];
  let messageIdHeader = value('message-id');
  if (!messageIdHeader) {
    messageIdHeader = opts.messageIdHeader;
    added.push(`Message-ID: ${messageIdHeader}`);
  }
  if (!value('date')) added.push(`Date: ${opts.date.toUTCString().replace('GMT', '+0000')}`);
  const out = [...added, ...kept.flatMap((h) => h.lines)].join('\r\n') + rest;
  const recipients: string[] = [];
  for (const name of ['to', 'cc', 'bcc']) {
    for (const h of headers.filter((x) => x.name === name)) {
      for (const a of flattenAddresses(addressparser(h.lines.join(' ').slice(name.length + 1)))) {
        const c = canonicalAddress(a);
        // the header was read as latin1; a UTF-8 address is shown to the user as UTF-8
        if (!c) throw new PullmailError('bad_request', `${name}: "${Buffer.from(a, 'latin1').toString('utf8')}" is not a mail address`);
        recipients.push(c);
      }
    }
  }
  // the subject as a reader sees it (the bytes were read as latin1 above), at most what a notification carries
  return { raw: Buffer.from(out, 'latin1'), subject: storableText(decodeFieldText(value('subject') ?? '').slice(0, 998)), messageIdHeader, recipients: [...new Set(recipients)], sender };
}

type Parsed = { address?: string; group?: Parsed[] };
function flattenAddresses(list: Parsed[]): string[] {
  return list.flatMap((a) => (a.group ? flattenAddresses(a.group) : a.address ? [a.address] : []));
}
