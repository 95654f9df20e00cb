// One IMAP connection's state machine (RFC 3501 §3: not authenticated → authenticated → selected
// → logout) over a MailAccount, with IDLE (RFC 2177), UIDPLUS (RFC 4315), MOVE (RFC 6851),
// CONDSTORE (RFC 7162), SPECIAL-USE (RFC 6154), UNSELECT, ID, ENABLE, NAMESPACE, SASL-IR, LITERAL+.
// It keeps the sequence-number ↔ uid map and announces changes as EXISTS / EXPUNGE / FETCH.
// The socket layer (listener.ts) frames commands and writes what `write` is given.
import type { Readable } from 'node:stream';
import { BackendError, type FolderInfo, type MailAccount, type MailBackend, type MessageInfo } from './backend.ts';
import { atom, responseLine, type ImapValue, type OutPart } from './encode.ts';
import { fetchRuns, fetchValues, flagList, needsBytes, setsSeen, wantsOnlyWholeBody, type FetchRun } from './fetch.ts';
import { ParseError, parseAuthLine, parseCommand, type Command, type FetchItem, type SearchKey, type SequenceSet } from './parser.ts';
import { matches, needsContent, searchContent } from './search.ts';
import { decodeMailboxName, encodeMailboxName } from './utf7.ts';

/** Advertised only because each is implemented below; STARTTLS and AUTH=PLAIN depend on the connection. */
const CAPABILITIES = ['IMAP4rev1', 'LITERAL+', 'SASL-IR', 'ID', 'ENABLE', 'IDLE', 'NAMESPACE', 'UNSELECT', 'UIDPLUS', 'MOVE', 'SPECIAL-USE', 'CONDSTORE'];
const SYSTEM_FLAGS = ['\\Answered', '\\Flagged', '\\Deleted', '\\Seen', '\\Draft'];
const MAX_FAILED_LOGINS = 3;
/** Keywords are free; of the `\` flags only the system ones exist (RFC 3501 §2.3.2). \Recent is ignored. */
const isSettableFlag = (f: string) => !f.startsWith('\\') || SYSTEM_FLAGS.includes(f) || f === '\\Recent';

