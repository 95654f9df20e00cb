// Reads one message from smtp-server's DATA stream: keeps the bytes up to the size limit (the rest is
// drained, never buffered), and runs the smuggling guard over all of it.
import type { Readable } from 'node:stream';
import { createLineGuard } from './line-guard.ts';

export interface ReadMessage {
  /** The bytes, empty when the message was over the limit. */
  raw: Buffer;
  size: number;
  oversize: boolean;
  smuggling: boolean;
}

/** @param stream smtp-server's data stream; `sizeExceeded` is its own verdict for its `size` option. */
export async function readMessage(stream: Readable & { sizeExceeded?: boolean }, maxBytes: number): Promise<ReadMessage> {
  const guard = createLineGuard();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    size += chunk.length;
    guard.feed(chunk);
    if (size <= maxBytes) chunks.push(chunk);
    else chunks.length = 0;
  }
  const oversize = size > maxBytes || !!stream.sizeExceeded;
  return { raw: oversize ? Buffer.alloc(0) : Buffer.concat(chunks, size), size, oversize, smuggling: guard.end() };
}
