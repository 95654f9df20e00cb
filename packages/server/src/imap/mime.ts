// MIME structure for FETCH (RFC 3501 §6.4.5, §7.4.2; RFC 2045/2046, RFC 5322): a header/boundary
// splitter that keeps byte offsets into the stored message, so BODY[section] returns exact bytes,
// and ENVELOPE / BODYSTRUCTURE built from it. mailparser decodes but keeps no offsets, hence our own.
import { parseAddressList, type Address } from './address-list.ts';
import type { ImapValue } from './encode.ts';
import type { Section } from './parser.ts';

const LF = 0x0a;
const CR = 0x0d;
const MAX_DEPTH = 24;
const MAX_PARTS = 2000;

export interface HeaderField {
  /** Lowercased field name. */
  name: string;
  /** Unfolded value, leading and trailing white space removed. */
  value: string;
  /** Byte range of the whole field (its folded lines and their line ends). */
  start: number;
  end: number;
}

export interface MimeEntity {
  /** Offsets: header from `start`, body from `bodyStart` to `end` (the blank line is the header's). */
  start: number;
  bodyStart: number;
  end: number;
  headers: HeaderField[];
  /** Lowercased; defaults per RFC 2045 §5.2 (text/plain, or message/rfc822 inside multipart/digest). */
  type: string;
  subtype: string;
  params: Array<[string, string]>;
  children: MimeEntity[];
  /** The message inside a message/rfc822 part. */
  message?: MimeEntity;
}

function findHeaderEnd(buf: Buffer, start: number, end: number): number {
  if (buf[start] === LF) return start + 1;
  if (buf[start] === CR && buf[start + 1] === LF) return start + 2;
  for (let i = buf.indexOf(LF, start); i !== -1 && i < end; i = buf.indexOf(LF, i + 1)) {
    if (buf[i + 1] === LF) return Math.min(i + 2, end);
    if (buf[i + 1] === CR && buf[i + 2] === LF) return Math.min(i + 3, end);
  }
  return end;
}

function parseHeaderFields(buf: Buffer, start: number, end: number): HeaderField[] {
  const out: HeaderField[] = [];
  let pos = start;
  while (pos < end) {
    let lineEnd = buf.indexOf(LF, pos);
    lineEnd = lineEnd === -1 || lineEnd >= end ? end : lineEnd + 1;
    // continuation lines start with white space (RFC 5322 §2.2.3)
    while (lineEnd < end && (buf[lineEnd] === 0x20 || buf[lineEnd] === 0x09)) {
      const next = buf.indexOf(LF, lineEnd);
      lineEnd = next === -1 || next >= end ? end : next + 1;
    }
    const raw = buf.toString('utf8', pos, lineEnd);
    const colon = raw.indexOf(':');
    if (colon > 0 && raw.trim() !== '') {
      out.push({ name: raw.slice(0, colon).trim().toLowerCase(), value: raw.slice(colon + 1).replace(/\r?\n[ \t]/g, ' ').trim(), start: pos, end: lineEnd });
    }
    pos = lineEnd;
  }
  return out;
}

export function headerValue(e: MimeEntity, name: string): string | undefined {
  return e.headers.find((h) => h.name === name)?.value;
}

/** `type/subtype; a=b; c="d"` into parts; bad or absent gives undefined. */
function parseContentType(value: string | undefined): { type: string; subtype: string; params: Array<[string, string]> } | undefined {
  if (!value) return undefined;
  const [head, params] = splitParams(value);
  const m = /^([^\s/]+)\s*\/\s*([^\s;]+)$/.exec(head);
  if (!m) return undefined;
  return { type: m[1].toLowerCase(), subtype: m[2].toLowerCase(), params };
}

/** Splits `value; a=b; c="d;e"` into the value and its parameters (quotes removed, names lowercased). */
function splitParams(value: string): [string, Array<[string, string]>] {
  const params: Array<[string, string]> = [];
  const re = /;\s*([^\s=;]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)/g;
  const first = value.indexOf(';');
  const head = (first === -1 ? value : value.slice(0, first)).trim();
  if (first !== -1) {
    re.lastIndex = first;
    for (let m = re.exec(value); m; m = re.exec(value)) {
      const v = m[2].trim();
      params.push([m[1].toLowerCase(), v.startsWith('"') ? v.slice(1, -1).replace(/\\(.)/g, '$1') : v]);
    }
  }
  return [head, params];
}

