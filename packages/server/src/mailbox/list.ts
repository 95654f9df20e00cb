// Listing a folder, newest first, for the REST API and the web UI (IMAP reads by uid instead).
import type { MailEntry } from '@pullmail/client/wire';
import type { AppContext } from '../context.ts';
import { countEntries, listEntries, type Entry } from '../store/folders.ts';
import type { Mailbox } from '../store/mailboxes.ts';
import { requireFolder } from './folders.ts';

export function mailEntry(e: Entry): MailEntry {
  return {
    id: e.id, folder: e.folder, uid: e.uid, modseq: e.modseq, flags: e.flags, from: e.sender, subject: e.subject,
    received_at: e.internalDate.toISOString(), size: e.size,
  };
}

/** One page of a folder, newest first; `search` keeps only messages whose sender or subject contains it. */
export async function listMessages(ctx: AppContext, mailbox: Mailbox, folderName: string, page: { limit: number; cursor?: { at: Date; id: string }; search?: string }) {
  const folder = await requireFolder(ctx, mailbox, folderName);
  const search = page.search?.trim() || undefined;
  const entries = await listEntries(ctx.db, folder.id, page.limit, page.cursor, search);
  return { folder, entries, total: await countEntries(ctx.db, folder.id, search), last: entries.length === page.limit ? entries.at(-1) : undefined };
}
