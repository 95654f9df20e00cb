// A fake MailBackend held in memory, for the IMAP layer's tests until the mailbox model's SQL
// backend exists. It keeps the interface's promises (uids ascending, modseq raised by every change,
// change feed across connections) so tests written against it hold for the real one.
import { Readable } from 'node:stream';
import { BackendError, type CopyResult, type FlagOperation, type FolderInfo, type MailAccount, type MailBackend, type MessageInfo, type SpecialUse, type StoreResult } from './backend.ts';

interface StoredMessage extends MessageInfo {
  bytes: Buffer;
}

/** A folder as the backend describes it, holding its messages instead of counting them. */
interface Folder extends Omit<FolderInfo, 'messages' | 'unseen'> {
  messages: StoredMessage[];
}

/** The folders every pullmail mailbox has (docs/operator.md "IMAP"). */
const DEFAULT_FOLDERS: Array<[string, SpecialUse | undefined]> = [
  ['INBOX', undefined],
  ['Sent', '\\Sent'],
  ['Drafts', '\\Drafts'],
  ['Trash', '\\Trash'],
  ['Junk', '\\Junk'],
  ['Archive', '\\Archive'],
  ['Requests', undefined],
];

const isInbox = (name: string) => name.toUpperCase() === 'INBOX';
const canonical = (name: string) => (isInbox(name) ? 'INBOX' : name);
const hasFlag = (flags: string[], f: string) => flags.some((g) => g.toLowerCase() === f.toLowerCase());

class MemoryAccount implements MailAccount {
  private readonly folders = new Map<string, Folder>();
  private readonly listeners = new Set<(folder: string) => void>();
  private nextValidity: number;

  constructor(firstValidity: number) {
    this.nextValidity = firstValidity;
    for (const [name, specialUse] of DEFAULT_FOLDERS) this.addFolder(name, specialUse);
  }

  private addFolder(name: string, specialUse?: SpecialUse) {
    this.folders.set(name, { name, specialUse, uidValidity: this.nextValidity++, uidNext: 1, highestModseq: 1, subscribed: true, messages: [] });
  }

  private folder(name: string): Folder {
    const f = this.folders.get(canonical(name));
    if (!f) throw new BackendError('nonexistent', `No folder ${name}`);
    return f;
  }

  private changed(f: Folder) {
    for (const l of [...this.listeners]) l(f.name);
  }

  private info(f: Folder): FolderInfo {
    const { name, specialUse, uidValidity, uidNext, highestModseq, subscribed } = f;
    return { name, specialUse, uidValidity, uidNext, highestModseq, subscribed, messages: f.messages.length, unseen: f.messages.filter((m) => !hasFlag(m.flags, '\\Seen')).length };
  }

  private static meta(m: StoredMessage): MessageInfo {
    return { uid: m.uid, flags: [...m.flags], modseq: m.modseq, internalDate: m.internalDate, size: m.size };
  }

  private add(f: Folder, bytes: Buffer, flags: string[], internalDate: Date): number {
    const uid = f.uidNext++;
    f.messages.push({ uid, flags: [...new Set(flags.filter((x) => x !== '\\Recent'))], modseq: ++f.highestModseq, internalDate, size: bytes.length, bytes });
    return uid;
  }

  async listFolders() {
    return [...this.folders.values()].map((f) => this.info(f));
  }

  async getFolder(name: string) {
    const f = this.folders.get(canonical(name));
    return f && this.info(f);
  }

  async createFolder(name: string) {
    if (this.folders.has(canonical(name))) throw new BackendError('already_exists', `${name} exists`);
    this.addFolder(name);
  }

  async renameFolder(from: string, to: string) {
    const f = this.folder(from);
    if (this.folders.has(canonical(to))) throw new BackendError('already_exists', `${to} exists`);
    if (isInbox(to)) throw new BackendError('cannot', 'Cannot rename to INBOX');
    if (f.name === 'INBOX') {
      this.addFolder(to);
      const target = this.folder(to);
      for (const m of f.messages) this.add(target, m.bytes, m.flags, m.internalDate);
      f.messages = [];
      f.highestModseq++;
      this.changed(f);
      return;
    }
    // children move with their parent
    const old = f.name;
    for (const [name, g] of [...this.folders]) {
      if (name !== old && !name.startsWith(`${old}/`)) continue;
      this.folders.delete(name);
      g.name = to + name.slice(old.length);
      this.folders.set(g.name, g);
    }
  }

  async deleteFolder(name: string) {
    const f = this.folder(name);
    if (f.name === 'INBOX' || f.specialUse || f.name === 'Requests') throw new BackendError('cannot', `${f.name} cannot be deleted`);
    this.folders.delete(f.name);
    this.changed(f);
  }