function splitMultipart(buf: Buffer, start: number, end: number, boundary: string): Array<[number, number]> {
  const delim = Buffer.from(`--${boundary}`, 'utf8');
  const parts: Array<[number, number]> = [];
  let partStart = -1;
  let search = start;
  for (;;) {
    const idx = buf.indexOf(delim, search);
    if (idx === -1 || idx + delim.length > end) break;
    search = idx + 1;
    if (idx !== start && buf[idx - 1] !== LF) continue;
    let p = idx + delim.length;
    const closing = buf[p] === 0x2d && buf[p + 1] === 0x2d && p + 2 <= end;
    if (closing) p += 2;
    while (p < end && (buf[p] === 0x20 || buf[p] === 0x09)) p++;
    if (p < end && buf[p] !== CR && buf[p] !== LF) continue; // a longer boundary or text that starts like one
    const lineEnd = p >= end ? end : buf[p] === CR && buf[p + 1] === LF ? p + 2 : p + 1;
    if (partStart >= 0) {
      // the line break before a delimiter belongs to the delimiter (RFC 2046 §5.1.1)
      const eol = idx > start && buf[idx - 1] === LF ? (idx - 2 >= start && buf[idx - 2] === CR ? 2 : 1) : 0;
      parts.push([partStart, Math.max(partStart, idx - eol)]);
      if (parts.length >= MAX_PARTS) return parts;
    }
    if (closing) return parts;
    partStart = lineEnd;
    search = lineEnd;
  }
  if (partStart >= 0) parts.push([partStart, end]); // no closing delimiter: the last part runs to the end
  return parts;
}

function parseEntity(buf: Buffer, start: number, end: number, depth: number, inDigest: boolean): MimeEntity {
  const bodyStart = findHeaderEnd(buf, start, end);
  const headers = parseHeaderFields(buf, start, bodyStart);
  const ct = parseContentType(headerValue({ headers } as MimeEntity, 'content-type'));
  const e: MimeEntity = {
    start,
    bodyStart,
    end,
    headers,
    type: ct?.type ?? (inDigest ? 'message' : 'text'),
    subtype: ct?.subtype ?? (inDigest ? 'rfc822' : 'plain'),
    params: ct?.params ?? (inDigest ? [] : [['charset', 'us-ascii']]),
    children: [],
  };
  if (depth >= MAX_DEPTH) return e;
  if (e.type === 'multipart') {
    const boundary = e.params.find(([k]) => k === 'boundary')?.[1];
    const ranges = boundary ? splitMultipart(buf, bodyStart, end, boundary) : [];
    if (ranges.length === 0) {
      // a multipart we cannot split is shown as the text it is
      Object.assign(e, { type: 'text', subtype: 'plain', params: [['charset', 'us-ascii']] });
      return e;
    }
    e.children = ranges.map(([s, t]) => parseEntity(buf, s, t, depth + 1, e.subtype === 'digest'));
  } else if (e.type === 'message' && (e.subtype === 'rfc822' || e.subtype === 'global')) {
    e.message = parseEntity(buf, bodyStart, end, depth + 1, false);
  }
  return e;
}

/** The structure of a whole message. Never throws: any bytes give some structure. */
export function parseMessage(buf: Buffer): MimeEntity {
  return parseEntity(buf, 0, buf.length, 0, false);
}

/** Finds the entity a part number names (RFC 3501 §6.4.5); undefined when there is none. */
function findPart(root: MimeEntity, part: number[]): MimeEntity | undefined {
  let e: MimeEntity = root;
  for (let i = 0; i < part.length; i++) {
    // inside a message/rfc822 part, numbers count the parts of the message it holds
    if (i > 0 && e.message) e = e.message;
    if (e.children.length) {
      const child = e.children[part[i] - 1];
      if (!child) return undefined;
      e = child;
    } else if (part[i] !== 1) return undefined;
  }
  return e;
}

