// Lexical pieces of the IMAP grammar (RFC 3501 §9): a cursor over one framed command that reads
// atoms, quoted strings, literals, numbers, lists, flags, sequence sets and dates, failing with
// ParseError. parser.ts builds commands from them.
import type { SeqNumber, SequenceSet } from './parser.ts';

export class ParseError extends Error {
  /** The command's tag when it could be read, so the answer can be a tagged BAD. */
  readonly tag: string | undefined;
  constructor(message: string, tag?: string) {
    super(message);
    this.name = 'ParseError';
    this.tag = tag;
  }
}

export const SP = 0x20;
const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];

// RFC 3501 §9: atom-specials are ( ) { SP CTL % * " \ ] ; ASTRING-CHAR admits ]; list-char admits % *
export const isCtl = (c: number) => c < 0x20 || c === 0x7f;
const isAtomChar = (c: number) => !isCtl(c) && c !== SP && c !== 0x28 && c !== 0x29 && c !== 0x7b && c !== 0x25 && c !== 0x2a && c !== 0x22 && c !== 0x5c && c !== 0x5d && c < 0x80;
const isAstringChar = (c: number) => isAtomChar(c) || c === 0x5d;
const isListChar = (c: number) => isAstringChar(c) || c === 0x25 || c === 0x2a;
export const isTagChar = (c: number) => isAstringChar(c) && c !== 0x2b; // tag excludes "+"

export class Cursor {
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

export function flag(cur: Cursor): string {
  if (cur.peek() === 0x5c) {
    cur.pos++;
    const name = cur.atom();
    const known = ['Answered', 'Flagged', 'Deleted', 'Seen', 'Draft', 'Recent'].find((f) => f.toUpperCase() === name.toUpperCase());
    return `\\${known ?? name}`;
  }
  return cur.atom();
}

export function sequenceSet(cur: Cursor): SequenceSet {
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

export function day(cur: Cursor): number {
  const quoted = cur.peek() === 0x22;
  const text = quoted ? cur.quoted().toString('latin1') : cur.run((c) => isAtomChar(c), 'a date');
  const m = /^(\d{1,2})-([A-Za-z]{3})-(\d{4})$/.exec(text);
  const month = m ? MONTHS.indexOf(m[2].toUpperCase()) : -1;
  if (!m || month < 0 || Number(m[1]) < 1 || Number(m[1]) > 31) return cur.fail('Expected a date like 1-Feb-2026');
  return Date.UTC(Number(m[3]), month, Number(m[1]));
}

/** APPEND's date-time: "dd-Mon-yyyy hh:mm:ss +zzzz" (day may be space-padded). */
export function dateTime(cur: Cursor): Date {
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