  async setSubscribed(name: string, subscribed: boolean) {
    this.folder(name).subscribed = subscribed;
  }

  async listMessages(folder: string) {
    return this.folder(folder).messages.map(MemoryAccount.meta);
  }

  private bytesAt(folder: string, uid: number): Buffer | undefined {
    // messages are kept in uid order: binary search, so a FETCH of every message stays linear
    const list = this.folder(folder).messages;
    let lo = 0;
    let hi = list.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid].uid === uid) return list[mid].bytes;
      if (list[mid].uid < uid) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }

  async readMessages(folder: string, uids: readonly number[]) {
    const found = new Map<number, Buffer>();
    for (const uid of uids) {
      const bytes = this.bytesAt(folder, uid);
      if (bytes) found.set(uid, bytes);
    }
    return found;
  }

  async openMessage(folder: string, uid: number) {
    const bytes = this.bytesAt(folder, uid);
    // chunked like a blob store read, so the socket layer's streaming path is exercised
    return bytes && Readable.from((function* chunks() { for (let i = 0; i < bytes.length; i += 16_384) yield bytes.subarray(i, i + 16_384); })());
  }

  async append(folder: string, bytes: Buffer, flags: string[], internalDate: Date) {
    const f = this.folder(folder);
    const uid = this.add(f, Buffer.from(bytes), flags, internalDate);
    this.changed(f);
    return { uidValidity: f.uidValidity, uid };
  }

  async storeFlags(folder: string, uids: number[], op: FlagOperation, flags: string[], unchangedSince?: number): Promise<StoreResult> {
    const f = this.folder(folder);
    const wanted = new Set(uids);
    const result: StoreResult = { changed: [], modified: [] };
    for (const m of f.messages) {
      if (!wanted.has(m.uid)) continue;
      if (unchangedSince !== undefined && m.modseq > unchangedSince) {
        result.modified.push(m.uid);
        continue;
      }
      let next: string[];
      if (op === 'set') next = [...new Set(flags)];
      else if (op === 'add') next = [...m.flags, ...flags.filter((x) => !hasFlag(m.flags, x))];
      else next = m.flags.filter((x) => !hasFlag(flags, x));
      next = next.filter((x) => x !== '\\Recent');
      const same = next.length === m.flags.length && next.every((x) => hasFlag(m.flags, x));
      if (same) continue;
      m.flags = next;
      m.modseq = ++f.highestModseq;
      result.changed.push(MemoryAccount.meta(m));
    }
    if (result.changed.length) this.changed(f);
    return result;
  }

  async copy(from: string, uids: number[], to: string): Promise<CopyResult> {
    const src = this.folder(from);
    const dst = this.folder(to);
    const wanted = new Set(uids);
    const mapping: Array<[number, number]> = [];
    for (const m of src.messages.filter((x) => wanted.has(x.uid))) mapping.push([m.uid, this.add(dst, m.bytes, m.flags, m.internalDate)]);
    if (mapping.length) this.changed(dst);
    return { uidValidity: dst.uidValidity, mapping };
  }

  async move(from: string, uids: number[], to: string): Promise<CopyResult> {
    const src = this.folder(from);
    if (src === this.folder(to)) throw new BackendError('cannot', 'Source and target are the same folder');
    const result = await this.copy(from, uids, to);
    const moved = new Set(result.mapping.map(([s]) => s));
    src.messages = src.messages.filter((m) => !moved.has(m.uid));
    if (moved.size) {
      src.highestModseq++;
      this.changed(src);
    }
    return result;
  }

  async expunge(folder: string, uids: number[]) {
    const f = this.folder(folder);
    const wanted = new Set(uids);
    const gone = f.messages.filter((m) => wanted.has(m.uid) && hasFlag(m.flags, '\\Deleted')).map((m) => m.uid);
    if (!gone.length) return [];
    const goneSet = new Set(gone);
    f.messages = f.messages.filter((m) => !goneSet.has(m.uid));
    f.highestModseq++;
    this.changed(f);
    return gone;
  }

  watch(listener: (folder: string) => void) {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }
}

/**
 * The fake: accounts created on first open, each with the default folders. Several sessions that
 * open the same user share one account, as connections of one user share a mailbox.
 */
export function createMemoryBackend(): MailBackend & { account(user: string): MailAccount } {
  const accounts = new Map<string, MemoryAccount>();
  let validity = 1;
  const account = (user: string) => {
    let a = accounts.get(user);
    if (!a) {
      a = new MemoryAccount(validity);
      validity += 1000;
      accounts.set(user, a);
    }
    return a;
  };
  return { account, openAccount: async (user) => account(user) };
}