/** The bytes BODY[section] returns; an empty Buffer for a part that does not exist. */
export function sectionBytes(buf: Buffer, root: MimeEntity, section: Section): Buffer {
  const target = findPart(root, section.part);
  if (!target) return Buffer.alloc(0);
  if (!section.text) return section.part.length ? buf.subarray(target.bodyStart, target.end) : buf;
  if (section.text === 'MIME') return buf.subarray(target.start, target.bodyStart);
  // HEADER and TEXT of a part address the message inside a message/rfc822 part
  const msg = section.part.length ? target.message : root;
  if (!msg) return Buffer.alloc(0);
  if (section.text === 'TEXT') return buf.subarray(msg.bodyStart, msg.end);
  if (section.text === 'HEADER') return buf.subarray(msg.start, msg.bodyStart);
  const wanted = new Set((section.fields ?? []).map((f) => f.toLowerCase()));
  const keep = section.text === 'HEADER.FIELDS';
  const pieces = msg.headers.filter((h) => wanted.has(h.name) === keep).map((h) => buf.subarray(h.start, h.end));
  return Buffer.concat([...pieces, Buffer.from('\r\n')]);
}

const nilIfEmpty = (s: string | undefined): string | null => (s === undefined || s === '' ? null : s);

function addresses(value: string | undefined): ImapValue {
  if (value === undefined) return null;
  const list = parseAddressList(value);
  if (!list.length) return null;
  const out: ImapValue[] = [];
  const one = (a: Address): ImapValue => [nilIfEmpty(a.name), null, a.mailbox, a.host];
  for (const item of list) {
    if ('group' in item) {
      out.push([null, null, item.group, null], ...item.members.map(one), [null, null, null, null]);
    } else out.push(one(item));
  }
  return out;
}

/** ENVELOPE (RFC 3501 §7.4.2): header values raw, as sent, encoded words left to the client. */
export function envelope(e: MimeEntity): ImapValue {
  const h = (name: string) => headerValue(e, name);
  const from = addresses(h('from'));
  return [
    nilIfEmpty(h('date')),
    nilIfEmpty(h('subject')),
    from,
    h('sender') !== undefined ? addresses(h('sender')) : from,
    h('reply-to') !== undefined ? addresses(h('reply-to')) : from,
    addresses(h('to')),
    addresses(h('cc')),
    addresses(h('bcc')),
    nilIfEmpty(h('in-reply-to')),
    nilIfEmpty(h('message-id')),
  ];
}

const paramList = (params: Array<[string, string]>): ImapValue => (params.length ? params.flatMap(([k, v]) => [k, v]) : null);

function disposition(e: MimeEntity): ImapValue {
  const v = headerValue(e, 'content-disposition');
  if (!v) return null;
  const [head, params] = splitParams(v);
  return head ? [head, paramList(params)] : null;
}

/** Lines of a body: its line ends, plus a last line without one. */
function countLines(buf: Buffer, start: number, end: number): number {
  let n = 0;
  for (let i = buf.indexOf(LF, start); i !== -1 && i < end; i = buf.indexOf(LF, i + 1)) n++;
  return end > start && buf[end - 1] !== LF ? n + 1 : n;
}

/** BODYSTRUCTURE (`extended`) or BODY (RFC 3501 §7.4.2) of an entity. */
export function bodyStructure(buf: Buffer, e: MimeEntity, extended: boolean): ImapValue {
  const language = (): ImapValue => nilIfEmpty(headerValue(e, 'content-language'));
  const location = (): ImapValue => nilIfEmpty(headerValue(e, 'content-location'));
  if (e.children.length) {
    const out: ImapValue[] = [{ adjacent: e.children.map((c) => bodyStructure(buf, c, extended)) }, e.subtype];
    if (extended) out.push(paramList(e.params), disposition(e), language(), location());
    return out;
  }
  const out: ImapValue[] = [
    e.type,
    e.subtype,
    paramList(e.params),
    nilIfEmpty(headerValue(e, 'content-id')),
    nilIfEmpty(headerValue(e, 'content-description')),
    (headerValue(e, 'content-transfer-encoding') ?? '7bit').toLowerCase(),
    e.end - e.bodyStart,
  ];
  if (e.message) out.push(envelope(e.message), bodyStructure(buf, e.message, extended), countLines(buf, e.bodyStart, e.end));
  else if (e.type === 'text') out.push(countLines(buf, e.bodyStart, e.end));
  if (extended) out.push(nilIfEmpty(headerValue(e, 'content-md5')), disposition(e), language(), location());
  return out;
}
