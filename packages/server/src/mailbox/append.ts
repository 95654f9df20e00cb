// Adding a message a client brings (IMAP APPEND, POST /api/v1/folders/:name/messages): a draft, a
// copy of a sent message, mail moved in from elsewhere. A copy of something already filed in that
// folder (same Message-ID field and the same bytes up to a final line break, or a message this node
// sent itself) adds nothing.
import type { AppContext } from '../context.ts';
import { PullmailError } from '../errors.ts';
import { peekHeaders } from '../mail/header-peek.ts';
import { sameMessageDigests } from '../mail/message-digest.ts';
import { linkBody, storeBody } from '../store/bodies.ts';
import { fileMessage, findByMessageIdHeader, type FolderRow } from '../store/folders.ts';
import type { Mailbox } from '../store/mailboxes.ts';
import { canonicalFlags } from './flags.ts';

export interface AppendInput {
  raw: Buffer;
  flags?: string[];
  internalDate?: Date;
}

/** Files `raw` in `folder`; returns the entry (`existing` when an identical copy was already there). */
export async function appendMessage(ctx: Pick<AppContext, 'db' | 'config' | 'now'>, mailbox: Mailbox, folder: FolderRow, input: AppendInput): Promise<{ id: string; uid: number; existing: boolean }> {
  if (folder.role === 'requests') throw new PullmailError('conflict', 'Requests holds first-contact requests only; nothing can be added to it');
  if (input.raw.length === 0) throw new PullmailError('bad_request', 'the message is empty');
  if (input.raw.length > ctx.config.maxMessageBytes) throw new PullmailError('too_large', `message is ${input.raw.length} bytes; the limit is ${ctx.config.maxMessageBytes}`);
  const flags = canonicalFlags(input.flags ?? []);
  const head = peekHeaders(input.raw);
  if (head.messageId) {
    const same = await findByMessageIdHeader(ctx.db, folder.id, head.messageId);
    // the node filed its own copy when the message was sent (Sent), or the client appends twice (an
    // export and import of it may have added a final line break: mail/message-digest.ts)
    const sameBytes = () => !!same?.sha256 && sameMessageDigests(input.raw).includes(same.sha256);
    if (same && (same.messageId || same.inboundId || sameBytes())) return { id: same.id, uid: same.uid, existing: true };
  }
  const body = await storeBody(ctx.db, input.raw, { maxBytes: ctx.config.maxMessageBytes });
  const filed = await linkBody(ctx.db, body, () => ctx.db.transaction((tx) => fileMessage(tx, folder.id, {
    flags, internalDate: input.internalDate ?? new Date(ctx.now()), size: body.size, sender: head.from, subject: head.subject,
    messageIdHeader: head.messageId, body,
  })));
  return { ...filed, existing: false };
}
