// The message size limit in the sender's terms: an attachment grows by about 37 % on its way into a
// message (base64, RFC 2045 §6.8: 4 characters per 3 bytes, plus CRLF after every 76), so "27368995
// bytes, the limit is 26214400" reads as "the largest attachment that fits is about 19 MB".
/** Room kept for headers and MIME boundaries when estimating the largest attachment, bytes. */
const HEADROOM_BYTES = 4096;

/** The largest single attachment, bytes, that fits in a message of at most `maxMessageBytes`. */
export function largestAttachmentBytes(maxMessageBytes: number): number {
  return Math.max(0, Math.floor(((maxMessageBytes - HEADROOM_BYTES) * 3 * 76) / (4 * 78)));
}

/** `26214400` → `25 MB`, `19.1 MB` (binary megabytes, as file managers mostly show them). */
export function formatMegabytes(bytes: number): string {
  const mb = bytes / 1_048_576;
  return `${mb >= 10 ? Math.floor(mb * 10) / 10 : Math.floor(mb * 100) / 100} MB`.replace(/\.0 MB$/, ' MB');
}

/** The detail of a too_large refusal; `size` undefined when only "more than the limit" is known. */
export function tooLargeDetail(size: number | undefined, maxMessageBytes: number): string {
  const what = size === undefined ? 'the message is larger than the limit' : `the message is ${formatMegabytes(size)} (${size} bytes)`;
  return `${what}; the limit is ${maxMessageBytes} bytes, ${formatMegabytes(maxMessageBytes)} (PULLMAIL_MAX_MESSAGE_BYTES), so the largest attachment that fits is about ${formatMegabytes(largestAttachmentBytes(maxMessageBytes))} (attachments grow by a third as base64)`;
}
