// Changing filed messages: flags, and moving or copying them to another folder (RFC 3501 STORE/COPY,
// RFC 6851 MOVE; PATCH /api/v1/mail/:id). What one door changes, every other door sees: the change
// journal records it and wakes listeners in every process.
import type { AppContext } from '../context.ts';
import { PullmailError } from '../errors.ts';
import type { Tx } from '../store/db.ts';
import { copyEntries, removeEntries, writeFlags, type Entry, type FolderRow } from '../store/folders.ts';
import type { Mailbox } from '../store/mailboxes.ts';
import { applyFlags, sameFlags, type FlagChange } from './flags.ts';

/** Applies one flag change to entries of one folder; returns each entry's new flags and the modseq, if any changed. */
export async function flagMessages(tx: Tx, mailbox: Mailbox, folderId: string, entries: Entry[], change: FlagChange) {
  const changed = entries
    .map((e) => ({ id: e.id, uid: e.uid, before: e.flags, flags: applyFlags(e.flags, change) }))
    .filter((c) => !sameFlags(c.before, c.flags));
  const modseq = await writeFlags(tx, mailbox.id, folderId, changed);
  return { changed, modseq };
}

/** Held requests are decided through the screening use cases, never filed around them. */
function refuseRequests(entries: Entry[], target?: FolderRow): void {
  if (entries.some((e) => e.role === 'requests') || target?.role === 'requests') {
    throw new PullmailError('conflict', 'a held request is accepted, rejected or blocked through /api/v1/requests, not filed by hand');
  }
}

/** Moves entries to `target`: a new uid there, the old one expunged (RFC 6851 §3.3). */
export async function moveMessages(ctx: AppContext, tx: Tx, mailbox: Mailbox, entries: Entry[], target: FolderRow) {
  refuseRequests(entries, target);
  const moving = entries.filter((e) => e.folderId !== target.id);
  const copies = await copyEntries(tx, target.id, moving);
  await removeEntries(tx, mailbox.id, moving.map((e) => e.id), new Date(ctx.now()));
  return moving.map((e, i) => ({ from: e, to: copies[i] }));
}

export async function copyMessages(tx: Tx, entries: Entry[], target: FolderRow) {
  refuseRequests(entries, target);
  return copyEntries(tx, target.id, entries);
}
