// What the sender sees of their sent mail (docs/operator.md GET /api/v1/messages/:id, /api/v1/sent):
// each recipient's delivery state, and the sent messages newest first.
import type { AppContext } from '../context.ts';
import { PullmailError } from '../errors.ts';
import type { Mailbox } from '../store/mailboxes.ts';
import { findOwnMessage, listDeliveries, listSent } from '../store/messages.ts';

/** A sent message and its deliveries, or `not_found`. */
export async function sentMessageStatus(ctx: AppContext, mailbox: Mailbox, id: string) {
  const message = await findOwnMessage(ctx.db, mailbox.id, id);
  if (!message) throw new PullmailError('not_found', 'no such sent message');
  return { message, deliveries: await listDeliveries(ctx.db, message.id) };
}

export function listSentMessages(ctx: AppContext, mailbox: Mailbox, page: { limit: number; cursor?: { at: Date; id: string } }) {
  return listSent(ctx.db, mailbox.id, page.limit, page.cursor);
}
