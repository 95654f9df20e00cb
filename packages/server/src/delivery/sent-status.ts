// What the sender sees of their sent mail (docs/operator.md GET /api/v1/messages/:id, /api/v1/sent):
// each recipient's delivery state, and the sent messages newest first.
import type { AppContext } from '../context.ts';
import { PullmailError } from '../errors.ts';
import type { Mailbox } from '../store/mailboxes.ts';
import { simpleParser, type AddressObject } from 'mailparser';
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

/** What the user wrote in the current version of a sent message (the web UI's Edit form starts from it). */
export async function sentMessageContent(ctx: AppContext, mailbox: Mailbox, id: string): Promise<{ to: string[]; cc: string[]; subject: string; text: string; attachments: { filename: string; contentType: string; content: Buffer }[] }> {
  const message = await findOwnMessage(ctx.db, mailbox.id, id);
  const version = message && (await findVersion(ctx.db, message.id, message.version));
  if (!message || !version) throw new PullmailError('not_found', 'no such sent message');
  const parsed = await simpleParser(await loadBody(ctx.db, { raw: version.raw, blobId: version.blobId, size: version.size }), { skipImageLinks: true, skipTextToHtml: true });
  const addresses = (v: AddressObject | AddressObject[] | undefined) => (Array.isArray(v) ? v : v ? [v] : []).flatMap((o) => o.value.map((a) => a.address ?? '')).filter(Boolean);
  const attachments = parsed.attachments.map((a, i) => ({ filename: a.filename || `attachment-${i + 1}`, contentType: a.contentType || 'application/octet-stream', content: a.content }));
  return { to: addresses(parsed.to), cc: addresses(parsed.cc), subject: message.subject, text: parsed.text ?? '', attachments };
}
