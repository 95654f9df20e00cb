// Large message bodies (store/bodies.ts): kept in chunk rows, streamed in and out, exact bytes end to
// end, nothing left behind when an upload or fetch fails. Real nodes on real databases (PGlite, or
// PostgreSQL with DATABASE_URL), uploads over real sockets, chunked and with Content-Length.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { count, eq } from 'drizzle-orm';
import { request } from 'undici';
import { PullmailError } from '../packages/server/src/errors.ts';
import { readHeaderBlock, refuseBareCr } from '../packages/server/src/mail/raw-stream.ts';
import { CHUNK, deleteBlob, deleteOrphanBlobs, INLINE_MAX, loadBody, readBody, spoolBody } from '../packages/server/src/store/bodies.ts';
import type { Db } from '../packages/server/src/store/db.ts';
import { findVersion, listDeliveries } from '../packages/server/src/store/messages.ts';
import { blobChunks, blobs, folderMessages, inbound } from '../packages/server/src/store/schema.ts';
import { startNodes, type TestNode } from './harness/node.ts';
import { waitFor } from './harness/wait.ts';

type Json = Record<string, any>;

async function* pieces(data: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let at = 0; at < data.length; at += size) yield data.subarray(at, at + size);
}
async function collect(source: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const p of source) parts.push(Buffer.from(p));
  return Buffer.concat(parts);
}
const blobCount = async (db: Db) => Number((await db.select({ n: count() }).from(blobs))[0].n);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('base64url');

/** A raw message of about `bytes` bytes: random base64 lines with CRLF. */
function bigRaw(from: string, to: string, subject: string, bytes: number): Buffer {
  const head = `From: ${from}\r\nTo: ${to}\r\nSubject: ${subject}\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\n`;
  const body = randomBytes(Math.ceil((bytes * 3) / 4)).toString('base64').replace(/(.{76})/g, '$1\r\n');
  return Buffer.from(`${head}${body}\r\n`, 'latin1');
}

describe('raw message streams', () => {
  it('finds the header block however the bytes are split, and passes the body on unchanged', async () => {
    const raw = Buffer.from('From: a@a.test\r\nSubject: x\r\n\r\nline 1\r\nline 2\r\n');
    for (const size of [1, 2, 3, 7, raw.length]) {
      const { head, rest } = await readHeaderBlock(pieces(raw, size));
      assert.equal(head.toString(), 'From: a@a.test\r\nSubject: x\r\n\r\n', `split every ${size}`);
      assert.equal((await collect(rest)).toString(), 'line 1\r\nline 2\r\n', `split every ${size}`);
    }
    const lf = await readHeaderBlock(pieces(Buffer.from('From: a@a.test\n\nbody\n'), 4));
    assert.equal(lf.head.toString(), 'From: a@a.test\n\n');
  });

  it('refuses a message without a blank line, and a header block over its limit, without reading on', async () => {
    await assert.rejects(readHeaderBlock(pieces(Buffer.from('From: a@a.test\r\nSubject: x\r\n'), 5)), /no header\/body separator/);
    let served = 0;
    const endless = (async function* () {
      for (;;) {
        served++;
        yield Buffer.from('X-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n'.repeat(100));
      }
    })();
    await assert.rejects(readHeaderBlock(endless, 64 * 1024), (err: unknown) => err instanceof PullmailError && err.code === 'bad_request' && /header is over 65536 bytes/.test(err.message));
    assert.ok(served < 20, `stopped reading after the limit (${served} pieces)`);
  });

  it('refuses a bare CR anywhere in the body, also at a chunk boundary or at the very end', async () => {
    const ok = Buffer.from('a\r\nb\r\n\r\nc\r\n');
    for (const size of [1, 2, 3, ok.length]) assert.ok((await collect(refuseBareCr(pieces(ok, size)))).equals(ok));
    for (const bad of ['a\rb\r\n', 'a\r\r\n', 'abc\r', '\r.\r']) {
      for (const size of [1, 2, 3, bad.length]) {
        await assert.rejects(collect(refuseBareCr(pieces(Buffer.from(bad), size))), /bare CR/, `${JSON.stringify(bad)} split every ${size}`);
      }
    }
  });
});

