// IMAP command parser (RFC 3501 §9 grammar; RFC 7162 CONDSTORE modifiers; RFC 6851 MOVE, RFC 4315
// UID EXPUNGE, RFC 2971 ID, RFC 5161 ENABLE, RFC 4959 SASL-IR). Takes one whole command as the
// reader framed it (literals inline, no final CRLF) and returns a typed command; anything else
// throws ParseError and nothing but ParseError (parser.test.ts checks that with fast-check).

export class ParseError extends Error {
  /** The command's tag when it could be read, so the answer can be a tagged BAD. */
  readonly tag: string | undefined;
  constructor(message: string, tag?: string) {
    super(message);
    this.name = 'ParseError';
    this.tag = tag;
  }
}

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

const SP = 0x20;
const MAX_DEPTH = 32;
const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];

// RFC 3501 §9: atom-specials are ( ) { SP CTL % * " \ ] ; ASTRING-CHAR admits ]; list-char admits % *
const isCtl = (c: number) => c < 0x20 || c === 0x7f;
const isAtomChar = (c: number) => !isCtl(c) && c !== SP && c !== 0x28 && c !== 0x29 && c !== 0x7b && c !== 0x25 && c !== 0x2a && c !== 0x22 && c !== 0x5c && c !== 0x5d && c < 0x80;
const isAstringChar = (c: number) => isAtomChar(c) || c === 0x5d;
const isListChar = (c: number) => isAstringChar(c) || c === 0x25 || c === 0x2a;
const isTagChar = (c: number) => isAstringChar(c) && c !== 0x2b; // tag excludes "+"

class Cursor {
  readonly buf: Buffer;
  pos = 0;
  tag: string | undefined;
  constructor(buf: Buffer) {
    this.buf = buf;
  }
  fail(what: string): never {
    throw new ParseError(what, this.tag);
  }
  get done() {
    return this.pos >= this.buf.length;
  }
  peek() {
    return this.buf[this.pos];
  }
  take(c: number, what: string) {
    if (this.buf[this.pos] !== c) this.fail(`Expected ${what}`);
    this.pos++;
  }
  sp() {
    this.take(SP, 'a space');
  }
  /** True and consumed when a space follows. */
  maybeSp() {
    if (this.buf[this.pos] !== SP) return false;
    this.pos++;
    return true;
  }
  end() {
    if (!this.done) this.fail('Unexpected characters at the end of the command');
  }
  run(pred: (c: number) => boolean, what: string) {
    const start = this.pos;
    while (this.pos < this.buf.length && pred(this.buf[this.pos])) this.pos++;
    if (this.pos === start) this.fail(`Expected ${what}`);
    return this.buf.toString('latin1', start, this.pos);
  }
  atom() {
    return this.run(isAtomChar, 'an atom');
  }
  number() {
    const s = this.run((c) => c >= 0x30 && c <= 0x39, 'a number');
    if (s.length > 20) this.fail('Number too large');
    const n = Number(s);
    if (!Number.isSafeInteger(n)) this.fail('Number too large');
    return n;
  }
  nzNumber() {
    const n = this.number();
    if (n === 0) this.fail('Expected a non-zero number');
    return n;
  }
  quoted(): Buffer {
    this.take(0x22, 'a quoted string');
    const bytes: number[] = [];
    for (;;) {
      if (this.done) this.fail('Unterminated quoted string');
      const c = this.buf[this.pos++];
      if (c === 0x22) return Buffer.from(bytes);
      if (c === 0x0d || c === 0x0a) this.fail('Line break in a quoted string');
      if (c === 0x5c) {
        const e = this.buf[this.pos++];
        if (e !== 0x22 && e !== 0x5c) this.fail('Bad escape in a quoted string');
        bytes.push(e);
      } else bytes.push(c);
    }
  }
  literal(): Buffer {
    this.take(0x7b, 'a literal');
    const size = this.number();
    if (this.peek() === 0x2b) this.pos++;
    this.take(0x7d, '}');
    this.take(0x0d, 'CRLF after a literal size');
    this.take(0x0a, 'CRLF after a literal size');
    if (this.pos + size > this.buf.length) this.fail('Literal shorter than announced');
    const out = this.buf.subarray(this.pos, this.pos + size);
    this.pos += size;
    return out;
  }
  string(): Buffer {
    const c = this.peek();
    if (c === 0x22) return this.quoted();
    if (c === 0x7b) return this.literal();
    return this.fail('Expected a string');
  }
  astring(): string {
    const c = this.peek();
    if (c === 0x22 || c === 0x7b) return this.string().toString('utf8');
    return this.run(isAstringChar, 'an astring');
  }
  /** A mailbox name or LIST pattern: astring, with % and * allowed when `pattern`. */
  mailbox(pattern = false): string {
    const c = this.peek();
    if (c === 0x22 || c === 0x7b) return this.string().toString('utf8');
    return this.run(pattern ? isListChar : isAstringChar, 'a mailbox name');
  }
  nstring(): string | null {
    if (this.peek() === 0x22 || this.peek() === 0x7b) return this.string().toString('utf8');
    const a = this.atom();
    if (a.toUpperCase() !== 'NIL') this.fail('Expected a string or NIL');
    return null;
  }
  /** `( item SP item ... )`, possibly empty. */
  list<T>(item: () => T): T[] {
    this.take(0x28, '(');
    const out: T[] = [];
    if (this.peek() === 0x29) {
      this.pos++;
      return out;
    }
    for (;;) {
      out.push(item());
      if (this.peek() === 0x29) {
        this.pos++;
        return out;
      }
      this.sp();
    }
  }
}

