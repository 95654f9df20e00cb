// A MIME message (RFC 5322 + 2045-2047, 2183, 2231) written as a stream, for `send`/`edit` with
// attachments: the parts are base64, attachments are read from disk a slice at a time, so the CLI's
// memory stays flat whatever the file size. The node adds Message-ID and Date, and takes the
// recipients from To/Cc/Bcc, removing Bcc (server mail/compose.ts completeRawMessage).
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { SendRequest } from '../wire/api.ts';

export interface MimeAttachment {
  filename: string;
  contentType: string;
  /** Read as a stream when the message is written. */
  path: string;
}

/** A send as the API takes it (wire `SendRequest`), with the sender and attachments read from files. */
export interface MimeMessage extends Omit<SendRequest, 'attachments' | 'consent'> {
  from: string;
  attachments: MimeAttachment[];
}

const CRLF = '\r\n';
/** 57 input bytes make one 76-character base64 line; slices are a multiple of it, so lines never split. */
const LINE_BYTES = 57;
const SLICE_BYTES = LINE_BYTES * 1024;

// eslint-disable-next-line no-control-regex
const isPlain = (s: string): boolean => /^[\x20-\x7e]*$/.test(s);

/**
 * A header value as is when it is printable ASCII, else as RFC 2047 `=?UTF-8?B?…?=` words of at most
 * 75 characters, folded; characters are never cut between words.
 */
export function encodeWords(value: string): string {
  if (isPlain(value)) return value;
  const words: string[] = [];
  let chunk = '';
  for (const ch of value) {
    // 45 bytes of UTF-8 are 60 base64 characters: with the 12 of =?UTF-8?B??= the word stays within 75
    if (Buffer.byteLength(chunk + ch) > 45) {
      words.push(chunk);
      chunk = '';
    }
    chunk += ch;
  }
  if (chunk) words.push(chunk);
  return words.map((w) => `=?UTF-8?B?${Buffer.from(w, 'utf8').toString('base64')}?=`).join(`${CRLF} `);
}

/** `name="value"` for a plain ASCII value, else the RFC 2231 `name*=UTF-8''percent-encoded` form. */
export function mimeParam(name: string, value: string): string {
  if (isPlain(value) && !/["\\]/.test(value)) return `${name}="${value}"`;
  const pct = [...Buffer.from(value, 'utf8')].map((b) => (/[A-Za-z0-9!#$&+.^_`|~-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`)).join('');
  return `${name}*=UTF-8''${pct}`;
}

/** Base64 in lines of 76 characters, each ending in CRLF. */
export function base64Lines(data: Uint8Array): string {
  const b64 = Buffer.from(data).toString('base64');
  let out = '';
  for (let i = 0; i < b64.length; i += 76) out += b64.slice(i, i + 76) + CRLF;
  return out;
}

/** The base64 lines of a file, read a slice at a time (a partial line is carried to the next slice). */
async function* fileBase64(path: string): AsyncGenerator<Uint8Array> {
  let carry = Buffer.alloc(0);
  for await (const chunk of createReadStream(path, { highWaterMark: SLICE_BYTES }) as AsyncIterable<Buffer>) {
    const data = carry.length ? Buffer.concat([carry, chunk]) : chunk;
    const whole = data.length - (data.length % LINE_BYTES);
    if (whole) yield Buffer.from(base64Lines(data.subarray(0, whole)), 'latin1');
    carry = Buffer.from(data.subarray(whole));
  }
  if (carry.length) yield Buffer.from(base64Lines(carry), 'latin1');
}

const boundary = () => `=_pm_${randomBytes(12).toString('hex')}`;

function textPart(type: string, body: string): string {
  return `Content-Type: ${type}; charset=utf-8${CRLF}Content-Transfer-Encoding: base64${CRLF}${CRLF}${base64Lines(Buffer.from(body, 'utf8'))}`;
}

/** The header block of the message, up to and including the blank line. */
export function messageHead(m: MimeMessage, outer: string): string {
  const lines = [`From: ${m.from}`];
  if (m.to.length) lines.push(`To: ${m.to.join(`,${CRLF} `)}`);
  if (m.cc?.length) lines.push(`Cc: ${m.cc.join(`,${CRLF} `)}`);
  if (m.bcc?.length) lines.push(`Bcc: ${m.bcc.join(`,${CRLF} `)}`);
  lines.push(`Subject: ${encodeWords(m.subject)}`, 'MIME-Version: 1.0', `Content-Type: multipart/mixed; boundary="${outer}"`);
  return lines.join(CRLF) + CRLF + CRLF;
}

/**
 * The whole message as bytes, as they are produced: headers, the text/HTML body (an alternative part
 * when both are given), then each attachment streamed from its file. A file that cannot be read
 * makes the iteration throw.
 */
export async function* mimeStream(m: MimeMessage): AsyncGenerator<Uint8Array> {
  const outer = boundary();
  let head = messageHead(m, outer);
  if (m.text !== undefined && m.html !== undefined) {
    const alt = boundary();
    head += `--${outer}${CRLF}Content-Type: multipart/alternative; boundary="${alt}"${CRLF}${CRLF}`;
    head += `--${alt}${CRLF}${textPart('text/plain', m.text)}--${alt}${CRLF}${textPart('text/html', m.html)}--${alt}--${CRLF}`;
  } else if (m.text !== undefined || m.html !== undefined) {
    head += `--${outer}${CRLF}${m.text !== undefined ? textPart('text/plain', m.text) : textPart('text/html', m.html!)}`;
  }
  yield Buffer.from(head, 'utf8');
  for (const a of m.attachments) {
    const part =
      `--${outer}${CRLF}Content-Type: ${a.contentType}; ${mimeParam('name', a.filename)}${CRLF}` +
      `Content-Disposition: attachment; ${mimeParam('filename', a.filename)}${CRLF}Content-Transfer-Encoding: base64${CRLF}${CRLF}`;
    yield Buffer.from(part, 'latin1');
    yield* fileBase64(a.path);
  }
  yield Buffer.from(`--${outer}--${CRLF}`, 'latin1');
}
