// SEARCH evaluation (RFC 3501 §6.4.4, RFC 7162 §3.4 MODSEQ): a parsed key against one message's
// metadata, and its headers and text when the key asks for them. String keys match as
// case-insensitive substrings of decoded text (encoded words, base64, quoted-printable, charset).
import type { MessageInfo } from './backend.ts';
import { headerValue, parseMessage, type MimeEntity } from './mime.ts';
import type { SearchKey, SequenceSet } from './parser.ts';

export interface SearchContent {
  /** Decoded values of a header field (name lowercased), one per occurrence. */
  header(name: string): string[];
  /** Decoded text of the body's text parts. */
  body(): string;
  /** Whole header block, decoded, then the body. */
  text(): string;
  /** Midnight UTC of the Date: header's own calendar day, or undefined. */
  sentDay(): number | undefined;
}

export interface SearchTarget {
  seq: number;
  info: MessageInfo;
  /** Largest sequence number and uid in the folder, for `*`. */
  maxSeq: number;
  maxUid: number;
  content?: SearchContent;
}

function inSet(n: number, set: SequenceSet, max: number): boolean {
  return set.some(({ from, to }) => {
    const a = from === '*' ? max : from;
    const b = to === '*' ? max : to;
    return n >= Math.min(a, b) && n <= Math.max(a, b);
  });
}

/** True when the key reads headers or body, so the session must load the message's bytes. */
export function needsContent(key: SearchKey): boolean {
  switch (key.op) {
    case 'header':
    case 'body':
    case 'text':
      return true;
    case 'date':
      return key.which === 'sent';
    case 'not':
      return needsContent(key.key);
    case 'or':
      return needsContent(key.a) || needsContent(key.b);
    case 'and':
      return key.keys.some(needsContent);
    default:
      return false;
  }
}

const DAY_MS = 86_400_000;
const utcDay = (d: Date) => Math.floor(d.getTime() / DAY_MS) * DAY_MS;
const hasFlag = (info: MessageInfo, flag: string) => info.flags.some((f) => f.toLowerCase() === flag.toLowerCase());
const contains = (haystack: string, needle: string) => haystack.toLowerCase().includes(needle.toLowerCase());

export function matches(key: SearchKey, t: SearchTarget): boolean {
  switch (key.op) {
    case 'all':
      return true;
    case 'none':
      return false;
    case 'flag':
      return hasFlag(t.info, key.flag) === key.set;
    case 'seq':
      return inSet(t.seq, key.set, t.maxSeq);
    case 'uid':
      return inSet(t.info.uid, key.set, t.maxUid);
    case 'size':
      return key.cmp === 'larger' ? t.info.size > key.size : t.info.size < key.size;
    case 'modseq':
      return t.info.modseq >= key.modseq;
    case 'date': {
      const d = key.which === 'internal' ? utcDay(t.info.internalDate) : t.content?.sentDay();
      if (d === undefined) return false;
      return key.cmp === 'before' ? d < key.day : key.cmp === 'on' ? d === key.day : d >= key.day;
    }
    case 'header': {
      const values = t.content?.header(key.field.toLowerCase()) ?? [];
      // RFC 3501: HEADER with an empty string matches every message that has the field
      return values.some((v) => contains(v, key.value));
    }
    case 'body':
      return !!t.content && contains(t.content.body(), key.value);
    case 'text':
      return !!t.content && contains(t.content.text(), key.value);
    case 'not':
      return !matches(key.key, t);
    case 'or':
      return matches(key.a, t) || matches(key.b, t);
    case 'and':
      return key.keys.every((k) => matches(k, t));
  }
}

function decodeCharset(bytes: Buffer, charset: string): string {
  try {
    return new TextDecoder(charset.trim().toLowerCase() || 'utf-8').decode(bytes);
  } catch {
    return bytes.toString('latin1');
  }
}

function decodeQuotedPrintable(s: string, headerMode: boolean): Buffer {
  if (headerMode) s = s.replace(/_/g, ' ');
  const bytes: number[] = [];
  const src = Buffer.from(s.replace(/=\r?\n/g, ''), 'latin1');
  for (let i = 0; i < src.length; i++) {
    const hex = src[i] === 0x3d ? src.toString('latin1', i + 1, i + 3) : '';
    if (/^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else bytes.push(src[i]);
  }
  return Buffer.from(bytes);
}

/** RFC 2047 encoded words (`=?utf-8?B?...?=`) decoded; white space between two of them dropped. */
export function decodeWords(value: string): string {
  return value
    .replace(/(\?=)\s+(=\?)/g, '$1$2')
    .replace(/=\?([^?*]+)(?:\*[^?]*)?\?([BbQq])\?([^?]*)\?=/g, (_m, charset: string, enc: string, text: string) =>
      decodeCharset(enc.toUpperCase() === 'B' ? Buffer.from(text, 'base64') : decodeQuotedPrintable(text, true), charset),
    );
}

function leafText(buf: Buffer, e: MimeEntity): string {
  const raw = buf.subarray(e.bodyStart, e.end);
  const cte = (headerValue(e, 'content-transfer-encoding') ?? '').toLowerCase();
  const bytes = cte === 'base64' ? Buffer.from(raw.toString('latin1'), 'base64') : cte === 'quoted-printable' ? decodeQuotedPrintable(raw.toString('latin1'), false) : raw;
  return decodeCharset(bytes, e.params.find(([k]) => k === 'charset')?.[1] ?? 'utf-8');
}

function bodyText(buf: Buffer, e: MimeEntity): string {
  if (e.children.length) return e.children.map((c) => bodyText(buf, c)).join('\n');
  if (e.message) return [...e.message.headers.map((h) => decodeWords(h.value)), bodyText(buf, e.message)].join('\n');
  return e.type === 'text' ? leafText(buf, e) : '';
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/** What SEARCH reads of a message's bytes, computed once and only when asked. */
export function searchContent(buf: Buffer): SearchContent {
  const root = parseMessage(buf);
  let body: string | undefined;
  return {
    header: (name) => root.headers.filter((h) => h.name === name).map((h) => decodeWords(h.value)),
    body: () => (body ??= bodyText(buf, root)),
    text() {
      return `${root.headers.map((h) => `${h.name}: ${decodeWords(h.value)}`).join('\n')}\n${this.body()}`;
    },
    sentDay() {
      const date = headerValue(root, 'date');
      const m = date && /(\d{1,2})\s+([A-Za-z]{3})\s+(\d{4})/.exec(date);
      const month = m ? MONTHS.indexOf(m[2].toLowerCase()) : -1;
      if (m && month >= 0) return Date.UTC(Number(m[3]), month, Number(m[1]));
      const ms = date ? Date.parse(date) : NaN;
      return Number.isNaN(ms) ? undefined : Math.floor(ms / DAY_MS) * DAY_MS;
    },
  };
}
