// IMAP command parser (RFC 3501 §9 grammar; RFC 7162 CONDSTORE modifiers; RFC 6851 MOVE, RFC 4315
// UID EXPUNGE, RFC 2971 ID, RFC 5161 ENABLE, RFC 4959 SASL-IR). Takes one whole command as the
// reader framed it (literals inline, no final CRLF) and returns a typed command; anything else
// throws ParseError and nothing but ParseError (parser.test.ts checks that with fast-check).
import { Cursor, dateTime, day, flag, isCtl, isTagChar, ParseError, sequenceSet, SP } from './tokens.ts';

export { ParseError };

/** `*` is the largest number in use (uid or sequence number), resolved by the session. */
export type SeqNumber = number | '*';
export type SequenceSet = Array<{ from: SeqNumber; to: SeqNumber }>;

export type SectionText = 'HEADER' | 'HEADER.FIELDS' | 'HEADER.FIELDS.NOT' | 'TEXT' | 'MIME';
export interface Section {
  /** Part numbers, `[1, 2]` for `1.2`; empty for the whole message. */
  part: number[];
  text?: SectionText;
  /** Header field names for HEADER.FIELDS(.NOT), uppercased. */
  fields?: string[];
}

export type FetchItem =
  | { kind: 'FLAGS' | 'INTERNALDATE' | 'RFC822.SIZE' | 'ENVELOPE' | 'BODYSTRUCTURE' | 'BODY' | 'UID' | 'MODSEQ' | 'RFC822' | 'RFC822.HEADER' | 'RFC822.TEXT' }
  | { kind: 'BODY[]'; peek: boolean; section: Section; partial?: { start: number; length: number } };

export type SearchKey =
  | { op: 'all' }
  | { op: 'none' }
  | { op: 'flag'; flag: string; set: boolean }
  | { op: 'seq'; set: SequenceSet }
  | { op: 'uid'; set: SequenceSet }
  | { op: 'header'; field: string; value: string }
  | { op: 'body' | 'text'; value: string }
  /** `day` is midnight UTC of the date, in ms. */
  | { op: 'date'; which: 'internal' | 'sent'; cmp: 'before' | 'on' | 'since'; day: number }
  | { op: 'size'; cmp: 'larger' | 'smaller'; size: number }
  | { op: 'modseq'; modseq: number }
  | { op: 'not'; key: SearchKey }
  | { op: 'or'; a: SearchKey; b: SearchKey }
  | { op: 'and'; keys: SearchKey[] };

export type StatusItem = 'MESSAGES' | 'RECENT' | 'UIDNEXT' | 'UIDVALIDITY' | 'UNSEEN' | 'HIGHESTMODSEQ';

type Simple = 'CAPABILITY' | 'NOOP' | 'LOGOUT' | 'STARTTLS' | 'CHECK' | 'CLOSE' | 'UNSELECT' | 'EXPUNGE' | 'IDLE' | 'NAMESPACE';

export type CommandBody =
  | { name: Simple }
  | { name: 'LOGIN'; user: string; password: string }
  | { name: 'AUTHENTICATE'; mechanism: string; initial?: string }
  | { name: 'ID'; params: Record<string, string | null> | null }
  | { name: 'ENABLE'; capabilities: string[] }
  | { name: 'SELECT' | 'EXAMINE'; mailbox: string; condstore: boolean }
  | { name: 'CREATE' | 'DELETE' | 'SUBSCRIBE' | 'UNSUBSCRIBE'; mailbox: string }
  | { name: 'RENAME'; from: string; to: string }
  | { name: 'LIST' | 'LSUB'; reference: string; patterns: string[]; selectSubscribed: boolean; selectSpecialUse: boolean }
  | { name: 'STATUS'; mailbox: string; items: StatusItem[] }
  | { name: 'APPEND'; mailbox: string; flags: string[]; date?: Date; message: Buffer }
  | { name: 'SEARCH'; uid: boolean; charset?: string; key: SearchKey }
  | { name: 'FETCH'; uid: boolean; set: SequenceSet; items: FetchItem[]; changedSince?: number }
  | { name: 'STORE'; uid: boolean; set: SequenceSet; op: 'set' | 'add' | 'remove'; silent: boolean; flags: string[]; unchangedSince?: number }
  | { name: 'COPY' | 'MOVE'; uid: boolean; set: SequenceSet; mailbox: string }
  | { name: 'UID EXPUNGE'; set: SequenceSet };

