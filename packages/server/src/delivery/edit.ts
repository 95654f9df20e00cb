// Retract and edit from the sender side (protocol §5, docs/operator.md).
import type { RetractResponse, SendResponse } from '@pullmail/client/wire';
import type { AppContext } from '../context.ts';
import { PullmailError } from '../errors.ts';
import { linkBody } from '../store/bodies.ts';
import type { Mailbox } from '../store/mailboxes.ts';
import { offerVersion, retractDeliveries } from '../store/deliveries.ts';
import { addVersion, findOwnMessage, listDeliveries, lockOwnMessage } from '../store/messages.ts';
import { fileSent } from '../mailbox/file-sent.ts';
import { build, sendingAddresses, takeSendAllowance, type Outgoing } from './send.ts';

export async function retractMessage(ctx: AppContext, mailbox: Mailbox, id: string): Promise<RetractResponse> {
  const m = await findOwnMessage(ctx.db, mailbox.id, id);
  if (!m) throw new PullmailError('not_found', 'no such sent message');
  const results = await ctx.db.transaction((tx) => retractDeliveries(tx, id, new Date(ctx.now())));
  ctx.kick('notify');
  ctx.log.child({ sub: 'send' }).info({ msgId: id, results }, 'message retracted');
  return { results };
}

export async function editMessage(ctx: AppContext, mailbox: Mailbox, id: string, out: Outgoing): Promise<SendResponse> {
  const now = new Date(ctx.now());
  const m = await findOwnMessage(ctx.db, mailbox.id, id);
  if (!m) throw new PullmailError('not_found', 'no such sent message');
  // an edit sends again as the author of version 1: only while the user may still send as that address
  // (the alias may have been deleted since), checked as a send checks its From
  const allowed = await sendingAddresses(ctx, mailbox);
  if (!allowed.includes(m.sender)) throw new PullmailError('forbidden', `this message was sent as ${m.sender}, which is no longer your address or one of your aliases (${allowed.join(', ')}): it cannot be edited`);
  // an edit notifies every recipient again: it counts as a message sent
  await takeSendAllowance(ctx, mailbox);
  // the new bytes are stored before the message is locked: an upload never holds the lock
  // an edit keeps the author of version 1: its recipients know the message under that address
  const built = await build(ctx, [m.sender], out, { messageIdHeader: m.messageIdHeader ?? '', date: now });
  const result = await linkBody(ctx.db, built.body, () => ctx.db.transaction(async (tx) => {
    const locked = await lockOwnMessage(tx, mailbox.id, id);
    if (!locked) throw new PullmailError('not_found', 'no such sent message');
    const before = await listDeliveries(tx, id);
    const same = built.recipients.length === before.length && built.recipients.every((r) => before.some((d) => d.rcpt === r));
    if (!same) throw new PullmailError('bad_request', 'an edit cannot change the recipients');
    const version = locked.version + 1;
    await addVersion(tx, { messageId: id, version, body: built.body, subject: built.subject, now });
    // protocol §5: recipients who fetched keep what they have
    if ((await offerVersion(tx, id, version, now)) === 0) throw new PullmailError('conflict', 'every recipient has fetched (or refused) this message');
    await fileSent(tx, { mailboxId: mailbox.id, messageId: id, sender: locked.sender, subject: built.subject, size: built.body.size, messageIdHeader: locked.messageIdHeader, at: now });
    return { id, version, deliveries: (await listDeliveries(tx, id)).map((d) => ({ rcpt: d.rcpt, state: d.state })) };
  }));
  ctx.kick('notify');
  return result;
}
