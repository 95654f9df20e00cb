// A stored message body as a response body: a blob is read chunk by chunk from the store as the client
// takes it (pull-based, so a slow client holds one chunk, not the message).
import type { AppContext } from '../context.ts';
import { readBody, type BodyRef } from '../store/bodies.ts';

/**
 * A stored body as a response body: the bytes themselves when the row holds them (an inline body is
 * already in memory: written with the head in one go, without a stream's per-chunk machinery), else a
 * pull-based stream of its blob's chunks.
 */
export function storedBody(ctx: AppContext, body: BodyRef & { size: number }): Uint8Array<ArrayBuffer> | ReadableStream<Uint8Array> {
  // a Buffer read from the database is on a plain ArrayBuffer, never a shared one
  if (body.raw) return new Uint8Array(body.raw.buffer as ArrayBuffer, body.raw.byteOffset, body.raw.byteLength);
  return chunkStream(ctx, readBody(ctx.db, body), body.blobId);
}

/** Any sequence of chunks (a stored body, a generated one) as a pull-based response body. */
export function chunkStream(ctx: AppContext, source: AsyncIterable<Buffer>, blobId?: string | null): ReadableStream<Uint8Array> {
  const chunks = source[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await chunks.next();
        if (next.done) controller.close();
        else controller.enqueue(new Uint8Array(next.value.buffer, next.value.byteOffset, next.value.byteLength));
      } catch (err) {
        // the client sees a cut-off body; its digest check fails and it fetches again
        ctx.log.warn({ err, blobId }, 'a message body could not be read while it was being sent');
        controller.error(err);
      }
    },
    async cancel() {
      await chunks.return?.(undefined);
    },
  }, { highWaterMark: 0 });
}