export type Command = CommandBody & { tag: string };

const MAX_DEPTH = 32;

const FETCH_SIMPLE = new Set(['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODYSTRUCTURE', 'BODY', 'UID', 'MODSEQ', 'RFC822', 'RFC822.HEADER', 'RFC822.TEXT']);
const MACROS: Record<string, string[]> = {
  ALL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE'],
  FAST: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE'],
  FULL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODY'],
};

function section(cur: Cursor): Section {
  cur.take(0x5b, '[');
  const out: Section = { part: [] };
  if (cur.peek() === 0x5d) {
    cur.pos++;
    return out;
  }
  const spec = cur.run((c) => (c >= 0x30 && c <= 0x39) || c === 0x2e || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a), 'a section');
  const words = spec.toUpperCase().split('.');
  while (words.length && /^\d+$/.test(words[0])) {
    const n = Number(words.shift());
    if (n === 0 || words.length > 64 || out.part.length > 64) cur.fail('Bad section part');
    out.part.push(n);
  }
  const text = words.join('.');
  if (text) {
    if (!['HEADER', 'HEADER.FIELDS', 'HEADER.FIELDS.NOT', 'TEXT', 'MIME'].includes(text)) cur.fail('Bad section');
    if (text === 'MIME' && out.part.length === 0) cur.fail('MIME needs a part number');
    out.text = text as SectionText;
    if (text.startsWith('HEADER.FIELDS')) {
      cur.sp();
      out.fields = cur.list(() => cur.astring().toUpperCase());
      if (out.fields.length === 0) cur.fail('Empty header list');
    }
  } else if (spec.endsWith('.')) cur.fail('Bad section');
  cur.take(0x5d, ']');
  return out;
}

function fetchItem(cur: Cursor): FetchItem[] {
  const name = cur.run((c) => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2e, 'a fetch item').toUpperCase();
  if ((name === 'BODY' || name === 'BODY.PEEK') && cur.peek() === 0x5b) {
    const sec = section(cur);
    let partial: { start: number; length: number } | undefined;
    if (cur.peek() === 0x3c) {
      cur.pos++;
      const start = cur.number();
      cur.take(0x2e, '.');
      const length = cur.nzNumber();
      cur.take(0x3e, '>');
      partial = { start, length };
    }
    return [{ kind: 'BODY[]', peek: name === 'BODY.PEEK', section: sec, partial }];
  }
  if (FETCH_SIMPLE.has(name)) return [{ kind: name } as FetchItem];
  return cur.fail(`Unknown fetch item ${name.slice(0, 40)}`);
}

function fetchItems(cur: Cursor): FetchItem[] {
  if (cur.peek() === 0x28) return cur.list(() => fetchItem(cur)).flat();
  const start = cur.pos;
  const word = cur.run((c) => c >= 0x41 && c <= 0x5a || c >= 0x61 && c <= 0x7a, 'fetch items').toUpperCase();
  if (MACROS[word]) return MACROS[word].map((kind) => ({ kind }) as FetchItem);
  cur.pos = start;
  return fetchItem(cur);
}

/** `(NAME value)` modifiers after FETCH/STORE/SELECT; only the CONDSTORE ones are known. */
function modifier(cur: Cursor, name: string): number {
  cur.take(0x28, '(');
  const got = cur.atom().toUpperCase();
  if (got !== name) cur.fail(`Unknown modifier ${got.slice(0, 40)}`);
  cur.sp();
  const n = cur.number();
  cur.take(0x29, ')');
  return n;
}