interface SessionLog {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** A login the `login` callback accepted. */
export interface SessionLogin {
  /** The user to open in the backend. */
  user: string;
  /**
   * Asked before each command once logged in: false ends the connection with BYE (the account was
   * disabled or deleted, its password changed). Absent: the login lasts as long as the connection.
   */
  holds?(): Promise<boolean>;
  /** Takes the function to call when holds() may have turned false, so it is asked at once (also during IDLE). */
  onChange?(listener: () => void): void;
  /** The connection ended. */
  release?(): void;
}

export interface SessionOptions {
  backend: MailBackend;
  /**
   * Checks a login; returns what it granted, or undefined to refuse. The real one verifies the
   * password and is throttled per address and account (shared with submission).
   */
  login(user: string, password: string): Promise<SessionLogin | undefined>;
  /** Writes response parts in order; resolves when the socket took them (backpressure). */
  write(parts: OutPart[]): Promise<void>;
  /** Ends the connection after what was written. */
  close(): void;
  /** True when the connection is already encrypted (implicit TLS). */
  secure?: boolean;
  /** Upgrades the connection to TLS after the OK to STARTTLS; absent when no certificate is set. */
  startTls?: () => Promise<void>;
  /** Refuse LOGIN and AUTHENTICATE until the connection is encrypted (RFC 3501 §6.2.3 LOGINDISABLED). */
  loginNeedsTls?: boolean;
  log?: SessionLog;
  now?: () => Date;
}

export interface ImapSession {
  /** Sends the greeting. */
  start(): Promise<void>;
  /** Handles one command (or IDLE's DONE, or an AUTHENTICATE response) as reader.ts framed it. */
  receive(bytes: Buffer): Promise<void>;
  /** A command the reader refused (over a cap). */
  reject(tag: string, text: string): Promise<void>;
  /** A synchronizing literal was announced: tell the client to go on. */
  continueLiteral(): Promise<void>;
  /** The connection ended: stop watching. */
  end(): void;
}

/** A message a command names, with its bytes when the command needs them (the whole of a large one as a stream). */
interface Target {
  seq: number;
  uid: number;
  info: MessageInfo;
  bytes?: Buffer;
  stream?: Readable;
}

interface Selected {
  name: string;
  readOnly: boolean;
  uidValidity: number;
  highestModseq: number;
  /** uids by sequence number - 1; expunged ones stay until an EXPUNGE may be sent. */
  uids: number[];
  meta: Map<number, MessageInfo>;
  /** True when expunges were seen but not yet announced. */
  expungePending: boolean;
}

type Result = { status: 'OK' | 'NO' | 'BAD'; text: string; code?: string };
const ok = (text: string, code?: string): Result => ({ status: 'OK', text, code });
const no = (text: string, code?: string): Result => ({ status: 'NO', text, code });
const bad = (text: string): Result => ({ status: 'BAD', text });

class StateError extends Error {}

/** Ascending uids of `uids` (sorted) that fall in `set`, `*` being `max`. */
function pickSorted(uids: number[], set: SequenceSet, max: number): number[] {
  const lower = (x: number) => {
    let lo = 0;
    let hi = uids.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (uids[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const picked = new Set<number>();
  for (const { from, to } of set) {
    const a = from === '*' ? max : from;
    const b = to === '*' ? max : to;
    for (let i = lower(Math.min(a, b)); i < uids.length && uids[i] <= Math.max(a, b); i++) picked.add(i);
  }
  return [...picked].sort((x, y) => x - y).map((i) => uids[i]);
}

/** Index of `x` in ascending `list`, or -1. */
function indexOfSorted(list: number[], x: number): number {
  let lo = 0;
  let hi = list.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid] === x) return mid;
    if (list[mid] < x) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/** `1:3,7` for a list of numbers, for COPYUID and MODIFIED. */
function compactSet(nums: number[]): string {
  const sorted = [...nums].sort((a, b) => a - b);
  const out: string[] = [];
  for (let i = 0; i < sorted.length; i++) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    out.push(i === j ? String(sorted[i]) : `${sorted[i]}:${sorted[j]}`);
    i = j;
  }
  return out.join(',');
}

const MAX_PATTERN_CHARS = 512;

/**
 * LIST wildcards (RFC 3501 §6.3.8): `*` matches anything, `%` anything but the separator. A table
 * walk over pattern × name, not a RegExp: many wildcards cannot make it backtrack for long.
 */
function matchesPattern(pattern: string, name: string): boolean {
  let cur = new Uint8Array(name.length + 1);
  cur[0] = 1;
  for (const pc of pattern.replace(/\*[*%]*|%+/g, (run) => (run.includes('*') ? '*' : '%'))) {
    const next = new Uint8Array(name.length + 1);
    if (pc === '*') {
      let any = 0;
      for (let j = 0; j <= name.length; j++) next[j] = any |= cur[j];
    } else if (pc === '%') {
      for (let j = 0; j <= name.length; j++) next[j] = cur[j] || (j > 0 && next[j - 1] && name[j - 1] !== '/') ? 1 : 0;
    } else {
      for (let j = 1; j <= name.length; j++) next[j] = cur[j - 1] && name[j - 1] === pc ? 1 : 0;
    }
    cur = next;
  }
  return cur[name.length] === 1;
}

function usesModseq(key: SearchKey): boolean {
  if (key.op === 'modseq') return true;
  if (key.op === 'not') return usesModseq(key.key);
  if (key.op === 'or') return usesModseq(key.a) || usesModseq(key.b);
  if (key.op === 'and') return key.keys.some(usesModseq);
  return false;
}

export function createSession(opts: SessionOptions): ImapSession {
  const now = opts.now ?? (() => new Date());
  let state: 'not_authenticated' | 'authenticated' | 'selected' | 'logout' = 'not_authenticated';
  let account: MailAccount | undefined;
  let user: string | undefined;
  let granted: SessionLogin | undefined;
  let selected: Selected | undefined;
  let condstore = false;
  let failedLogins = 0;
  let pendingAuth: string | undefined; // tag of an AUTHENTICATE waiting for its response line
  let idle: { tag: string; unwatch: () => void } | undefined;
  let lock: Promise<void> = Promise.resolve();
  let secure = opts.secure ?? false;

  const loginAllowed = () => secure || !opts.loginNeedsTls;
  const capabilities = () => {
    const caps = [...CAPABILITIES];
    if (state === 'not_authenticated') {
      if (opts.startTls && !secure) caps.push('STARTTLS');
      caps.push(loginAllowed() ? 'AUTH=PLAIN' : 'LOGINDISABLED');
    }
    return caps.join(' ');
  };

  /** Commands, IDLE notifications and continuations run one at a time, in arrival order. */
  const exclusive = (fn: () => Promise<void>): Promise<void> => {
    const run = lock.then(fn);
    lock = run.catch(() => {});
    return run;
  };

  const send = (prefix: string, values: ImapValue[] = []) => opts.write(responseLine(prefix, values));
  const sendText = (line: string) => opts.write([`${line}\r\n`]);

  const needAccount = (): MailAccount => {
    if (!account || state === 'not_authenticated') throw new StateError('Log in first');
    return account;
  };
  const needSelected = (): Selected => {
    if (!selected || state !== 'selected') throw new StateError('Select a folder first');
    return selected;
  };

  const outName = (name: string) => encodeMailboxName(name);
  const inName = (name: string) => {
    const decoded = decodeMailboxName(name).replace(/\/+$/, '');
    return decoded.toUpperCase() === 'INBOX' ? 'INBOX' : decoded;
  };

  function fetchLine(seq: number, info: MessageInfo, withFlags = true): Promise<void> {
    const values: ImapValue[] = [atom('UID'), info.uid];
    if (withFlags) values.push(atom('FLAGS'), flagList(info.flags));
    if (condstore) values.push(atom('MODSEQ'), [info.modseq]);
    return send(`* ${seq} FETCH`, [values]);
  }

  /**
   * Brings the session's view of the selected folder up to date and announces the difference.
   * EXPUNGE is held back while `allowExpunge` is false (RFC 3501 §7.4.1: not during FETCH,
   * STORE or SEARCH, which address messages by sequence number).
   */
  async function refresh(allowExpunge: boolean): Promise<void> {
    const sel = selected;
    if (!sel || !account) return;
    const folder = await account.getFolder(sel.name);
    if (!folder || folder.uidValidity !== sel.uidValidity) {
      // the folder went away under us (deleted or renamed elsewhere): nothing we say would be true
      await sendText('* BYE The selected folder was removed');
      state = 'logout';
      opts.close();
      return;
    }
    if (folder.highestModseq === sel.highestModseq && !(allowExpunge && sel.expungePending)) return;
    const list = await account.listMessages(sel.name);
    const present = new Map(list.map((m) => [m.uid, m]));
    sel.expungePending = false;
    for (let i = sel.uids.length - 1; i >= 0; i--) {
      const uid = sel.uids[i];
      if (present.has(uid)) continue;
      if (!allowExpunge) {
        sel.expungePending = true;
        continue;
      }
      // announced from the highest number down, so earlier numbers stay valid
      await sendText(`* ${i + 1} EXPUNGE`);
      sel.uids.splice(i, 1);
      sel.meta.delete(uid);
    }
    const lastUid = sel.uids.length ? sel.uids[sel.uids.length - 1] : 0;
    let added = false;
    for (const m of list) {
      const known = sel.meta.get(m.uid);
      if (m.uid > lastUid) {
        sel.uids.push(m.uid);
        sel.meta.set(m.uid, m);
        added = true;
      } else if (known && (known.modseq !== m.modseq || known.flags.join(' ') !== m.flags.join(' '))) {
        sel.meta.set(m.uid, m);
        await fetchLine(indexOfSorted(sel.uids, m.uid) + 1, m);
      }
    }
    if (added) await sendText(`* ${sel.uids.length} EXISTS`);
    sel.highestModseq = folder.highestModseq;
  }

  /** Messages a set names, as [seq, uid] in ascending order. Out-of-range numbers are ignored. */
  function resolve(sel: Selected, set: SequenceSet, byUid: boolean): Array<[number, number]> {
    if (byUid) {
      const max = sel.uids.length ? sel.uids[sel.uids.length - 1] : 0;
      return pickSorted(sel.uids, set, max).map((u) => [indexOfSorted(sel.uids, u) + 1, u]);
    }
    const seqs = sel.uids.map((_, i) => i + 1);
    return pickSorted(seqs, set, seqs.length).map((s) => [s, sel.uids[s - 1]]);
  }

  async function select(name: string, readOnly: boolean, withCondstore: boolean): Promise<Result> {
    const acc = needAccount();
    if (withCondstore) condstore = true;
    if (selected) await sendText('* OK [CLOSED] Previous folder closed');
    selected = undefined;
    state = 'authenticated';
    const folder = await acc.getFolder(inName(name));
    if (!folder) return no('No such folder', 'NONEXISTENT');
    const list = await acc.listMessages(folder.name);
    const sel: Selected = { name: folder.name, readOnly, uidValidity: folder.uidValidity, highestModseq: folder.highestModseq, uids: list.map((m) => m.uid), meta: new Map(list.map((m) => [m.uid, m])), expungePending: false };
    const keywords = [...new Set(list.flatMap((m) => m.flags).filter((f) => !f.startsWith('\\')))];
    const flags = [...SYSTEM_FLAGS, ...keywords];
    await sendText(`* FLAGS (${flags.join(' ')})`);
    await sendText(`* OK [PERMANENTFLAGS (${readOnly ? '' : `${flags.join(' ')} \\*`})] Flags permitted`);
    await sendText(`* ${list.length} EXISTS`);
    await sendText('* 0 RECENT');
    const firstUnseen = list.findIndex((m) => !m.flags.includes('\\Seen'));
    if (firstUnseen >= 0) await sendText(`* OK [UNSEEN ${firstUnseen + 1}] First unseen`);
    await sendText(`* OK [UIDVALIDITY ${folder.uidValidity}] UIDs valid`);
    await sendText(`* OK [UIDNEXT ${folder.uidNext}] Predicted next UID`);
    await sendText(`* OK [HIGHESTMODSEQ ${folder.highestModseq}] Highest`);
    selected = sel;
    state = 'selected';
    return ok(`${readOnly ? 'EXAMINE' : 'SELECT'} completed`, readOnly ? 'READ-ONLY' : 'READ-WRITE');
  }

  async function list(cmd: Extract<Command, { name: 'LIST' | 'LSUB' }>): Promise<Result> {
    const acc = needAccount();
    if (cmd.name === 'LIST' && cmd.patterns.length === 1 && cmd.patterns[0] === '') {
      await send('* LIST', [[atom('\\Noselect')], '/', '']);
      return ok('LIST completed');
    }
    const folders = await acc.listFolders();
    const byName = new Map<string, FolderInfo | undefined>(folders.map((f) => [f.name, f]));
    // parents that exist only as a path prefix are listed as \Noselect
    for (const f of folders) {
      const parts = f.name.split('/');
      for (let i = 1; i < parts.length; i++) {
        const parent = parts.slice(0, i).join('/');
        if (!byName.has(parent)) byName.set(parent, undefined);
      }
    }
    const names = [...byName.keys()].sort((a, b) => (a === 'INBOX' ? -1 : b === 'INBOX' ? 1 : a < b ? -1 : a > b ? 1 : 0));
    const patterns = cmd.patterns.map((p) => decodeMailboxName(cmd.reference + p));
    if (patterns.some((p) => p.length > MAX_PATTERN_CHARS)) return bad('Pattern too long');
    // INBOX is case-insensitive, also as the first level of a pattern
    const inboxPatterns = patterns.map((p) => p.replace(/^inbox(?=\/|$)/i, 'INBOX'));
    for (const name of names) {
      const f = byName.get(name);
      if (!(name.split('/')[0] === 'INBOX' ? inboxPatterns : patterns).some((p) => matchesPattern(p, name))) continue;
      const subscribedOnly = cmd.name === 'LSUB' || cmd.selectSubscribed;
      if (subscribedOnly && !f?.subscribed) continue;
      if (cmd.selectSpecialUse && !f?.specialUse) continue;
      const hasChildren = names.some((n) => n.startsWith(`${name}/`));
      const attrs = [hasChildren ? '\\HasChildren' : '\\HasNoChildren'];
      if (!f) attrs.push('\\Noselect');
      if (f?.specialUse && cmd.name === 'LIST') attrs.push(f.specialUse);
      if (f?.subscribed && cmd.selectSubscribed) attrs.push('\\Subscribed');
      await send(`* ${cmd.name}`, [attrs.map(atom), '/', outName(name)]);
    }
    return ok(`${cmd.name} completed`);
  }

  async function status(cmd: Extract<Command, { name: 'STATUS' }>): Promise<Result> {
    const acc = needAccount();
    const f = await acc.getFolder(inName(cmd.mailbox));
    if (!f) return no('No such folder', 'NONEXISTENT');
    const values: ImapValue[] = [];
    const of = { MESSAGES: f.messages, RECENT: 0, UIDNEXT: f.uidNext, UIDVALIDITY: f.uidValidity, UNSEEN: f.unseen, HIGHESTMODSEQ: f.highestModseq };
    for (const item of cmd.items) values.push(atom(item), of[item]);
    if (cmd.items.includes('HIGHESTMODSEQ')) condstore = true;
    await send('* STATUS', [outName(f.name), values]);
    return ok('STATUS completed');
  }

  /** The connection is gone (a function: `state` changes across the awaits of a long command). */
  const gone = () => state === 'logout';

  /**
   * The messages of `targets` with their bytes, read a run at a time (imap/fetch.ts fetchRuns), the next
   * run while the caller works on this one; with `streamable`, a large one comes as a stream instead.
   * A message expunged meanwhile by another connection is left out (its EXPUNGE follows later); the
   * reading stops once the connection is gone.
   */
  async function* withBytes(sel: Selected, acc: MailAccount, targets: [number, number][], streamable: boolean): AsyncGenerator<Target> {
    const runs = fetchRuns(targets, (uid) => sel.meta.get(uid)!.size, streamable);
    const read = (run: FetchRun | undefined) => {
      if (!run || run.stream) return undefined;
      const p = acc.readMessages(sel.name, run.targets.map(([, uid]) => uid));
      p.catch(() => {}); // awaited below, unless the connection is gone before
      return p;
    };
    let next = read(runs[0]);
    for (const [r, run] of runs.entries()) {
      if (gone()) return;
      const bytes = await next;
      next = read(runs[r + 1]);
      for (const [seq, uid] of run.targets) {
        if (gone()) return;
        const info = sel.meta.get(uid)!;
        if (run.stream) {
          const stream = await acc.openMessage(sel.name, uid);
          if (stream) yield { seq, uid, info, stream };
        } else {
          const b = bytes!.get(uid);
          if (b) yield { seq, uid, info, bytes: b };
        }
      }
    }
  }

  /** The messages of `targets` as withBytes gives them, for what needs no content. */
  async function* withoutBytes(sel: Selected, targets: [number, number][]): AsyncGenerator<Target> {
    for (const [seq, uid] of targets) {
      if (gone()) return;
      yield { seq, uid, info: sel.meta.get(uid)! };
    }
  }

  async function fetch(cmd: Extract<Command, { name: 'FETCH' }>): Promise<Result> {
    const sel = needSelected();
    const acc = needAccount();
    let items: FetchItem[] = cmd.items;
    if (cmd.changedSince !== undefined || items.some((i) => i.kind === 'MODSEQ')) condstore = true;
    // RFC 3501 §6.4.8: UID FETCH always answers with UID; RFC 7162 §3.1.4: CHANGEDSINCE implies MODSEQ
    if (!items.some((i) => i.kind === 'UID')) items = [{ kind: 'UID' }, ...items];
    if (cmd.changedSince !== undefined && !items.some((i) => i.kind === 'MODSEQ')) items = [...items, { kind: 'MODSEQ' }];
    let targets = resolve(sel, cmd.set, cmd.uid).filter(([, uid]) => sel.meta.has(uid));
    if (cmd.changedSince !== undefined) targets = targets.filter(([, uid]) => sel.meta.get(uid)!.modseq > cmd.changedSince!);
    const marksSeen = !sel.readOnly && items.some(setsSeen);
    if (marksSeen) {
      const unseen = targets.map(([, uid]) => uid).filter((uid) => !sel.meta.get(uid)!.flags.includes('\\Seen'));
      if (unseen.length) {
        const res = await acc.storeFlags(sel.name, unseen, 'add', ['\\Seen']);
        for (const m of res.changed) sel.meta.set(m.uid, m);
        // the flags changed: the response carries them
        if (!items.some((i) => i.kind === 'FLAGS')) items = [...items, { kind: 'FLAGS' }];
      }
    }
    const contentNeeded = items.some(needsBytes);
    // with content, the bytes are read a run at a time; a large message asked for whole is streamed
    // from the backend, anything that needs the structure is parsed
    const messages = contentNeeded ? withBytes(sel, acc, targets, wantsOnlyWholeBody(items)) : withoutBytes(sel, targets);
    for await (const m of messages) {
      const stream = m.stream;
      await send(`* ${m.seq} FETCH`, [fetchValues(items, { info: m.info, bytes: m.bytes, stream: stream && (() => stream) })]);
    }
    return ok(`${cmd.uid ? 'UID FETCH' : 'FETCH'} completed`);
  }

  async function store(cmd: Extract<Command, { name: 'STORE' }>): Promise<Result> {
    const sel = needSelected();
    const acc = needAccount();
    if (sel.readOnly) return no('Folder is read-only', 'READ-ONLY');
    if (!cmd.flags.every(isSettableFlag)) return bad('Unknown system flag');
    if (cmd.unchangedSince !== undefined) condstore = true;
    const targets = resolve(sel, cmd.set, cmd.uid).filter(([, uid]) => sel.meta.has(uid));
    const flags = cmd.flags.filter((f) => f !== '\\Recent');
    const res = await acc.storeFlags(sel.name, targets.map(([, uid]) => uid), cmd.op, flags, cmd.unchangedSince);
    for (const m of res.changed) sel.meta.set(m.uid, m);
    const changed = new Set(res.changed.map((m) => m.uid));
    const modified = new Set(res.modified);
    for (const [seq, uid] of targets) {
      if (modified.has(uid)) continue;
      // .SILENT drops the flags, but with CONDSTORE a changed message still reports its MODSEQ (RFC 7162 §3.2)
      if (!cmd.silent) await fetchLine(seq, sel.meta.get(uid)!);
      else if (condstore && changed.has(uid)) await fetchLine(seq, sel.meta.get(uid)!, false);
    }
    if (res.modified.length) {
      const nums = cmd.uid ? res.modified : targets.filter(([, uid]) => modified.has(uid)).map(([seq]) => seq);
      return ok('Conditional STORE failed for some messages', `MODIFIED ${compactSet(nums)}`);
    }
    return ok(`${cmd.uid ? 'UID STORE' : 'STORE'} completed`);
  }

  async function search(cmd: Extract<Command, { name: 'SEARCH' }>): Promise<Result> {
    const sel = needSelected();
    const acc = needAccount();
    if (cmd.charset && !['UTF-8', 'US-ASCII'].includes(cmd.charset.toUpperCase())) return no('Unsupported charset', 'BADCHARSET (UTF-8 US-ASCII)');
    const withModseq = usesModseq(cmd.key);
    if (withModseq) condstore = true;
    const content = needsContent(cmd.key);
    const maxUid = sel.uids.length ? sel.uids[sel.uids.length - 1] : 0;
    const hits: number[] = [];
    let highest = 0;
    const all = sel.uids.flatMap((uid, i): [number, number][] => (sel.meta.has(uid) ? [[i + 1, uid]] : []));
    for await (const { seq, info, bytes } of content ? withBytes(sel, acc, all, false) : withoutBytes(sel, all)) {
      if (!matches(cmd.key, { seq, info, maxSeq: sel.uids.length, maxUid, content: bytes && searchContent(bytes) })) continue;
      hits.push(cmd.uid ? info.uid : seq);
      highest = Math.max(highest, info.modseq);
    }
    await sendText(`* SEARCH${hits.length ? ` ${hits.join(' ')}` : ''}${withModseq && hits.length ? ` (MODSEQ ${highest})` : ''}`);
    return ok(`${cmd.uid ? 'UID SEARCH' : 'SEARCH'} completed`);
  }

  async function copyOrMove(cmd: Extract<Command, { name: 'COPY' | 'MOVE' }>): Promise<Result> {
    const sel = needSelected();
    const acc = needAccount();
    if (cmd.name === 'MOVE' && sel.readOnly) return no('Folder is read-only', 'READ-ONLY');
    const target = await acc.getFolder(inName(cmd.mailbox));
    if (!target) return no('No such folder', 'TRYCREATE');
    const uids = resolve(sel, cmd.set, cmd.uid).map(([, uid]) => uid);
    if (!uids.length) return ok(`${cmd.name} completed, nothing to do`);
    const res = cmd.name === 'COPY' ? await acc.copy(sel.name, uids, target.name) : await acc.move(sel.name, uids, target.name);
    const code = res.mapping.length ? `COPYUID ${res.uidValidity} ${compactSet(res.mapping.map(([s]) => s))} ${compactSet(res.mapping.map(([, t]) => t))}` : undefined;
    if (cmd.name === 'COPY') return ok('COPY completed', code);
    // RFC 6851 §4.3: COPYUID goes in an untagged OK before the EXPUNGEs
    if (code) await sendText(`* OK [${code}] Moved`);
    await refresh(true);
    return ok('MOVE completed');
  }

  async function expunge(uidSet: SequenceSet | undefined): Promise<Result> {
    const sel = needSelected();
    const acc = needAccount();
    if (sel.readOnly) return no('Folder is read-only', 'READ-ONLY');
    const uids = uidSet ? resolve(sel, uidSet, true).map(([, uid]) => uid) : sel.uids;
    await acc.expunge(sel.name, uids);
    await refresh(true);
    return ok('EXPUNGE completed');
  }

  async function append(cmd: Extract<Command, { name: 'APPEND' }>): Promise<Result> {
    const acc = needAccount();
    if (cmd.message.length === 0) return no('Empty message');
    if (!cmd.flags.every(isSettableFlag)) return bad('Unknown system flag');
    const folder = await acc.getFolder(inName(cmd.mailbox));
    if (!folder) return no('No such folder', 'TRYCREATE');
    const res = await acc.append(folder.name, cmd.message, cmd.flags.filter((f) => f !== '\\Recent'), cmd.date ?? now());
    return ok('APPEND completed', `APPENDUID ${res.uidValidity} ${res.uid}`);
  }

  async function login(username: string, password: string): Promise<Result> {
    const grant = await opts.login(username, password);
    if (!grant) {
      failedLogins++;
      opts.log?.info({ user: username, failedLogins }, 'imap login refused');
      return no('Invalid credentials', 'AUTHENTICATIONFAILED');
    }
    try {
      account = await opts.backend.openAccount(grant.user);
    } catch (err) {
      grant.release?.();
      throw err;
    }
    if (state === 'logout') {
      // the connection went away while the password was checked
      grant.release?.();
      return no('Connection closed');
    }
    user = grant.user;
    granted = grant;
    state = 'authenticated';
    grant.onChange?.(() => {
      exclusive(async () => void (await loginStands())).catch((err: unknown) => opts.log?.error({ err, user }, 'imap login check failed'));
    });
    opts.log?.info({ user: grant.user }, 'imap login');
    return ok('Logged in', `CAPABILITY ${capabilities()}`);
  }

  /**
   * Whether the login still stands; when not, says BYE and closes. A failed check (the database
   * away) is logged and lets the command go on: it would fail on its own, and the next one asks again.
   */
  async function loginStands(): Promise<boolean> {
    if (!granted?.holds || state === 'not_authenticated' || state === 'logout') return true;
    try {
      if (await granted.holds()) return true;
    } catch (err) {
      opts.log?.error({ err, user }, 'imap login check failed');
      return true;
    }
    idle?.unwatch();
    idle = undefined;
    // RFC 5530 EXPIRED: access with that passphrase is no longer permitted
    await sendText('* BYE [EXPIRED] Login no longer valid: the account was disabled or its password changed');
    state = 'logout';
    opts.close();
    return false;
  }

  async function authPlain(tag: string, data: Buffer): Promise<Result> {
    const [authzid, authcid, password] = data.toString('utf8').split('\0');
    if (password === undefined || (authzid && authzid !== authcid)) return no('Bad PLAIN response', 'AUTHENTICATIONFAILED');
    void tag;
    return login(authcid, password);
  }

  async function startIdle(tag: string): Promise<void> {
    const acc = needAccount();
    await sendText('+ idling');
    const unwatch = acc.watch((folder) => {
      if (!selected || folder !== selected.name) return;
      exclusive(() => (idle ? refresh(true) : Promise.resolve())).catch((err: unknown) => opts.log?.error({ err, user }, 'imap idle refresh failed'));
    });
    idle = { tag, unwatch };
    // changes between the last command and now are announced at once
    await refresh(true);
  }

  async function stopIdle(line: Buffer): Promise<void> {
    const current = idle!;
    idle = undefined;
    current.unwatch();
    if (line.toString('latin1').trim().toUpperCase() !== 'DONE') {
      await sendText(`${current.tag} BAD Expected DONE`);
      return;
    }
    await refresh(true);
    await sendText(`${current.tag} OK IDLE terminated`);
  }

  async function run(cmd: Command): Promise<Result | undefined> {
    switch (cmd.name) {
      case 'CAPABILITY':
        await sendText(`* CAPABILITY ${capabilities()}`);
        return ok('CAPABILITY completed');
      case 'NOOP':
      case 'CHECK':
        if (cmd.name === 'CHECK') needSelected();
        await refresh(true);
        return ok(`${cmd.name} completed`);
      case 'LOGOUT':
        await sendText('* BYE Logging out');
        await sendText(`${cmd.tag} OK LOGOUT completed`);
        state = 'logout';
        opts.close();
        return undefined;
      case 'ID':
        await send('* ID', [['name', 'pullmail']]);
        return ok('ID completed');
      case 'STARTTLS':
        if (!opts.startTls || secure || state !== 'not_authenticated') return bad('STARTTLS is not available now');
        await sendText(`${cmd.tag} OK Begin TLS negotiation now`);
        await opts.startTls();
        secure = true;
        return undefined;
      case 'LOGIN':
      case 'AUTHENTICATE':
        if (state !== 'not_authenticated') return bad('Already logged in');
        // never a password in clear text over a network: the listener decides what needs TLS
        if (!loginAllowed()) return no('Use STARTTLS first', 'PRIVACYREQUIRED');
        if (cmd.name === 'LOGIN') return login(cmd.user, cmd.password);
        if (cmd.mechanism !== 'PLAIN') return no('Unsupported mechanism', 'CANNOT');
        if (cmd.initial === undefined) {
          pendingAuth = cmd.tag;
          await sendText('+ ');
          return undefined;
        }
        return authPlain(cmd.tag, Buffer.from(cmd.initial === '=' ? '' : cmd.initial, 'base64'));
      case 'ENABLE': {
        needAccount();
        const enabled = cmd.capabilities.filter((c) => c === 'CONDSTORE');
        if (enabled.length) condstore = true;
        await sendText(`* ENABLED${enabled.length ? ' CONDSTORE' : ''}`);
        return ok('ENABLE completed');
      }
      case 'NAMESPACE':
        needAccount();
        await sendText('* NAMESPACE (("" "/")) NIL NIL');
        return ok('NAMESPACE completed');
      case 'SELECT':
      case 'EXAMINE':
        return select(cmd.mailbox, cmd.name === 'EXAMINE', cmd.condstore);
      case 'LIST':
      case 'LSUB':
        return list(cmd);
      case 'STATUS':
        return status(cmd);
      case 'CREATE': {
        const acc = needAccount();
        const name = inName(cmd.mailbox);
        if (!name || name === 'INBOX') return no('Cannot create that folder', 'CANNOT');
        const parts = name.split('/');
        // RFC 3501 §6.3.3: superior names are created as needed
        for (let i = 1; i < parts.length; i++) {
          const parent = parts.slice(0, i).join('/');
          if (!(await acc.getFolder(parent))) await acc.createFolder(parent);
        }
        await acc.createFolder(name);
        return ok('CREATE completed');
      }
      case 'DELETE':
        await needAccount().deleteFolder(inName(cmd.mailbox));
        return ok('DELETE completed');
      case 'RENAME': {
        const from = inName(cmd.from);
        const to = inName(cmd.to);
        await needAccount().renameFolder(from, to);
        // the selected folder (or one under it) keeps its messages under its new name
        if (selected && from !== 'INBOX' && (selected.name === from || selected.name.startsWith(`${from}/`))) selected.name = to + selected.name.slice(from.length);
        return ok('RENAME completed');
      }
      case 'SUBSCRIBE':
      case 'UNSUBSCRIBE':
        await needAccount().setSubscribed(inName(cmd.mailbox), cmd.name === 'SUBSCRIBE');
        return ok(`${cmd.name} completed`);
      case 'APPEND':
        return append(cmd);
      case 'IDLE':
        await startIdle(cmd.tag);
        return undefined;
      case 'CLOSE':
      case 'UNSELECT': {
        const sel = needSelected();
        // CLOSE expunges silently (RFC 3501 §6.4.2); UNSELECT does not (RFC 3691)
        if (cmd.name === 'CLOSE' && !sel.readOnly) await needAccount().expunge(sel.name, sel.uids);
        selected = undefined;
        state = 'authenticated';
        return ok(`${cmd.name} completed`);
      }
      case 'EXPUNGE':
        return expunge(undefined);
      case 'UID EXPUNGE':
        return expunge(cmd.set);
      case 'SEARCH':
        return search(cmd);
      case 'FETCH':
        return fetch(cmd);
      case 'STORE':
        return store(cmd);
      case 'COPY':
      case 'MOVE':
        return copyOrMove(cmd);
    }
  }

  async function answer(tag: string, result: Result): Promise<void> {
    await sendText(`${tag} ${result.status} ${result.code ? `[${result.code}] ` : ''}${result.text}`);
  }

  async function handle(bytes: Buffer): Promise<void> {
    if (state === 'logout') return;
    // every command of a login asks whether it still stands, IDLE's DONE included
    if (!(await loginStands())) return;
    if (idle) return stopIdle(bytes);
    if (pendingAuth !== undefined) {
      const tag = pendingAuth;
      pendingAuth = undefined;
      let reply: Result;
      try {
        const line = parseAuthLine(bytes);
        reply = line.cancel ? bad('Authentication cancelled') : await authPlain(tag, line.data);
      } catch (err) {
        if (!(err instanceof ParseError)) throw err;
        reply = bad('Bad base64 in the response');
      }
      await answer(tag, reply);
      return afterLogin();
    }
    let cmd: Command;
    try {
      cmd = parseCommand(bytes);
    } catch (err) {
      if (!(err instanceof ParseError)) throw err;
      return answer(err.tag ?? '*', bad(err.message));
    }
    let result: Result | undefined;
    // sequence numbers stay put during FETCH, STORE and SEARCH (RFC 3501 §7.4.1)
    const seqBound = (cmd.name === 'FETCH' || cmd.name === 'STORE' || cmd.name === 'SEARCH') && !cmd.uid;
    try {
      // commands on messages see the folder as it is now, and so does the client, first; but no
      // EXPUNGE before a command that names messages by the numbers the client had
      if (state === 'selected' && (cmd.name === 'FETCH' || cmd.name === 'STORE' || cmd.name === 'SEARCH' || cmd.name === 'COPY' || cmd.name === 'MOVE')) await refresh(cmd.uid);
      result = await run(cmd);
      if (result && state === 'selected') await refresh(!seqBound);
    } catch (err) {
      if (err instanceof StateError) result = bad(err.message);
      else if (err instanceof BackendError) {
        const code = { nonexistent: 'NONEXISTENT', already_exists: 'ALREADYEXISTS', cannot: 'CANNOT', over_quota: 'OVERQUOTA' }[err.code];
        result = no(err.message, code);
      } else {
        opts.log?.error({ err, user, command: cmd.name }, 'imap command failed');
        result = no('Internal error, try again later', 'SERVERBUG');
      }
    }
    if (result) await answer(cmd.tag, result);
    return afterLogin();
  }

  async function afterLogin(): Promise<void> {
    if (state === 'not_authenticated' && failedLogins >= MAX_FAILED_LOGINS) {
      await sendText('* BYE Too many failed logins');
      state = 'logout';
      opts.close();
    }
  }

  return {
    start: () => exclusive(() => sendText(`* OK [CAPABILITY ${capabilities()}] pullmail IMAP ready`)),
    receive: (bytes) => exclusive(() => handle(bytes)),
    reject: (tag, text) => exclusive(() => answer(tag, bad(text))),
    continueLiteral: () => exclusive(() => (state === 'logout' ? Promise.resolve() : sendText('+ Ready for literal data'))),
    end() {
      idle?.unwatch();
      idle = undefined;
      state = 'logout';
      granted?.release?.();
    },
  };
}
