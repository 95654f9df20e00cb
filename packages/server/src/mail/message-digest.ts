// Which stored digests mean "this message is already here" for an append or an import (mailbox/append.ts,
// mailbox/import.ts). An mbox cannot carry a message that ends without a line break (RFC 4155: the
// "From " line must start a line), so exporting such a message and importing the file gives it back
// with a final LF; the digest compares messages up to one final line break so that copy is the same
// message. Pure.
import { createHash } from 'node:crypto';

const CR = 0x0d;
const LF = 0x0a;

/** `raw` without one final line break (CRLF or LF), a view of the same bytes. */
export function withoutFinalLineBreak(raw: Buffer): Buffer {
  if (raw[raw.length - 1] !== LF) return raw;
  return raw.subarray(0, raw.length - (raw.length >= 2 && raw[raw.length - 2] === CR ? 2 : 1));
}

/**
 * The digests (base64url SHA-256, the form of folder_messages.sha256) of every byte string that is
 * `raw` up to one final line break: `raw` without it, with LF, with CRLF. The first is the digest of
 * `raw` itself. One pass over the bytes.
 */
export function sameMessageDigests(raw: Buffer): string[] {
  const core = withoutFinalLineBreak(raw);
  const hash = createHash('sha256').update(core);
  const ending = (tail: Buffer | string) => hash.copy().update(tail).digest('base64url');
  const all = [ending(raw.subarray(core.length)), ending(''), ending('\n'), ending('\r\n')];
  return [...new Set(all)];
}