const FLAG_KEYS: Record<string, [string, boolean]> = {
  ANSWERED: ['\\Answered', true], UNANSWERED: ['\\Answered', false],
  DELETED: ['\\Deleted', true], UNDELETED: ['\\Deleted', false],
  DRAFT: ['\\Draft', true], UNDRAFT: ['\\Draft', false],
  FLAGGED: ['\\Flagged', true], UNFLAGGED: ['\\Flagged', false],
  SEEN: ['\\Seen', true], UNSEEN: ['\\Seen', false],
};
const HEADER_KEYS = new Set(['BCC', 'CC', 'FROM', 'SUBJECT', 'TO']);
const DATE_KEYS: Record<string, ['internal' | 'sent', 'before' | 'on' | 'since']> = {
  BEFORE: ['internal', 'before'], ON: ['internal', 'on'], SINCE: ['internal', 'since'],
  SENTBEFORE: ['sent', 'before'], SENTON: ['sent', 'on'], SENTSINCE: ['sent', 'since'],
};

function searchKey(cur: Cursor, depth: number): SearchKey {
  if (depth > MAX_DEPTH) cur.fail('Search nested too deeply');
  const c = cur.peek();
  if (c === 0x28) return { op: 'and', keys: cur.list(() => searchKey(cur, depth + 1)) };
  if (c === 0x2a || (c >= 0x30 && c <= 0x39)) return { op: 'seq', set: sequenceSet(cur) };
  const word = cur.atom().toUpperCase();
  const arg = () => {
    cur.sp();
    return cur.astring();
  };
  if (FLAG_KEYS[word]) return { op: 'flag', flag: FLAG_KEYS[word][0], set: FLAG_KEYS[word][1] };
  if (HEADER_KEYS.has(word)) return { op: 'header', field: word, value: arg() };
  if (DATE_KEYS[word]) {
    cur.sp();
    return { op: 'date', which: DATE_KEYS[word][0], cmp: DATE_KEYS[word][1], day: day(cur) };
  }
  switch (word) {
    case 'ALL':
    case 'OLD': // we keep no \Recent: every message is old, none is new or recent
      return { op: 'all' };
    case 'NEW':
    case 'RECENT':
      return { op: 'none' };
    case 'BODY':
    case 'TEXT':
      return { op: word === 'BODY' ? 'body' : 'text', value: arg() };
    case 'HEADER': {
      const field = arg().toUpperCase();
      return { op: 'header', field, value: arg() };
    }
    case 'KEYWORD':
    case 'UNKEYWORD':
      cur.sp();
      return { op: 'flag', flag: flag(cur), set: word === 'KEYWORD' };
    case 'LARGER':
    case 'SMALLER':
      cur.sp();
      return { op: 'size', cmp: word === 'LARGER' ? 'larger' : 'smaller', size: cur.number() };
    case 'UID':
      cur.sp();
      return { op: 'uid', set: sequenceSet(cur) };
    case 'NOT':
      cur.sp();
      return { op: 'not', key: searchKey(cur, depth + 1) };
    case 'OR': {
      cur.sp();
      const a = searchKey(cur, depth + 1);
      cur.sp();
      return { op: 'or', a, b: searchKey(cur, depth + 1) };
    }
    case 'MODSEQ': {
      cur.sp();
      // RFC 7162 §3.4: an optional entry name and type ("/flags/\\seen" all) precede the number
      if (cur.peek() === 0x22) {
        cur.quoted();
        cur.sp();
        const type = cur.atom().toLowerCase();
        if (type !== 'priv' && type !== 'shared' && type !== 'all') cur.fail('Bad MODSEQ entry type');
        cur.sp();
      }
      return { op: 'modseq', modseq: cur.number() };
    }
  }
  return cur.fail(`Unknown search key ${word.slice(0, 40)}`);
}

function search(cur: Cursor, uid: boolean): CommandBody {
  cur.sp();
  let charset: string | undefined;
  const keys: SearchKey[] = [];
  if (cur.buf.toString('latin1', cur.pos, cur.pos + 8).toUpperCase() === 'CHARSET ') {
    cur.pos += 8;
    charset = cur.astring();
  } else keys.push(searchKey(cur, 0));
  while (cur.maybeSp()) keys.push(searchKey(cur, 0));
  if (keys.length === 0) cur.fail('Expected search keys');
  return { name: 'SEARCH', uid, charset, key: keys.length === 1 ? keys[0] : { op: 'and', keys } };
}

