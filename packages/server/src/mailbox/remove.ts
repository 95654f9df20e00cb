// Removing filed messages for good (IMAP EXPUNGE of \Deleted messages, DELETE /api/v1/mail/:id).
// A received message keeps its database row without its bytes once no folder files it, so a repeated
// notification is still recognised as a duplicate (protocol §7).
import type { AppContext } from '../context.ts';
import { PullmailError } from '../errors.ts';
import type { Tx } from '../store/db.ts';
import { removeEntries, type Entry } from '../store/folders.ts';
import type { Mailbox } from '../store/mailboxes.ts';
import { requireEntry, type ReadOptions } from './read.ts';

export async function removeMessages(ctx: AppContext, tx: Tx, mailbox: Mailbox, entries: Entry[]): Promise<void> {
  if (entries.some((e) => e.role === 'requests')) {
    throw new PullmailError('conflict', 'a held request is rejected through /api/v1/requests/:id/reject');
  }
  await removeEntries(tx, mailbox.id, entries.map((e) => e.id), new Date(ctx.now()));
}

/** Deletes one message for good (DELETE /api/v1/mail/:id and /api/v1/inbox/:id). */
export async function deleteMessage(ctx: AppContext, mailbox: Mailbox, id: string, opts: ReadOptions = {}): Promise<void> {
  await ctx.db.transaction(async (tx) => removeMessages(ctx, tx, mailbox, [await requireEntry(ctx, mailbox, id, opts, tx)]));
}
