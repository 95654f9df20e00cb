// Response encoding (RFC 3501 §4, §9): values become atoms, numbers, NIL, quoted strings or
// literals, and parenthesized lists. A string goes quoted when it is 7-bit text without CR, LF or
// NUL; otherwise as a literal, so 8-bit header values and message bytes arrive exactly.
import type { Readable } from 'node:stream';

/** What the socket layer writes, in order; a stream part is a literal's body already announced. */
export type OutPart = string | Buffer | { stream: Readable; size: number };

export type ImapValue =
  | null
  | number
  | string
  | Buffer
  | { atom: string }
  | { stream: Readable; size: number }
  /** Values written next to each other with no space: a multipart's bodies (RFC 3501 body-type-mpart). */
  | { adjacent: ImapValue[] }
  | ImapValue[];

const MAX_QUOTED = 1024;

/** `{atom}` marks text sent as is (flags, fetch item names, already-encoded response pieces). */
export const atom = (value: string): { atom: string } => ({ atom: value });

function isQuotable(s: string): boolean {
  if (s.length > MAX_QUOTED) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0 || c === 0x0a || c === 0x0d || c > 0x7e) return false;
  }
  return true;
}

function quoted(s: string): string {
  return `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

function push(out: OutPart[], part: OutPart) {
  // adjacent text is joined so a response is a few writes, not hundreds
  const last = out[out.length - 1];
  if (typeof part === 'string' && typeof last === 'string') out[out.length - 1] = last + part;
  else out.push(part);
}

/** Appends the encoding of `v` to `out`. */
export function encodeValue(v: ImapValue, out: OutPart[] = []): OutPart[] {
  if (v === null) push(out, 'NIL');
  else if (typeof v === 'number') push(out, String(v));
  else if (typeof v === 'string') {
    if (isQuotable(v)) push(out, quoted(v));
    else encodeValue(Buffer.from(v, 'utf8'), out);
  } else if (Buffer.isBuffer(v)) {
    push(out, `{${v.length}}\r\n`);
    out.push(v);
  } else if (Array.isArray(v)) {
    push(out, '(');
    v.forEach((item, i) => {
      if (i > 0) push(out, ' ');
      encodeValue(item, out);
    });
    push(out, ')');
  } else if ('atom' in v) push(out, v.atom);
  else if ('adjacent' in v) for (const item of v.adjacent) encodeValue(item, out);
  else {
    push(out, `{${v.size}}\r\n`);
    out.push(v);
  }
  return out;
}

/** One untagged or tagged response line: `prefix` then space-separated values, then CRLF. */
export function responseLine(prefix: string, values: ImapValue[] = []): OutPart[] {
  const out: OutPart[] = [prefix];
  for (const v of values) {
    push(out, ' ');
    encodeValue(v, out);
  }
  push(out, '\r\n');
  return out;
}

/** Joins parts without streams into one Buffer (for tests and small responses). */
export function toBuffer(parts: OutPart[]): Buffer {
  return Buffer.concat(
    parts.map((p) => {
      if (typeof p === 'string') return Buffer.from(p, 'utf8');
      if (Buffer.isBuffer(p)) return p;
      throw new Error('toBuffer: a stream part cannot be joined');
    }),
  );
}
