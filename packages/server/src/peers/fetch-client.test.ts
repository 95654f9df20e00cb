// The fetch client against a real HTTPS server and a real body store (PGlite, or PostgreSQL when
// DATABASE_URL is set): one test per outcome, and nothing left in the store unless the body is kept.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import { count } from 'drizzle-orm';
import { testDatabase, type TestDatabase } from '../../../../test/harness/database.ts';
import { startScriptedServer, type Script, type ScriptedServer } from '../../../../test/harness/scripted-server.ts';
import { testPki } from '../../../../test/harness/tls.ts';
import { discardBlob, INLINE_MAX, loadBody, spoolBody } from '../store/bodies.ts';
import { IN_MEMORY, openDatabase, type Database } from '../store/db.ts';
import { blobs } from '../store/schema.ts';
import { fetchFromPeer, type BodySink, type FetchRequest } from './fetch-client.ts';
import { createFetcher, type Fetcher } from './fetcher.ts';

const sha256 = (b: Buffer) => createHash('sha256').update(b);
const contentDigest = (b: Buffer) => `sha-256=:${sha256(b).digest('base64')}:`;

/** A 200 with the message bytes as a sender node serves them (protocol §4). */
function serve(raw: Buffer, headers: Record<string, string> = {}): Script {
  return (_req, res) => {
    res.writeHead(200, { 'content-type': 'message/rfc822', 'content-length': String(raw.length), 'pm-version': '1', 'content-digest': contentDigest(raw), ...headers });
    res.end(raw);
  };
}
const status = (code: number, headers: Record<string, string> = {}): Script => (_req, res) => {
  const body = JSON.stringify({ error: code === 410 ? 'retracted' : code === 404 ? 'not_found' : 'bad_signature', detail: 'as scripted' });
  res.writeHead(code, { 'content-type': 'application/json', ...headers }).end(body);
};

