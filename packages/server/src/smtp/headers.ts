// The little header handling the gateway needs on received mail (RFC 5322 §2.2): read a few fields
// (unstructured ones decoded as RFC 2047 says, so the MX needs no MIME parser), and drop Authentication-Results that claim to come from us (RFC 8601 §5) before adding our own.
import libmime from 'libmime';
import addressparser from 'nodemailer/lib/addressparser';
import { canonicalAddress } from '../address.ts';
import { storableText } from '../text.ts';

const HEADER_END = /\r?\n\r?\n/;

export interface HeaderField {
  name: string;
  /** The field as received, all its lines with their line endings. */
  text: string;
}

/** Splits the header block into fields; `body` is everything from the blank line on. */
export function splitHeaders(raw: Buffer): { fields: HeaderField[]; body: string } {
  const text = raw.toString('latin1');
  const m = HEADER_END.exec(text);
  // the header block keeps the line ending of its last field; the body starts with the blank line
  const cut = m ? m.index + (m[0].startsWith('\r\n') ? 2 : 1) : text.length;
  const fields: HeaderField[] = [];
  for (const line of text.slice(0, cut).split(/(?<=\n)/)) {
    if (!line) continue;
    if (/^[ \t]/.test(line) && fields.length) fields[fields.length - 1].text += line;
    else fields.push({ name: line.slice(0, Math.max(0, line.indexOf(':'))).trim().toLowerCase(), text: line });
  }
  return { fields, body: text.slice(cut) };
}

export function headerValue(fields: HeaderField[], name: string): string | undefined {
  const f = fields.find((x) => x.name === name);
  return f ? f.text.slice(f.text.indexOf(':') + 1).replace(/\r?\n(?=[ \t])/g, '').trim() : undefined;
}

/**
 * An unstructured field (Subject) as a reader shows it: the first one's value unfolded, 8-bit bytes read
 * as UTF-8 (RFC 6532), encoded words decoded (RFC 2047); one that cannot be decoded stays as written.
 * What mailparser gives for it; splitHeaders reads the bytes as latin1, so they are whole here.
 */
export function decodedHeader(fields: HeaderField[], name: string): string | undefined {
  const value = headerValue(fields, name);
  return value === undefined ? undefined : decodeFieldText(value);
}

/** decodedHeader for a value already unfolded, its bytes read as latin1 (what splitHeaders and completeRawMessage hold). */
export function decodeFieldText(value: string): string {
  const text = Buffer.from(value, 'latin1').toString('utf8');
  try {
    return storableText(libmime.decodeWords(text));
  } catch {
    return storableText(text);
  }
}

/** The first address of the From field, canonical, or undefined. */
export function fromAddress(fields: HeaderField[]): string | undefined {
  const value = headerValue(fields, 'from');
  if (!value) return undefined;
  const [first] = addressparser(value, { flatten: true }) as { address?: string }[];
  return first?.address ? canonicalAddress(first.address) : undefined;
}

/** The message with our trace fields on top and any Authentication-Results naming `authservId` removed. */
export function withTraceHeaders(raw: Buffer, trace: string[], authservId: string): Buffer {
  const { fields, body } = splitHeaders(raw);
  const own = new RegExp(`^authentication-results:\\s*${authservId.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*(;|$)`, 'i');
  const forged = (f: HeaderField) => f.name === 'authentication-results' && own.test(f.text.replace(/\r?\n[ \t]/g, ' '));
  const top = Buffer.from(trace.map((t) => t.replace(/\r?\n?$/, '\r\n')).join(''), 'latin1');
  if (!fields.some(forged)) return Buffer.concat([top, raw]);
  return Buffer.concat([top, Buffer.from(fields.filter((f) => !forged(f)).map((f) => f.text).join('') + body, 'latin1')]);
}