function uidCommand(cur: Cursor, uid: boolean, name: string): CommandBody {
  switch (name) {
    case 'FETCH': {
      cur.sp();
      const set = sequenceSet(cur);
      cur.sp();
      const items = fetchItems(cur);
      const changedSince = cur.maybeSp() ? modifier(cur, 'CHANGEDSINCE') : undefined;
      return { name, uid, set, items, changedSince };
    }
    case 'STORE': {
      cur.sp();
      const set = sequenceSet(cur);
      cur.sp();
      let unchangedSince: number | undefined;
      if (cur.peek() === 0x28) {
        unchangedSince = modifier(cur, 'UNCHANGEDSINCE');
        cur.sp();
      }
      const m = /^([+-]?)FLAGS(\.SILENT)?$/.exec(cur.run((c) => c !== SP && !isCtl(c), 'a store item').toUpperCase());
      if (!m) cur.fail('Expected FLAGS, +FLAGS or -FLAGS');
      cur.sp();
      let flags: string[];
      if (cur.peek() === 0x28) flags = cur.list(() => flag(cur));
      else for (flags = [flag(cur)]; cur.maybeSp(); ) flags.push(flag(cur));
      return { name, uid, set, op: m[1] === '+' ? 'add' : m[1] === '-' ? 'remove' : 'set', silent: !!m[2], flags, unchangedSince };
    }
    case 'COPY':
    case 'MOVE': {
      cur.sp();
      const set = sequenceSet(cur);
      cur.sp();
      return { name, uid, set, mailbox: cur.mailbox() };
    }
    case 'SEARCH':
      return search(cur, uid);
    case 'EXPUNGE':
      if (!uid) return { name };
      cur.sp();
      return { name: 'UID EXPUNGE', set: sequenceSet(cur) };
  }
  return cur.fail(`Unknown command ${uid ? 'UID ' : ''}${name.slice(0, 40)}`);
}

