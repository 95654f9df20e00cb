// What the sender sees of their sent mail (docs/operator.md GET /api/v1/messages/:id, /api/v1/sent):
// each recipient's delivery state, and the sent messages newest first.
import { canonicalAddress } from '../address.ts';
import type { AppContext } from '../context.ts';
import { PullmailError } from '../errors.ts';
import type { Mailbox } from '../store/mailboxes.ts';
import { simpleParser, type AddressObject, type EmailAddress } from 'mailparser';
import { loadBody } from '../store/bodies.ts';
import { findOwnMessage, findVersion, listDeliveries, listSent } from '../store/messages.ts';

/** A sent message and its deliveries, or `not_found`. */
export async function sentMessageStatus(ctx: AppContext, mailbox: Mailbox, id: string) {
  const message = await findOwnMessage(ctx.db, mailbox.id, id);
  if (!message) throw new PullmailError('not_found', 'no such sent message');
  return { message, deliveries: await listDeliveries(ctx.db, message.id) };
}

export function listSentMessages(ctx: AppContext, mailbox: Mailbox, page: { limit: number; cursor?: { at: Date; id: string } }) {
  return listSent(ctx.db, mailbox.id, page.limit, page.cursor);
}

/** What the user wrote in the current version of a sent message, recipients included (the web UI's Edit form starts from it). */
export interface SentContent {
  to: string[];
  cc: string[];
  /** The recipients no header names: Bcc never reaches the bytes (mail/compose.ts), so they are the deliveries left over. */
  bcc: string[];
  subject: string;
  text: string;
  attachments: { filename: string; contentType: string; content: Buffer }[];
}

/** @throws PullmailError `not_found` when `id` is no sent message of `mailbox` */
export async function sentMessageContent(ctx: AppContext, mailbox: Mailbox, id: string): Promise<SentContent> {
  const message = await findOwnMessage(ctx.db, mailbox.id, id);
  const version = message && (await findVersion(ctx.db, message.id, message.version));
  if (!message || !version) throw new PullmailError('not_found', 'no such sent message');
  const parsed = await simpleParser(await loadBody(ctx.db, { raw: version.raw, blobId: version.blobId, size: version.size }), { skipImageLinks: true, skipTextToHtml: true });
  const flat = (list: EmailAddress[]): string[] => list.flatMap((a) => (a.group ? flat(a.group) : a.address ? [a.address] : []));
  const addresses = (v: AddressObject | AddressObject[] | undefined) => (Array.isArray(v) ? v : v ? [v] : []).flatMap((o) => flat(o.value));
  const to = addresses(parsed.to);
  const cc = addresses(parsed.cc);
  // an edit must name every recipient again (delivery/edit.ts): whoever To and Cc leave out was a Bcc
  const named = new Set([...to, ...cc].map((a) => canonicalAddress(a) ?? a));
  const bcc = (await listDeliveries(ctx.db, message.id)).map((d) => d.rcpt).filter((r) => !named.has(r));
  const attachments = parsed.attachments.map((a, i) => ({ filename: a.filename || `attachment-${i + 1}`, contentType: a.contentType || 'application/octet-stream', content: a.content }));
  return { to, cc, bcc, subject: message.subject, text: parsed.text ?? '', attachments };
}
