// Message bodies. A body up to INLINE_MAX bytes is kept in its row (message_versions.raw,
// inbound.raw): one row, one query, the common case. A larger one is written as a blob of CHUNK-sized
// rows while it arrives and read back chunk by chunk, so a 25 MB message never sits whole in a
// process (nor as a 50 MB hex string in a query). Blobs are immutable: a local delivery names the
// sender's blob instead of copying it, and maintenance removes blobs nothing names any more.
import { tooLargeDetail } from '../mail/limits.ts';
import { createHash } from 'node:crypto';
import { and, eq, lt, sql } from 'drizzle-orm';
import { PullmailError } from '../errors.ts';
import type { Executor } from './db.ts';
import { blobChunks, blobs } from './schema.ts';

/** Bodies up to this size stay in their row. */
export const INLINE_MAX = 256 * 1024;
/** Size of one blob_chunks row. */
export const CHUNK = 256 * 1024;

/** Where a body is: exactly one of `raw` and `blobId` is set (the columns of the owning row). */
export interface BodyRef {
  raw: Buffer | null;
  blobId: string | null;
}

export interface StoredBody extends BodyRef {
  size: number;
  /** base64url SHA-256 of the whole body (msg.sha256 of protocol §2). */
  sha256: string;
}

/** The columns a row stores for its body (message_versions and inbound alike). */
export const bodyColumns = (b: StoredBody) => ({ raw: b.raw, blobId: b.blobId, size: b.size, sha256: b.sha256 });

/** The body's SHA-256 in the base64 form of Content-Digest (RFC 9530); rows keep it base64url. */
export const digestBase64 = (b: Pick<StoredBody, 'sha256'>): string => Buffer.from(b.sha256, 'base64url').toString('base64');

/**
 * Reads `source` to its end, hashing it: a small body comes back in memory (`raw`), a larger one is
 * written to a new blob as it arrives. More than `maxBytes` fails with `too_large` (and removes
 * what was written); so does any error from `source`, which is passed on.
 */
export async function spoolBody(db: Executor, source: AsyncIterable<Uint8Array>, opts: { maxBytes: number }): Promise<StoredBody> {
  const hash = createHash('sha256');
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let size = 0;
  let blobId: string | null = null;
  let seq = 0;
  const flush = async (all: boolean) => {
    const joined = Buffer.concat(pending);
    let at = 0;
    while (joined.length - at >= CHUNK || (all && at < joined.length)) {
      const data = joined.subarray(at, at + CHUNK);
      await db.insert(blobChunks).values({ blobId: blobId!, seq: seq++, data });
      at += data.length;
    }
    pending = at < joined.length ? [joined.subarray(at)] : [];
    pendingBytes = joined.length - at;
  };
  try {
    for await (const piece of source) {
      const chunk = Buffer.isBuffer(piece) ? piece : Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
      size += chunk.length;
      if (size > opts.maxBytes) throw new PullmailError('too_large', tooLargeDetail(undefined, opts.maxBytes));
      hash.update(chunk);
      pending.push(chunk);
      pendingBytes += chunk.length;
      if (!blobId && size > INLINE_MAX) {
        const [row] = await db.insert(blobs).values({}).returning({ id: blobs.id });
        blobId = row.id;
      }
      if (blobId && pendingBytes >= CHUNK) await flush(false);
    }
    const sha256 = hash.digest('base64url');
    if (!blobId) return { raw: Buffer.concat(pending), blobId: null, size, sha256 };
    await flush(true);
    await db.update(blobs).set({ size, sha256 }).where(eq(blobs.id, blobId));
    return { raw: null, blobId, size, sha256 };
  } catch (err) {
    await discardBlob(db, blobId);
    throw err;
  }
}

/** A body already in memory, stored the same way (inline when small). */
export function storeBody(db: Executor, raw: Buffer, opts: { maxBytes: number }): Promise<StoredBody> {
  return spoolBody(db, (async function* () {
    // in CHUNK-sized views (no copies), so the blob path flushes as it goes
    for (let at = 0; at < raw.length || at === 0; at += CHUNK) yield raw.subarray(at, at + CHUNK);
  })(), opts);
}

/**
 * The bytes of a body in order, one chunk at a time. Fails, rather than ending short, when the blob
 * does not hold `size` bytes (it was removed while being read: the message was deleted meanwhile).
 */
export async function* readBody(db: Executor, body: BodyRef & { size: number }): AsyncGenerator<Buffer> {
  if (body.raw) {
    yield body.raw;
    return;
  }
  if (!body.blobId) throw new PullmailError('not_found', 'the message body is gone');
  let read = 0;
  for (let seq = 0; read < body.size; seq++) {
    const [row] = await db.select({ data: blobChunks.data }).from(blobChunks).where(and(eq(blobChunks.blobId, body.blobId), eq(blobChunks.seq, seq)));
    if (!row) throw new PullmailError('not_found', `the message body is gone (removed after ${read} of ${body.size} bytes were read)`);
    read += row.data.length;
    yield row.data;
  }
  if (read !== body.size) throw new PullmailError('internal', `the message body has ${read} bytes, not ${body.size}`);
}

/** The whole body in memory, for the parsers and the SMTP client that need it so (bounded by the size limit). */
export async function loadBody(db: Executor, body: BodyRef & { size: number }): Promise<Buffer> {
  if (body.raw) return body.raw;
  const parts: Buffer[] = [];
  for await (const part of readBody(db, body)) parts.push(part);
  return Buffer.concat(parts);
}

export async function deleteBlob(db: Executor, id: string): Promise<void> {
  await db.delete(blobs).where(eq(blobs.id, id));
}

/** Removes a blob that nothing will name, best effort: if this fails, the maintenance sweep removes it. */
export async function discardBlob(db: Executor, blobId: string | null): Promise<void> {
  if (blobId) await deleteBlob(db, blobId).catch(() => undefined);
}

/** Runs `link`, which writes the rows that name `body`; if it fails, the blob they would have named is discarded. */
export async function linkBody<T>(db: Executor, body: BodyRef, link: () => Promise<T>): Promise<T> {
  try {
    return await link();
  } catch (err) {
    await discardBlob(db, body.blobId);
    throw err;
  }
}

/** The body columns of a row that no longer keeps its bytes (a blob it named is left to the sweep). */
export const NO_BODY = { raw: null, blobId: null };

/**
 * Removes blobs created before `before` that no message version or inbound row names: bodies of
 * deleted messages, and uploads or fetches that failed before their row was written.
 */
export async function deleteOrphanBlobs(db: Executor, before: Date): Promise<number> {
  const rows = await db
    .delete(blobs)
    .where(and(
      lt(blobs.createdAt, before),
      sql`not exists (select 1 from message_versions v where v.blob_id = ${blobs.id})`,
      sql`not exists (select 1 from inbound i where i.blob_id = ${blobs.id})`,
      sql`not exists (select 1 from folder_messages fm where fm.blob_id = ${blobs.id})`,
    ))
    .returning({ id: blobs.id });
  return rows.length;
}