function body(cur: Cursor, name: string): CommandBody {
  switch (name) {
    case 'CAPABILITY':
    case 'NOOP':
    case 'LOGOUT':
    case 'STARTTLS':
    case 'CHECK':
    case 'CLOSE':
    case 'UNSELECT':
    case 'IDLE':
    case 'NAMESPACE':
      return { name };
    case 'LOGIN': {
      cur.sp();
      const user = cur.astring();
      cur.sp();
      return { name, user, password: cur.astring() };
    }
    case 'AUTHENTICATE': {
      cur.sp();
      const mechanism = cur.atom().toUpperCase();
      const initial = cur.maybeSp() ? cur.run((c) => /[A-Za-z0-9+/=]/.test(String.fromCharCode(c)), 'an initial response') : undefined;
      return { name, mechanism, initial };
    }
    case 'ID': {
      cur.sp();
      if (cur.peek() !== 0x28) {
        cur.nstring();
        return { name, params: null };
      }
      const flat = cur.list(() => cur.nstring());
      if (flat.length % 2 !== 0 || flat.length > 60) cur.fail('ID takes field-value pairs');
      const params: Record<string, string | null> = {};
      for (let i = 0; i < flat.length; i += 2) params[String(flat[i]).toLowerCase()] = flat[i + 1];
      return { name, params };
    }
    case 'ENABLE': {
      const capabilities: string[] = [];
      while (cur.maybeSp()) capabilities.push(cur.atom().toUpperCase());
      if (!capabilities.length) cur.fail('ENABLE needs a capability');
      return { name, capabilities };
    }
    case 'SELECT':
    case 'EXAMINE': {
      cur.sp();
      const mailbox = cur.mailbox();
      let condstore = false;
      if (cur.maybeSp()) {
        for (const p of cur.list(() => cur.atom().toUpperCase())) {
          if (p !== 'CONDSTORE') cur.fail(`Unknown select parameter ${p.slice(0, 40)}`);
          condstore = true;
        }
      }
      return { name, mailbox, condstore };
    }
    case 'CREATE':
    case 'DELETE':
    case 'SUBSCRIBE':
    case 'UNSUBSCRIBE':
      cur.sp();
      return { name, mailbox: cur.mailbox() };
    case 'RENAME': {
      cur.sp();
      const from = cur.mailbox();
      cur.sp();
      return { name, from, to: cur.mailbox() };
    }
    case 'LIST':
    case 'LSUB': {
      cur.sp();
      let selectSubscribed = false;
      let selectSpecialUse = false;
      if (name === 'LIST' && cur.peek() === 0x28) {
        for (const opt of cur.list(() => cur.atom().toUpperCase())) {
          if (opt === 'SUBSCRIBED') selectSubscribed = true;
          else if (opt === 'SPECIAL-USE') selectSpecialUse = true;
          else if (opt !== 'RECURSIVEMATCH' && opt !== 'REMOTE') cur.fail(`Unknown LIST option ${opt.slice(0, 40)}`);
        }
        cur.sp();
      }
      const reference = cur.mailbox();
      cur.sp();
      const patterns = name === 'LIST' && cur.peek() === 0x28 ? cur.list(() => cur.mailbox(true)) : [cur.mailbox(true)];
      if (name === 'LIST' && cur.maybeSp()) {
        // RFC 6154 §5.1: RETURN (SPECIAL-USE) is answered by the attributes we always send
        if (cur.atom().toUpperCase() !== 'RETURN') cur.fail('Expected RETURN');
        cur.sp();
        for (const opt of cur.list(() => cur.atom().toUpperCase())) {
          if (opt !== 'SPECIAL-USE' && opt !== 'SUBSCRIBED' && opt !== 'CHILDREN') cur.fail(`Unknown LIST return option ${opt.slice(0, 40)}`);
        }
      }
      return { name, reference, patterns, selectSubscribed, selectSpecialUse };
    }
    case 'STATUS': {
      cur.sp();
      const mailbox = cur.mailbox();
      cur.sp();
      const items = cur.list(() => {
        const item = cur.atom().toUpperCase();
        if (!['MESSAGES', 'RECENT', 'UIDNEXT', 'UIDVALIDITY', 'UNSEEN', 'HIGHESTMODSEQ'].includes(item)) cur.fail(`Unknown status item ${item.slice(0, 40)}`);
        return item as StatusItem;
      });
      return { name, mailbox, items };
    }
    case 'APPEND': {
      cur.sp();
      const mailbox = cur.mailbox();
      cur.sp();
      let flags: string[] = [];
      let date: Date | undefined;
      if (cur.peek() === 0x28) {
        flags = cur.list(() => flag(cur));
        cur.sp();
      }
      if (cur.peek() === 0x22) {
        date = dateTime(cur);
        cur.sp();
      }
      return { name, mailbox, flags, date, message: cur.literal() };
    }
    case 'UID': {
      cur.sp();
      return uidCommand(cur, true, cur.atom().toUpperCase());
    }
    case 'FETCH':
    case 'STORE':
    case 'COPY':
    case 'MOVE':
    case 'SEARCH':
    case 'EXPUNGE':
      return uidCommand(cur, false, name);
  }
  return cur.fail(`Unknown command ${name.slice(0, 40)}`);
}

/** Parses one command as framed by reader.ts. Throws ParseError (with the tag when it was read). */
export function parseCommand(bytes: Buffer): Command {
  const cur = new Cursor(bytes);
  const tag = cur.run(isTagChar, 'a tag');
  // a tag is trusted for the BAD answer when a space or the end follows it, not "a+" of "a+ NOOP"
  if (cur.done) cur.tag = tag;
  cur.sp();
  cur.tag = tag;
  const name = cur.atom().toUpperCase();
  const parsed = body(cur, name);
  cur.end();
  return { ...parsed, tag };
}

/** The base64 line a client sends after AUTHENTICATE's `+`; `*` cancels (RFC 3501 §6.2.2). */
export function parseAuthLine(bytes: Buffer): { cancel: true } | { cancel: false; data: Buffer } {
  const text = bytes.toString('latin1').trim();
  if (text === '*') return { cancel: true };
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) throw new ParseError('Bad base64');
  return { cancel: false, data: Buffer.from(text, 'base64') };
}
