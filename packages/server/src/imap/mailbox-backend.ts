// The IMAP door's backend over the mailbox model (docs/mailbox.md, docs/imap.md): each MailAccount
// method parses nothing and decides nothing of its own; it calls the mailbox and screening use cases
// and shapes their answers as backend.ts wants them. pullmail's own meanings live here:
// - Requests: MOVE to Trash rejects a request, to Junk blocks its sender, anywhere else accepts it
//   (the message arrives in INBOX once fetched); \Deleted + EXPUNGE rejects it.
// - Sent: the keywords $Fetched (every recipient fetched) and $Retractable (some recipient has not)
//   mirror delivery state; they are computed when listed and cannot be stored by a client.
import { Readable } from 'node:stream';
import { canonicalAddress } from '../address.ts';
import type { AppContext } from '../context.ts';
import { PullmailError } from '../errors.ts';
import { appendMessage } from '../mailbox/append.ts';
import { createFolder, deleteFolder, renameFolder, requireFolder, subscribeFolder } from '../mailbox/folders.ts';
import { messageBytes } from '../mailbox/read.ts';
import { removeMessages } from '../mailbox/remove.ts';
import type { MailWatch } from '../mailbox/watch.ts';
import { copyMessages, flagMessages, moveMessages } from '../mailbox/update.ts';
import { acceptRequest, blockRequestSender, rejectRequest } from '../screening/held-requests.ts';
import { entriesByUid, findEntriesByUid, findEntryByUid, listFolders, type Entry, type FolderRow } from '../store/folders.ts';
import { findMailbox, type Mailbox } from '../store/mailboxes.ts';
import { sentDeliveryCounts } from '../store/messages.ts';
import { BackendError, type CopyResult, type FolderInfo, type MailAccount, type MailBackend, type MessageInfo, type SpecialUse } from './backend.ts';

/** Keywords the node sets on Sent messages from their delivery state; never stored. */
const DELIVERY_KEYWORDS = ['$Fetched', '$Retractable'];

export function mailboxBackend(ctx: AppContext, watch: MailWatch): MailBackend {
  return {
    async openAccount(user) {
      const mailbox = await findMailbox(ctx.db, canonicalAddress(user) ?? user);
      if (!mailbox) throw new BackendError('nonexistent', 'no such mailbox');
      return account(ctx, watch, mailbox);
    },
  };
}

/** Our errors in the backend's terms; anything else is a server fault the session logs. */
async function backendCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (!(err instanceof PullmailError)) throw err;
    const code = err.code === 'not_found' ? 'nonexistent' : err.code === 'conflict' && /exists/.test(err.message) ? 'already_exists' : 'cannot';
    throw new BackendError(code, err.message);
  }
}