describe('message bodies in the store', () => {
  let node: TestNode;
  let db: Db;
  before(async () => {
    [node] = await startNodes([{ domain: 'a.test' }]);
    db = node.server.ctx.db;
  });
  after(async () => node?.stop());

  it('keeps a small body in its row and a large one in chunks, byte for byte, whatever the pieces it arrives in', async () => {
    const small = randomBytes(INLINE_MAX);
    const stored = await spoolBody(db, pieces(small, 1000), { maxBytes: 10_000_000 });
    assert.equal(stored.blobId, null);
    assert.ok(stored.raw?.equals(small));
    assert.equal(stored.sha256, sha(small));

    const before = await blobCount(db);
    const large = randomBytes(3 * CHUNK + 12_345);
    for (const size of [1000, CHUNK, CHUNK + 1, 5 * CHUNK]) {
      const body = await spoolBody(db, pieces(large, size), { maxBytes: 10_000_000 });
      assert.equal(body.raw, null);
      assert.ok(body.blobId);
      assert.equal(body.size, large.length);
      assert.equal(body.sha256, sha(large));
      const chunks = await db.select({ seq: blobChunks.seq, data: blobChunks.data }).from(blobChunks).where(eq(blobChunks.blobId, body.blobId)).orderBy(blobChunks.seq);
      assert.deepEqual(chunks.map((c) => c.data.length), [CHUNK, CHUNK, CHUNK, 12_345], `pieces of ${size}`);
      assert.ok((await loadBody(db, body)).equals(large));
      let streamed = 0;
      for await (const part of readBody(db, body)) {
        assert.ok(part.length <= CHUNK);
        streamed += part.length;
      }
      assert.equal(streamed, large.length);
    }
    assert.equal(await blobCount(db), before + 4);
  });

  it('leaves no blob behind when a body is over the limit or its source fails half-way', async () => {
    const before = await blobCount(db);
    const large = randomBytes(4 * CHUNK);
    await assert.rejects(spoolBody(db, pieces(large, 10_000), { maxBytes: 3 * CHUNK }), (err: unknown) => err instanceof PullmailError && err.code === 'too_large');
    const failing = (async function* () {
      yield* pieces(large.subarray(0, 2 * CHUNK), 50_000);
      throw new Error('client went away');
    })();
    await assert.rejects(spoolBody(db, failing, { maxBytes: 10_000_000 }), /client went away/);
    assert.equal(await blobCount(db), before);
  });

  it('a read fails, never ends short, when the blob is removed while it is being read', async () => {
    const large = randomBytes(3 * CHUNK);
    const body = await spoolBody(db, pieces(large, CHUNK), { maxBytes: 10_000_000 });
    const reading = readBody(db, body);
    assert.equal((await reading.next()).value?.length, CHUNK);
    await deleteBlob(db, body.blobId!);
    await assert.rejects(reading.next(), (err: unknown) => err instanceof PullmailError && err.code === 'not_found' && /after 262144 of 786432 bytes/.test(err.message));
    await assert.rejects(loadBody(db, body), (err: unknown) => err instanceof PullmailError && err.code === 'not_found');
  });

  it('sweeps blobs nothing names once they are old enough, never one a message or inbox row names', async () => {
    const orphan = await spoolBody(db, pieces(randomBytes(INLINE_MAX + 1), 100_000), { maxBytes: 10_000_000 });
    assert.ok(orphan.blobId);
    assert.equal(await deleteOrphanBlobs(db, new Date(Date.now() - 3_600_000)), 0, 'too young to sweep');
    const swept = await deleteOrphanBlobs(db, new Date(Date.now() + 1000));
    assert.ok(swept >= 1);
    assert.equal((await db.select().from(blobs).where(eq(blobs.id, orphan.blobId))).length, 0);
    assert.equal((await db.select().from(blobChunks).where(eq(blobChunks.blobId, orphan.blobId))).length, 0, 'its chunks too');
  });
});

