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

/**
 * A search counts its matches up to this many, then says "more" (the web UI shows `1000+`): a word most
 * messages contain would otherwise have every page read the whole folder to count them (bench/web.ts).
 */
export const SEARCH_COUNT_CAP = 1000;

/**
 * One page of a folder, newest first; `search` keeps only messages whose sender or subject contains it.
 * `total` counts the folder, or the search's matches up to SEARCH_COUNT_CAP (`isTotalCapped`: there are more).
 */
export async function listMessages(ctx: AppContext, mailbox: Mailbox, folderName: string, page: { limit: number; cursor?: { at: Date; id: string }; search?: string }) {
  const folder = await requireFolder(ctx, mailbox, folderName);
  const search = page.search?.trim() || undefined;
  const entries = await listEntries(ctx.db, folder.id, page.limit, page.cursor, search);
  // a first page that is not full holds them all; else one past the cap tells "exactly 1000" from "more"
  const counted = !page.cursor && entries.length < page.limit ? entries.length
    : await countEntries(ctx.db, folder.id, search, search ? SEARCH_COUNT_CAP + 1 : undefined);
  const isTotalCapped = search !== undefined && counted > SEARCH_COUNT_CAP;
  return { folder, entries, total: isTotalCapped ? SEARCH_COUNT_CAP : counted, isTotalCapped, last: entries.length === page.limit ? entries.at(-1) : undefined };
}
