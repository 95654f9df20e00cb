// A raw RFC 5322 message arriving as a stream (POST /api/v1/messages as message/rfc822): its header
// block is read into memory, where it is checked and completed (mail/compose.ts), and the body passes
// through with the same bare-CR check, never held whole.
import { PullmailError } from '../errors.ts';

/** The most header a message may have before its blank line (mailparser's own limit is 1 MiB). */
export const MAX_HEADER_BYTES = 1024 * 1024;

const HEADER_END = /\r?\n\r?\n/;

/**
 * Reads until the end of the header block. `head` is the header block with the blank line that ends
 * it; `rest` yields the remaining bytes of `source` (the body), starting with what was read past it.
 */
export async function readHeaderBlock(source: AsyncIterable<Uint8Array>, maxHeaderBytes = MAX_HEADER_BYTES): Promise<{ head: Buffer; rest: AsyncIterable<Buffer> }> {
  const it = source[Symbol.asyncIterator]();
  let buffered = Buffer.alloc(0);
  let scanned = 0; // bytes already searched, less the 3 a separator split across pieces may start in
  for (;;) {
    const from = Math.max(0, scanned - 3);
    const match = HEADER_END.exec(buffered.subarray(from).toString('latin1'));
    scanned = buffered.length;
    if (match) {
      const end = from + match.index + match[0].length;
      const head = buffered.subarray(0, end);
      const first = buffered.subarray(end);
      return { head, rest: continueWith(first, it) };
    }
    if (buffered.length > maxHeaderBytes) throw new PullmailError('bad_request', `raw message header is over ${maxHeaderBytes} bytes (or the blank line after it is missing)`);
    const next = await it.next();
    if (next.done) {
      // a message that is all header: the blank line is missing
      throw new PullmailError('bad_request', 'raw message has no header/body separator');
    }
    buffered = Buffer.concat([buffered, next.value]);
  }
}

async function* continueWith(first: Buffer, it: AsyncIterator<Uint8Array>): AsyncGenerator<Buffer> {
  if (first.length) yield first;
  for (;;) {
    const next = await it.next();
    if (next.done) return;
    yield Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
  }
}

/**
 * Passes `source` on unchanged, failing with `bad_request` at a CR not followed by LF: a line break
 * to some servers on the way (header injection, SMTP smuggling). A CR at the end of one chunk is
 * judged by the first byte of the next.
 */
export async function* refuseBareCr(source: AsyncIterable<Uint8Array>): AsyncGenerator<Buffer> {
  let crPending = false;
  for await (const piece of source) {
    const chunk = Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
    if (crPending && chunk.length && chunk[0] !== 0x0a) throw bareCr();
    for (let i = chunk.indexOf(0x0d); i >= 0; i = chunk.indexOf(0x0d, i + 1)) {
      if (i + 1 < chunk.length && chunk[i + 1] !== 0x0a) throw bareCr();
    }
    if (chunk.length) crPending = chunk[chunk.length - 1] === 0x0d;
    yield chunk;
  }
  if (crPending) throw bareCr();
}

const bareCr = () => new PullmailError('bad_request', 'raw message has a bare CR (every line must end with CRLF or LF)');