function flag(cur: Cursor): string {
  if (cur.peek() === 0x5c) {
    cur.pos++;
    const name = cur.atom();
    const known = ['Answered', 'Flagged', 'Deleted', 'Seen', 'Draft', 'Recent'].find((f) => f.toUpperCase() === name.toUpperCase());
    return `\\${known ?? name}`;
  }
  return cur.atom();
}

function sequenceSet(cur: Cursor): SequenceSet {
  const num = (): SeqNumber => {
    if (cur.peek() === 0x2a) {
      cur.pos++;
      return '*';
    }
    return cur.nzNumber();
  };
  const out: SequenceSet = [];
  for (;;) {
    const from = num();
    let to = from;
    if (cur.peek() === 0x3a) {
      cur.pos++;
      to = num();
    }
    out.push({ from, to });
    if (out.length > 10_000) cur.fail('Sequence set too long');
    if (cur.peek() !== 0x2c) return out;
    cur.pos++;
  }
}

function day(cur: Cursor): number {
  const quoted = cur.peek() === 0x22;
  const text = quoted ? cur.quoted().toString('latin1') : cur.run((c) => isAtomChar(c), 'a date');
  const m = /^(\d{1,2})-([A-Za-z]{3})-(\d{4})$/.exec(text);
  const month = m ? MONTHS.indexOf(m[2].toUpperCase()) : -1;
  if (!m || month < 0 || Number(m[1]) < 1 || Number(m[1]) > 31) return cur.fail('Expected a date like 1-Feb-2026');
  return Date.UTC(Number(m[3]), month, Number(m[1]));
}

/** APPEND's date-time: "dd-Mon-yyyy hh:mm:ss +zzzz" (day may be space-padded). */
function dateTime(cur: Cursor): Date {
  const text = cur.quoted().toString('latin1');
  const m = /^([ \d]\d)-([A-Za-z]{3})-(\d{4}) (\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)$/.exec(text);
  const month = m ? MONTHS.indexOf(m[2].toUpperCase()) : -1;
  if (!m || month < 0) return cur.fail('Bad date-time');
  const offsetMin = (m[7] === '-' ? -1 : 1) * (Number(m[8]) * 60 + Number(m[9]));
  const ms = Date.UTC(Number(m[3]), month, Number(m[1].trim()), Number(m[4]), Number(m[5]), Number(m[6])) - offsetMin * 60_000;
  const date = new Date(ms);
  if (Number.isNaN(date.getTime())) return cur.fail('Bad date-time');
  return date;
}

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