describe('large messages between nodes', () => {
  let a: TestNode;
  let b: TestNode;
  let alice: string;
  let bob: string;
  const MAX = 3_000_000;
  before(async () => {
    [a, b] = await startNodes([
      { domain: 'a.test', env: { PULLMAIL_MAX_MESSAGE_BYTES: String(MAX) } },
      { domain: 'b.test', env: { PULLMAIL_MAX_MESSAGE_BYTES: String(MAX) } },
    ]);
    alice = await a.addUser('alice@a.test');
    bob = await b.addUser('bob@b.test');
    assert.equal((await b.api('/api/v1/rules', { method: 'POST', token: bob, json: { action: 'allow', pattern: '@a.test' } })).status, 201);
  });
  after(async () => {
    await a?.stop();
    await b?.stop();
  });

  /** POSTs a raw message; `chunked` sends it without Content-Length, in 64 KiB pieces. */
  async function upload(raw: Buffer, chunked: boolean): Promise<{ status: number; body: Json }> {
    const res = await request(`${a.url}/api/v1/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${alice}`, 'content-type': 'message/rfc822', ...(chunked ? {} : { 'content-length': String(raw.length) }) },
      body: chunked ? Readable.from(pieces(raw, 65_536)) : raw,
    });
    return { status: res.statusCode, body: (await res.body.json()) as Json };
  }
  const inboxRaw = async (subject: string) => {
    const inbox = (await (await b.api('/api/v1/inbox?limit=200', { token: bob })).json()) as Json;
    const entry = inbox.messages.find((m: Json) => m.subject === subject);
    if (!entry) return undefined;
    const res = await b.api(`/api/v1/inbox/${entry.id}/raw`, { token: bob });
    assert.equal(res.headers.get('content-length'), String(entry.size));
    return { id: entry.id as string, raw: Buffer.from(await res.arrayBuffer()) };
  };

  for (const chunked of [false, true]) {
    it(`delivers a 2 MB message uploaded ${chunked ? 'chunked' : 'with Content-Length'}: the exact bytes, kept as blobs on both nodes`, async () => {
      const subject = `large ${chunked ? 'chunked' : 'sized'}`;
      // with Message-ID and Date already, so the node stores the upload unchanged
      const raw = bigRaw('alice@a.test', 'bob@b.test', subject, 2_000_000);
      const complete = Buffer.concat([Buffer.from(`Message-ID: <${chunked ? 'c' : 's'}@a.test>\r\nDate: Wed, 25 Nov 2026 10:00:00 +0000\r\n`), raw]);
      const sent = await upload(complete, chunked);
      assert.equal(sent.status, 201, JSON.stringify(sent.body));
      const version = await findVersion(a.server.ctx.db, sent.body.id, 1);
      assert.ok(version?.blobId && !version.raw, 'a blob at the sender');
      assert.equal(version.size, complete.length);
      await waitFor('fetched', async () => (await listDeliveries(a.server.ctx.db, sent.body.id))[0].state === 'fetched');
      const got = await waitFor('in bob\'s inbox', () => inboxRaw(subject));
      assert.ok(got.raw.equals(complete), 'the exact bytes');
      const [{ row }] = await b.server.ctx.db.select({ row: inbound }).from(folderMessages).innerJoin(inbound, eq(inbound.id, folderMessages.inboundId)).where(eq(folderMessages.id, got.id)); // the inbox lists filed messages (docs/mailbox.md)
      assert.ok(row.blobId && !row.raw, 'a blob at the recipient');
      assert.equal(row.sha256, sha(complete));
      // the parsed read loads it whole and answers
      const parsed = (await (await b.api(`/api/v1/inbox/${got.id}`, { token: bob })).json()) as Json;
      assert.equal(parsed.subject, subject);
    });
  }

  it('refuses an upload over the limit, or with a bare CR deep in its body, and keeps nothing of it', async () => {
    const sentBefore = Number((await a.server.ctx.db.select({ n: count() }).from(blobs))[0].n);
    for (const chunked of [false, true]) {
      const over = await upload(bigRaw('alice@a.test', 'bob@b.test', 'too big', MAX + 100_000), chunked);
      assert.equal(over.status, 413, JSON.stringify(over.body));
      assert.equal(over.body.error, 'too_large');
      const raw = bigRaw('alice@a.test', 'bob@b.test', 'bare cr', 1_500_000);
      raw[1_200_000] = 0x0d; // a CR inside a base64 line, far past the first chunk
      const bad = await upload(raw, chunked);
      assert.equal(bad.status, 400, JSON.stringify(bad.body));
      assert.match(bad.body.detail, /bare CR/);
    }
    assert.equal(Number((await a.server.ctx.db.select({ n: count() }).from(blobs))[0].n), sentBefore, 'no blob left behind');
    assert.equal((await a.api('/healthz')).status, 200);
  });

  it('an upload refused before its body is read (bad token) is answered with Connection: close, never cut off later', async () => {
    const raw = bigRaw('alice@a.test', 'bob@b.test', 'refused early', 1_000_000);
    const res = await request(`${a.url}/api/v1/messages`, { method: 'POST', headers: { authorization: 'Bearer pm_wrong', 'content-type': 'message/rfc822' }, body: raw });
    assert.equal(res.statusCode, 401);
    assert.equal((await res.body.json() as Json).error, 'unauthorized');
    // the node reads such a body only briefly: the client must not send its next request on this connection
    assert.equal(res.headers.connection, 'close');
  });

  it('a deleted inbox message leaves its blob to the sweep; the sender\'s copy, still named, stays', async () => {
    const subject = 'to delete';
    const sent = await upload(bigRaw('alice@a.test', 'bob@b.test', subject, 600_000), false);
    assert.equal(sent.status, 201);
    const got = await waitFor('in bob\'s inbox', () => inboxRaw(subject));
    const [{ row }] = await b.server.ctx.db.select({ row: inbound }).from(folderMessages).innerJoin(inbound, eq(inbound.id, folderMessages.inboundId)).where(eq(folderMessages.id, got.id)); // the inbox lists filed messages (docs/mailbox.md)
    assert.ok(row.blobId);
    assert.equal((await b.api(`/api/v1/inbox/${got.id}`, { method: 'DELETE', token: bob })).status, 204);
    assert.equal((await b.api(`/api/v1/inbox/${got.id}/raw`, { token: bob })).status, 404);
    assert.ok((await deleteOrphanBlobs(b.server.ctx.db, new Date(Date.now() + 1000))) >= 1);
    assert.equal((await b.server.ctx.db.select().from(blobs).where(eq(blobs.id, row.blobId))).length, 0, 'the deleted message\'s blob is gone');
    // the sender's copy is still named by its message version: never swept
    const version = await findVersion(a.server.ctx.db, sent.body.id, 1);
    assert.equal(await deleteOrphanBlobs(a.server.ctx.db, new Date(Date.now() + 1000)), 0);
    assert.ok((await loadBody(a.server.ctx.db, version!)).length > 600_000);
  });
});
