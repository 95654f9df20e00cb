// Changing filed messages: flags, and moving or copying them to another folder (RFC 3501 STORE/COPY,
// RFC 6851 MOVE; PATCH /api/v1/mail/:id). What one door changes, every other door sees: the change
// journal records it and wakes listeners in every process.
import type { AppContext } from '../context.ts';
import { PullmailError } from '../errors.ts';
import type { Tx } from '../store/db.ts';
import { copyEntries, removeEntries, writeFlags, type Entry, type FolderRow } from '../store/folders.ts';
import type { Mailbox } from '../store/mailboxes.ts';
import { applyFlags, sameFlags, type FlagChange } from './flags.ts';
import { requireFolder } from './folders.ts';
import { requireEntry } from './read.ts';

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

export interface MessageUpdate {
  flags?: FlagChange;
  /** Move to this folder (by name). */
  folder?: string;
}

/** The REST door's PATCH: a flag change and/or a move of one message, in one transaction; returns the entry's id afterwards. */
export async function updateMessage(ctx: AppContext, mailbox: Mailbox, id: string, update: MessageUpdate): Promise<string> {
  return ctx.db.transaction(async (tx) => {
    let entry = await requireEntry(ctx, mailbox, id, {}, tx);
    const target = update.folder === undefined ? undefined : await requireFolder(ctx, mailbox, update.folder, tx);
    if (target) refuseRequests([entry], target);
    if (update.flags) {
      const { changed } = await flagMessages(tx, mailbox, entry.folderId, [entry], update.flags);
      if (changed.length) entry = { ...entry, flags: changed[0].flags };
    }
    if (!target) return entry.id;
    const [moved] = await moveMessages(ctx, tx, mailbox, [entry], target);
    return moved?.to.id ?? entry.id;
  });
}

/** Copies one message to a folder (by name); returns the copy's id. */
export async function copyMessage(ctx: AppContext, mailbox: Mailbox, id: string, folder: string): Promise<string> {
  return ctx.db.transaction(async (tx) => {
    const entry = await requireEntry(ctx, mailbox, id, {}, tx);
    const [copy] = await copyMessages(tx, [entry], await requireFolder(ctx, mailbox, folder, tx));
    return copy.id;
  });
}
