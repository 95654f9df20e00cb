// Use cases for a user's folders (docs/mailbox.md), called by the REST API and the IMAP door alike.
import type { Folder } from '@pullmail/client/wire';
import type { AppContext } from '../context.ts';
import { PullmailError } from '../errors.ts';
import { deleteFolderRow, entriesByUid, findFolder, insertFolder, listFolders as listFolderRows, removeEntries, renameFolder as renameRows, setSubscribed, type FolderRow } from '../store/folders.ts';
import type { Executor } from '../store/db.ts';
import type { Mailbox } from '../store/mailboxes.ts';
import { checkFolderName } from './folder-name.ts';

export async function listFolders(ctx: AppContext, mailbox: Mailbox): Promise<Folder[]> {
  const rows = await listFolderRows(ctx.db, mailbox.id);
  return rows.map(({ folder, total, unseen }) => ({ ...folderView(folder), total, unseen }));
}

export function folderView(f: FolderRow): Omit<Folder, 'total' | 'unseen'> {
  return {
    name: f.name, role: f.role, special_use: f.specialUse, uidvalidity: f.uidValidity, uidnext: f.uidNext,
    highestmodseq: f.highestModseq, subscribed: f.subscribed,
  };
}

/** The folder, or `not_found` naming it. */
export async function requireFolder(ctx: AppContext, mailbox: Mailbox, name: string, db: Executor = ctx.db): Promise<FolderRow> {
  const folder = await findFolder(db, mailbox.id, name);
  if (!folder) throw new PullmailError('not_found', `no folder named ${JSON.stringify(name)}`);
  return folder;
}

export async function createFolder(ctx: AppContext, mailbox: Mailbox, rawName: string): Promise<FolderRow> {
  const name = checkFolderName(rawName);
  const row = await insertFolder(ctx.db, mailbox.id, name);
  if (!row) throw new PullmailError('conflict', `a folder named ${JSON.stringify(name)} exists`);
  return row;
}

/** Renames a folder the user made (and the folders under it); the fixed folders keep their names. */
export async function renameFolder(ctx: AppContext, mailbox: Mailbox, from: string, rawTo: string): Promise<void> {
  const to = checkFolderName(rawTo);
  await ctx.db.transaction(async (tx) => {
    const folder = await findFolder(tx, mailbox.id, from);
    if (!folder) throw new PullmailError('not_found', `no folder named ${JSON.stringify(from)}`);
    if (folder.role) throw new PullmailError('conflict', `${folder.name} is one of the folders every mailbox has; it cannot be renamed`);
    if (to.startsWith(`${folder.name}/`)) throw new PullmailError('bad_request', 'a folder cannot be moved under itself');
    if (await findFolder(tx, mailbox.id, to)) throw new PullmailError('conflict', `a folder named ${JSON.stringify(to)} exists`);
    await renameRows(tx, mailbox.id, folder.name, to);
  });
}

/** Deletes a folder the user made, with the messages in it. */
export async function deleteFolder(ctx: AppContext, mailbox: Mailbox, name: string): Promise<void> {
  await ctx.db.transaction(async (tx) => {
    const folder = await findFolder(tx, mailbox.id, name);
    if (!folder) throw new PullmailError('not_found', `no folder named ${JSON.stringify(name)}`);
    if (folder.role) throw new PullmailError('conflict', `${folder.name} is one of the folders every mailbox has; it cannot be deleted`);
    const entries = await entriesByUid(tx, folder.id);
    await removeEntries(tx, mailbox.id, entries.map((e) => e.id), new Date(ctx.now()));
    await deleteFolderRow(tx, folder.id);
  });
}

export async function subscribeFolder(ctx: AppContext, mailbox: Mailbox, name: string, subscribed: boolean): Promise<void> {
  await setSubscribed(ctx.db, (await requireFolder(ctx, mailbox, name)).id, subscribed);
}