function account(ctx: AppContext, watch: MailWatch, mailbox: Mailbox): MailAccount {
  const folderNames = new Map<string, string>();
  const folder = (name: string, db = ctx.db) => backendCall(() => requireFolder(ctx, mailbox, name, db));
  const inFolder = async (f: FolderRow, uids: number[], db = ctx.db) => {
    const wanted = new Set(uids);
    return (await entriesByUid(db, f.id, uids.length ? { from: Math.min(...uids), to: Math.max(...uids) } : undefined)).filter((e) => wanted.has(e.uid));
  };
  /** A message with its body location; a folder that is gone reads as a message that is gone. */
  const entryAt = (name: string, uid: number) => findEntryByUid(ctx.db, mailbox.id, name, uid);
  const infos = async (entries: Entry[]): Promise<MessageInfo[]> => {
    const sent = await sentDeliveryCounts(ctx.db, entries.flatMap((e) => (e.messageId ? [e.messageId] : [])));
    return entries.map((e) => {
      const s = e.messageId ? sent.get(e.messageId) : undefined;
      const keywords = !s ? [] : s.fetched === s.total ? ['$Fetched'] : s.open > 0 ? ['$Retractable'] : [];
      return { uid: e.uid, flags: [...e.flags, ...keywords], modseq: e.modseq, internalDate: e.internalDate, size: messageBytes(ctx, e).size };
    });
  };
  const info = (f: FolderRow, total: number, unseen: number): FolderInfo => {
    folderNames.set(f.id, f.name);
    return {
      name: f.name, uidValidity: f.uidValidity, uidNext: f.uidNext, highestModseq: f.highestModseq, subscribed: f.subscribed, messages: total, unseen,
      ...(f.specialUse ? { specialUse: f.specialUse as SpecialUse } : {}),
    };
  };
  const withoutDeliveryKeywords = (flags: string[]) => flags.filter((f) => !DELIVERY_KEYWORDS.includes(f));

  /** A request decided by where the user filed it. */
  const decide = async (e: Entry, target: FolderRow) => {
    const id = e.inboundId!;
    if (target.role === 'trash') await rejectRequest(ctx, mailbox.id, id);
    else if (target.role === 'junk') await blockRequestSender(ctx, mailbox.id, id);
    else await acceptRequest(ctx, mailbox.id, id);
  };

  return {
    async listFolders() {
      return (await listFolders(ctx.db, mailbox.id)).map(({ folder: f, total, unseen }) => info(f, total, unseen));
    },
    async getFolder(name) {
      const all = await this.listFolders();
      return name.toUpperCase() === 'INBOX' ? all.find((f) => f.name === 'INBOX') : all.find((f) => f.name === name);
    },
    async createFolder(name) {
      await backendCall(() => createFolder(ctx, mailbox, name));
    },
    async renameFolder(from, to) {
      if (from.toUpperCase() !== 'INBOX') return backendCall(() => renameFolder(ctx, mailbox, from, to));
      // RFC 3501 §6.3.5: renaming INBOX moves its messages to the new folder; INBOX stays, empty
      const target = await backendCall(() => createFolder(ctx, mailbox, to));
      await ctx.db.transaction(async (tx) => {
        const inbox = await requireFolder(ctx, mailbox, 'INBOX', tx);
        await moveMessages(ctx, tx, mailbox, await entriesByUid(tx, inbox.id), target);
      });
    },
    async deleteFolder(name) {
      await backendCall(() => deleteFolder(ctx, mailbox, name));
    },
    async setSubscribed(name, subscribed) {
      await backendCall(() => subscribeFolder(ctx, mailbox, name, subscribed));
    },
    async listMessages(name) {
      return infos(await entriesByUid(ctx.db, (await folder(name)).id));
    },
    async readMessages(name, uids) {
      const entries = await findEntriesByUid(ctx.db, mailbox.id, name, uids);
      return new Map(await Promise.all(entries.map(async (e) => [e.uid, await messageBytes(ctx, e).whole()] as const)));
    },
    async openMessage(name, uid) {
      const e = await entryAt(name, uid);
      return e && Readable.from(messageBytes(ctx, e).chunks());
    },
    async append(name, bytes, flags, internalDate) {
      const f = await folder(name);
      const filed = await backendCall(() => appendMessage(ctx, mailbox, f, { raw: bytes, flags: withoutDeliveryKeywords(flags), internalDate }));
      return { uidValidity: f.uidValidity, uid: filed.uid };
    },
    async storeFlags(name, uids, op, flags, unchangedSince) {
      return backendCall(() => ctx.db.transaction(async (tx) => {
        const f = await requireFolder(ctx, mailbox, name, tx);
        const entries = await inFolder(f, uids, tx);
        // RFC 7162 §3.2: a message changed since the client last saw it is left alone and reported
        const modified = unchangedSince === undefined ? [] : entries.filter((e) => e.modseq > unchangedSince).map((e) => e.uid);
        const list = withoutDeliveryKeywords(flags);
        const change = op === 'set' ? { set: list } : op === 'add' ? { add: list } : { remove: list };
        const { changed, modseq } = await flagMessages(tx, mailbox, f.id, entries.filter((e) => !modified.includes(e.uid)), change);
        const byId = new Map(entries.map((e) => [e.id, e]));
        return {
          changed: changed.map((c) => ({ uid: c.uid, flags: c.flags, modseq, internalDate: byId.get(c.id)!.internalDate, size: messageBytes(ctx, byId.get(c.id)!).size })),
          modified,
        };
      }));
    },
    async copy(from, uids, to) {
      return backendCall(() => ctx.db.transaction(async (tx): Promise<CopyResult> => {
        const source = await requireFolder(ctx, mailbox, from, tx);
        const target = await requireFolder(ctx, mailbox, to, tx);
        const entries = await inFolder(source, uids, tx);
        const copies = await copyMessages(tx, entries, target);
        return { uidValidity: target.uidValidity, mapping: entries.map((e, i) => [e.uid, copies[i].uid]) };
      }));
    },
    async move(from, uids, to) {
      const source = await folder(from);
      const target = await folder(to);
      if (source.role === 'requests') {
        // the accepted message is filed in INBOX when it has been fetched: no uid to give yet
        for (const e of await inFolder(source, uids)) await backendCall(() => decide(e, target));
        return { uidValidity: target.uidValidity, mapping: [] };
      }
      return backendCall(() => ctx.db.transaction(async (tx): Promise<CopyResult> => {
        const moved = await moveMessages(ctx, tx, mailbox, await inFolder(await requireFolder(ctx, mailbox, from, tx), uids, tx), target);
        return { uidValidity: target.uidValidity, mapping: moved.map((m) => [m.from.uid, m.to.uid]) };
      }));
    },
    async expunge(name, uids) {
      const f = await folder(name);
      const doomed = (await inFolder(f, uids)).filter((e) => e.flags.includes('\\Deleted'));
      if (f.role === 'requests') {
        for (const e of doomed) await backendCall(() => rejectRequest(ctx, mailbox.id, e.inboundId!));
      } else {
        await backendCall(() => ctx.db.transaction((tx) => removeMessages(ctx, tx, mailbox, doomed)));
      }
      return doomed.map((e) => e.uid);
    },
    watch(listener) {
      return watch.subscribe(mailbox.id, (folderId) => {
        const known = folderNames.get(folderId);
        if (known) return listener(known);
        // a folder made since the last LIST: learn its name, then say
        void this.listFolders().then(() => {
          const name = folderNames.get(folderId);
          if (name) listener(name);
        }, () => undefined);
      });
    },
  };
}
