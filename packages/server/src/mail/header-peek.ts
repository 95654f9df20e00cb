// The few header fields a listing needs (From, Subject, Message-ID), read from a message's header
// block without parsing its MIME structure. Pure; encoded words (RFC 2047) are decoded.
import { decodedHeader, fromAddress, headerValue, splitHeaders } from '../smtp/headers.ts';
import { storableText } from '../text.ts';

const HEADER_PEEK_BYTES = 64 * 1024;

export interface PeekedHeaders {
  /** Canonical address of the first author, or '' when there is none. */
  from: string;
  subject: string;
  /** The Message-ID field as written (with its angle brackets), or null. */
  messageId: string | null;
}

export function peekHeaders(raw: Buffer): PeekedHeaders {
  const { fields } = splitHeaders(raw.subarray(0, HEADER_PEEK_BYTES));
  // as the MX reads it: 8-bit bytes as UTF-8, encoded words decoded, what text cannot hold as U+FFFD
  const subject = decodedHeader(fields, 'subject') ?? '';
  // an id with a NUL is none: PostgreSQL text cannot hold it
  const messageId = headerValue(fields, 'message-id')?.match(/<[^<>\s\0]{1,900}>/)?.[0] ?? null;
  return { from: fromAddress(fields) ?? '', subject: storableText(subject.slice(0, 998)), messageId };
}