describe('fetchFromPeer', () => {
  let sender: ScriptedServer;
  let fetcher: Fetcher;
  let testDb: TestDatabase;
  let database: Database;
  let sink: BodySink;
  const small = Buffer.from('From: a@a.test\r\nTo: b@b.test\r\nSubject: hi\r\n\r\nhello\r\n');
  // over the in-row limit: written to a blob as it arrives
  const large = Buffer.concat([Buffer.from('Subject: big\r\n\r\n'), randomBytes(INLINE_MAX * 2)]);
  const blobCount = async () => Number((await database.db.select({ n: count() }).from(blobs))[0].n);
  const request = (over: Partial<FetchRequest> = {}): FetchRequest => ({
    url: `${sender.url}/pm/v1/messages/m1`,
    cap: 'cap-token',
    proof: 'proof-jws',
    maxBytes: 1_000_000,
    deadlineMs: 10_000,
    notified: { version: 1, sha256: null },
    ...over,
  });

  before(async () => {
    sender = await startScriptedServer();
    fetcher = createFetcher({ allowPrivate: true, trustCa: testPki().ca, timeoutMs: 5_000 });
    testDb = await testDatabase();
    database = await openDatabase({ databaseUrl: testDb.env.DATABASE_URL, dataDir: IN_MEMORY });
    await database.migrate();
    sink = { spool: (source, maxBytes) => spoolBody(database.db, source, { maxBytes }), discard: (b) => discardBlob(database.db, b.blobId) };
  });
  after(async () => {
    await fetcher.close();
    await sender.close();
    await database.close();
    await testDb.drop();
  });
  beforeEach(() => {
    sender.requests.length = 0;
  });

  it('fetched: sends capability and proof, and keeps the exact bytes, small in the row and large in a blob', async () => {
    sender.answer = serve(small);
    const got = await fetchFromPeer(fetcher, sink, request());
    assert.equal(got.outcome, 'fetched');
    assert.equal(sender.requests[0].headers.authorization, 'PM-Cap cap-token');
    assert.equal(sender.requests[0].headers['pm-proof'], 'proof-jws');
    assert.equal(sender.requests[0].headers.accept, 'message/rfc822');
    if (got.outcome !== 'fetched') return;
    assert.equal(got.version, 1);
    assert.deepEqual(await loadBody(database.db, got.body), small);

    sender.answer = serve(large, { 'pm-version': '3' });
    const blobsBefore = await blobCount();
    const big = await fetchFromPeer(fetcher, sink, request({ notified: { version: 2, sha256: 'other-version' } }));
    assert.equal(big.outcome, 'fetched', 'a newer version than notified may have other bytes');
    if (big.outcome !== 'fetched') return;
    assert.equal(big.version, 3);
    assert.ok(big.body.blobId, 'written to a blob');
    assert.equal(await blobCount(), blobsBefore + 1);
    assert.deepEqual(await loadBody(database.db, big.body), large);
    await sink.discard(big.body);
  });

  it('410 is retracted, 404 not found, 5xx unavailable, 401 refused with what the sender said', async () => {
    sender.answer = status(410);
    assert.deepEqual(await fetchFromPeer(fetcher, sink, request()), { outcome: 'retracted' });
    sender.answer = status(404);
    assert.deepEqual(await fetchFromPeer(fetcher, sink, request()), { outcome: 'not-found' });
    sender.answer = status(503);
    assert.deepEqual(await fetchFromPeer(fetcher, sink, request()), { outcome: 'unavailable', status: 503 });
    sender.answer = status(401);
    assert.deepEqual(await fetchFromPeer(fetcher, sink, request()), { outcome: 'refused', status: 401, said: '{"error":"bad_signature","detail":"as scripted"}' });
  });

  it('429 is rate limited, with the Retry-After seconds when the sender gave them', async () => {
    sender.answer = status(429, { 'retry-after': '90' });
    assert.deepEqual(await fetchFromPeer(fetcher, sink, request()), { outcome: 'rate-limited', retryAfterSeconds: 90 });
    sender.answer = status(429);
    assert.deepEqual(await fetchFromPeer(fetcher, sink, request()), { outcome: 'rate-limited', retryAfterSeconds: undefined });
  });

  it('a 200 without a sha-256 Content-Digest or with a bad PM-Version keeps nothing', async () => {
    const before = await blobCount();
    sender.answer = serve(large, { 'content-digest': `md5=:${createHash('md5').update(large).digest('base64')}:` });
    assert.deepEqual(await fetchFromPeer(fetcher, sink, request()), { outcome: 'no-digest' });
    sender.answer = serve(large, { 'pm-version': '0' });
    assert.deepEqual(await fetchFromPeer(fetcher, sink, request()), { outcome: 'bad-version', value: '0' });
    assert.equal(await blobCount(), before);
  });

  it('digest mismatch: a body damaged on the way is removed from the store', async () => {
    const before = await blobCount();
    sender.answer = serve(large, { 'content-digest': contentDigest(Buffer.from('something else')) });
    assert.deepEqual(await fetchFromPeer(fetcher, sink, request()), { outcome: 'digest-mismatch' });
    assert.equal(await blobCount(), before, 'the blob written while it arrived is gone');
  });

  it('sha256 mismatch: the notified version must be the notified bytes', async () => {
    const before = await blobCount();
    sender.answer = serve(large);
    const notified = { version: 1, sha256: sha256(Buffer.from('what was announced')).digest('base64url') };
    assert.deepEqual(await fetchFromPeer(fetcher, sink, request({ notified })), { outcome: 'sha256-mismatch' });
    assert.equal(await blobCount(), before);
    // the bytes that were announced are kept
    const ok = await fetchFromPeer(fetcher, sink, request({ notified: { version: 1, sha256: sha256(large).digest('base64url') } }));
    assert.equal(ok.outcome, 'fetched');
    if (ok.outcome === 'fetched') await sink.discard(ok.body);
  });

  it('too large: announced by Content-Length, or counted as the body arrives without one', async () => {
    const before = await blobCount();
    sender.answer = serve(large);
    const announced = await fetchFromPeer(fetcher, sink, request({ maxBytes: INLINE_MAX }));
    assert.equal(announced.outcome, 'too-large');
    sender.answer = (_req, res) => {
      res.writeHead(200, { 'content-type': 'message/rfc822', 'pm-version': '1', 'content-digest': contentDigest(large) });
      res.end(large);
    };
    const counted = await fetchFromPeer(fetcher, sink, request({ maxBytes: INLINE_MAX }));
    assert.equal(counted.outcome, 'too-large');
    assert.equal(await blobCount(), before, 'what was written before the limit is gone');
  });

  it('unreachable: nothing answering, or a body cut off on the way, may be tried again', async () => {
    const dead = await fetchFromPeer(fetcher, sink, request({ url: 'https://127.0.0.1:1/pm/v1/messages/m1' }));
    assert.deepEqual(dead.outcome === 'unreachable' && [dead.code, dead.temporary], ['peer_unreachable', true]);
    const before = await blobCount();
    sender.answer = (_req, res) => {
      res.writeHead(200, { 'content-type': 'message/rfc822', 'content-length': String(large.length), 'pm-version': '1', 'content-digest': contentDigest(large) });
      res.write(large.subarray(0, INLINE_MAX + 1000), () => res.destroy());
    };
    const cut = await fetchFromPeer(fetcher, sink, request());
    assert.deepEqual(cut.outcome === 'unreachable' && [cut.code, cut.temporary], ['peer_unreachable', true]);
    assert.equal(await blobCount(), before);
  });
});
