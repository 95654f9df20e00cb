// Fault tests (issue 7): the recipient node killed with SIGKILL while it fetches; PostgreSQL sessions
// killed under load; peers that answer notifications slowly or with garbage; a database that refuses
// writes. Real node processes, real PostgreSQL, real sockets. Nothing lost, nothing delivered twice,
// no process crashes, and a clear error wherever a caller is told no.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { count, eq, ne } from 'drizzle-orm';
import { Agent } from 'undici';
import { createFetcher, type Fetcher } from '../packages/server/src/peers/fetcher.ts';
import { deliveries, inbound } from '../packages/server/src/store/schema.ts';
import { listDeliveries } from '../packages/server/src/store/messages.ts';
import { nodeClient, spawnNode, waitHealthy, type Call } from './harness/child-node.ts';
import { testDatabase, type TestDatabase } from './harness/database.ts';
import { startMisbehavingPeer, notificationCount, type MisbehavingPeer } from './harness/misbehaving-peer.ts';
import { ADMIN_TOKEN, freePort, startNode, type TestNode } from './harness/node.ts';
import { queryNodeDb, setReadOnly, terminateBackends } from './harness/pg-admin.ts';
import { reachablePostgres } from './harness/postgres.ts';
import { testPki } from './harness/tls.ts';
import { waitFor } from './harness/wait.ts';

type Json = Record<string, any>;

const PG_URL = process.env.DATABASE_URL;
const noPostgres = (await reachablePostgres(PG_URL)) ? undefined : 'needs DATABASE_URL (a PostgreSQL server of our own to disturb)';

/** Waits for a child process to exit; resolves at once when it already has. */
const exited = (child: ChildProcess) => (child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((r) => child.once('exit', r)));
const alive = (child: ChildProcess) => child.exitCode === null && child.signalCode === null;

/** Delivery states at an in-process sender, counted. */
async function stateCounts(node: TestNode): Promise<Record<string, number>> {
  const rows = await node.server.ctx.db.select({ state: deliveries.state, n: count() }).from(deliveries).groupBy(deliveries.state);
  return Object.fromEntries(rows.map((r) => [r.state, Number(r.n)]));
}

/**
 * Moves a node's clock to its next due retry (deliveries or fetches), so a test skips a 30 s+ backoff
 * instead of sleeping through it. The total shift stays under pm1's 120 s allowed skew, because the
 * other nodes keep the real time.
 */
function backoffSkipper(node: () => TestNode, clock: { offsetMs: number }) {
  return async (): Promise<void> => {
    const { db } = node().server.ctx;
    const now = Date.now() + clock.offsetMs;
    const due = [
      ...(await db.select({ at: deliveries.nextAttemptAt }).from(deliveries).where(eq(deliveries.state, 'queued'))),
      ...(await db.select({ at: inbound.nextAttemptAt }).from(inbound).where(eq(inbound.state, 'fetching'))),
    ].map((r) => r.at?.getTime() ?? Infinity);
    const next = Math.min(...due);
    if (next === Infinity || next <= now) return;
    const by = next - now + 1_000;
    if (clock.offsetMs + by > 110_000) return;
    clock.offsetMs += by;
    node().server.ctx.kick();
  };
}

describe('recipient node killed with SIGKILL while it fetches', () => {
  let child: ChildProcess | undefined;
  let a: TestNode | undefined;
  let db: TestDatabase | undefined;
  const dataDir = mkdtempSync(join(tmpdir(), 'pm-rkill-'));
  after(async () => {
    child?.kill('SIGKILL');
    if (child) await exited(child);
    await a?.stop();
    await db?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('stores every message exactly once after a restart, and the sender sees every delivery fetched', async () => {
    const N = 40;
    const clock = { offsetMs: 0 }; // the sender's clock: moved past its retry backoff instead of sleeping
    db = await testDatabase();
    const [pa, pb] = [await freePort(), await freePort()];
    const urlB = `https://127.0.0.1:${pb}`;
    const peers = `a.test=https://127.0.0.1:${pa},b.test=${urlB}`;
    a = await startNode({ domain: 'a.test', https: true, port: pa, peers, now: () => Date.now() + clock.offsetMs });
    const alice = await a.addUser('alice@a.test');
    const call = nodeClient(urlB, a.server.ctx.fetcher.dispatcher);
    // PGlite on disk (an in-memory database would not survive the kill), else PostgreSQL
    const childEnv = { PULLMAIL_QUEUE_LEASE_SECONDS: '3', ...(db.env.DATABASE_URL ? db.env : { PULLMAIL_DATA_DIR: dataDir }) };
    const startB = async () => {
      child = spawnNode({ domain: 'b.test', port: pb, publicUrl: urlB, peers, env: childEnv });
      await waitHealthy(call, 'node b up');
    };
    await startB();
    const bob = (await call('/api/v1/admin/users', { method: 'POST', token: ADMIN_TOKEN, json: { address: 'bob@b.test' } })).body.token as string;
    assert.equal((await call('/api/v1/rules', { method: 'POST', token: bob, json: { action: 'allow', pattern: '@a.test' } })).status, 201);

    // ~100 KB each, so fetching takes long enough to be cut in the middle
    const body = `${'pull me, then kill me. '.repeat(60)}\n`.repeat(70);
    const sending = (async () => {
      const ids: string[] = [];
      for (let i = 0; i < N; i++) {
        const r: Response = await a!.api('/api/v1/messages', { method: 'POST', token: alice, json: { to: ['bob@b.test'], subject: `msg ${i}`, text: `${i}\n${body}` } });
        assert.equal(r.status, 201);
        ids.push(((await r.json()) as Json).id);
      }
      return ids;
    })();

    // kill b as soon as it has pulled a few, while the rest are still being sent, notified and fetched
    let fetchedAtKill = 0;
    for (;;) {
      fetchedAtKill = (await stateCounts(a)).fetched ?? 0;
      if (fetchedAtKill >= 3) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    child!.kill('SIGKILL');
    await exited(child!);
    assert.ok(fetchedAtKill < N, `the kill must land mid-delivery (fetched ${fetchedAtKill} of ${N} before it)`);
    const ids = await sending;

    await startB();
    const skipBackoff = backoffSkipper(() => a!, clock);
    await waitFor('every delivery fetched', async () => {
      if ((await stateCounts(a!)).fetched === N) return true;
      await skipBackoff(); // notifications that met the dead node
      return false;
    }, 45_000);

    // the sender counts a fetch when it serves the bytes; the recipient stores them a moment later
    const inbox = async () => (await call('/api/v1/inbox?limit=200', { token: bob })).body;
    await waitFor('all stored', async () => (await inbox()).total >= N);
    const box = await inbox();
    assert.equal(box.total, N, 'every message exactly once');
    assert.deepEqual(box.messages.map((m: Json) => m.subject).sort(), Array.from({ length: N }, (_, i) => `msg ${i}`).sort());
    for (const id of ids) assert.deepEqual((await listDeliveries(a.server.ctx.db, id)).map((d) => d.state), ['fetched']);
    // and the bytes are whole: the recipient's copy of one message is what the sender composed
    const one = box.messages.find((m: Json) => m.subject === 'msg 0');
    const parsed = (await call(`/api/v1/inbox/${one.id}`, { token: bob })).body;
    assert.equal(parsed.text.replace(/\r\n/g, '\n'), `0\n${body}`);
  });
});

describe('peers that answer notifications slowly or with garbage', () => {
  const peers: MisbehavingPeer[] = [];
  let a: TestNode;
  let b: TestNode;
  let alice: string;
  let offsetMs = 0;
  let original: Fetcher;
  let quick: Fetcher;

  before(async () => {
    const json = (res: import('node:http').ServerResponse, status: number, body: string) =>
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
    peers.push(
      // 200 with an HTML error page from some proxy
      await startMisbehavingPeer('junk.test', (_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>502 Bad Gateway</html>')),
      // 200 with JSON that says nothing
      await startMisbehavingPeer('empty.test', (_req, res) => json(res, 200, '{}')),
      // a "decision" that is a property every object has
      await startMisbehavingPeer('proto.test', (_req, res) => json(res, 200, '{"decision":"constructor"}')),
      // a batch answered with fewer results than notifications
      await startMisbehavingPeer('short.test', (req, res) => json(res, 200, JSON.stringify({ results: Array(Math.max(0, notificationCount(req.body) - 1)).fill({ decision: 'fetch' }) }))),
      // an endless answer: 5 MiB of JSON-ish bytes, chunked, over the 4 MiB cap
      await startMisbehavingPeer('huge.test', (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        const chunk = Buffer.alloc(64 * 1024, 0x20);
        let sent = 0;
        const more = () => {
          while (sent < 80 && !res.destroyed) {
            sent++;
            if (!res.write(chunk)) return void res.once('drain', more);
          }
          res.end();
        };
        more();
      }),
      // a Content-Length announcing 10 MiB
      await startMisbehavingPeer('biglen.test', (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': 10 * 1024 * 1024 });
        res.write('{"results":');
      }),
      // accepts the request and never answers
      await startMisbehavingPeer('stall.test', () => undefined),
      // sends headers and the start of a body, then nothing
      await startMisbehavingPeer('trickle.test', (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"decision":"fe');
      }),
    );
    const [pa, pb] = [await freePort(), await freePort()];
    const map = [`a.test=https://127.0.0.1:${pa}`, `b.test=https://127.0.0.1:${pb}`, ...peers.map((p) => `${p.domain}=${p.url}`)].join(',');
    a = await startNode({ domain: 'a.test', https: true, port: pa, peers: map, now: () => Date.now() + offsetMs });
    b = await startNode({ domain: 'b.test', https: true, port: pb, peers: map });
    alice = await a.addUser('alice@a.test');
    const bob = await b.addUser('bob@b.test');
    await b.api('/api/v1/rules', { method: 'POST', token: bob, json: { action: 'allow', pattern: '@a.test' } });
    // peer timeouts are 30 s with no setting to change them (peers/fetcher.ts): the notify queue gets
    // the same real fetcher built with a 1 s timeout, so a stalled peer is given up on in this test's time
    original = a.server.ctx.fetcher;
    quick = createFetcher({ allowPrivate: true, trustCa: testPki().ca, timeoutMs: 1_000 });
    a.server.ctx.fetcher = quick;
  });
  after(async () => {
    await Promise.all(peers.map((p) => p.close()));
    if (a) a.server.ctx.fetcher = original;
    await quick?.close();
    await a?.stop();
    await b?.stop();
  });

  const expectations: [string, RegExp][] = [
    ['junk.test', /answered 200/],
    ['empty.test', /no decision|bad_answer|malformed/],
    ['proto.test', /no decision/],
    ['short.test', /malformed result/],
    ['huge.test', /exceeds/],
    ['biglen.test', /exceeds/],
    ['stall.test', /timeout/i],
    ['trickle.test', /timeout/i],
  ];

  it('keeps their deliveries queued with a clear last error, retries them, and delivers to good peers meanwhile', async () => {
    const to = ['bob@b.test', 'x@junk.test', 'x@empty.test', 'x@proto.test', 'x@short.test', 'y@short.test', 'x@huge.test', 'x@biglen.test', 'x@stall.test', 'x@trickle.test'];
    const sent = await a.api('/api/v1/messages', { method: 'POST', token: alice, json: { to, subject: 'to everyone', text: 'hi' } });
    assert.equal(sent.status, 201);
    const { id } = (await sent.json()) as Json;
    const byRcpt = async () => new Map((await listDeliveries(a.server.ctx.db, id)).map((d) => [d.rcpt, d]));

    const first = await waitFor('every bad peer tried once and bob served', async () => {
      const ds = await byRcpt();
      const settled = [...ds.values()].every((d) => d.rcpt === 'bob@b.test' ? d.state === 'fetched' : d.lastError || d.state !== 'queued');
      return settled && ds;
    });
    assert.equal(first.get('bob@b.test')!.state, 'fetched', 'a good peer is not held up by bad ones');
    for (const [domain, error] of expectations) {
      for (const d of [...first.values()].filter((x) => x.rcptDomain === domain)) {
        assert.deepEqual([d.rcpt, d.state], [d.rcpt, 'queued'], `${d.rcpt}: stays queued (last error: ${d.lastError})`);
        assert.match(d.lastError ?? '', error, `${d.rcpt}: a clear last error`);
        assert.ok(d.nextAttemptAt && d.nextAttemptAt.getTime() > Date.now() + offsetMs, `${d.rcpt}: a retry is scheduled`);
      }
    }

    // past the backoff: every bad peer is asked again
    const before = new Map(peers.map((p) => [p.domain, p.notifications]));
    offsetMs += 40_000;
    a.server.ctx.kick();
    await waitFor('every bad peer asked again', async () => peers.every((p) => p.notifications > before.get(p.domain)!));
    const second = await waitFor('second attempts recorded', async () => {
      const ds = await byRcpt();
      return [...ds.values()].every((d) => d.rcpt === 'bob@b.test' || d.attempts >= 2) && ds;
    });
    for (const d of second.values()) {
      if (d.rcpt === 'bob@b.test') continue;
      assert.equal(d.state, 'queued', `${d.rcpt}: still queued after the second attempt`);
      assert.ok(d.lastError, `${d.rcpt}: last error kept`);
    }
    assert.equal((await a.api('/healthz')).status, 200, 'node a is fine');
  });

  // Known gap: the notify tick awaits every peer it claimed work for, so one peer that accepts the
  // connection and never answers stops all outgoing notifications for the fetcher's 30 s timeout,
  // at every retry. This test fails until notify-worker stops waiting for a slow peer's round.
  it('does not hold up other peers while one takes its full 30 s to answer', async () => {
    a.server.ctx.fetcher = original; // the real 30 s timeout from here on
    try {
      const stall = peers.find((p) => p.domain === 'stall.test')!;
      await waitFor('earlier requests to stall.test cut off by the 1 s fetcher', async () => stall.open() === 0);
      const asked = stall.notifications;
      const slow = await a.api('/api/v1/messages', { method: 'POST', token: alice, json: { to: ['z@stall.test'], subject: 'into the void', text: 'x' } });
      assert.equal(slow.status, 201);
      await waitFor('stall.test holding a notification', async () => stall.notifications > asked && stall.open() > 0);
      const quickOne = await a.api('/api/v1/messages', { method: 'POST', token: alice, json: { to: ['bob@b.test'], subject: 'meanwhile', text: 'x' } });
      const { id } = (await quickOne.json()) as Json;
      await waitFor('bob served while stall.test still stalls', async () => (await listDeliveries(a.server.ctx.db, id))[0].state === 'fetched', 10_000);
      assert.ok(stall.open() > 0, 'stall.test is still holding its request');
    } finally {
      a.server.ctx.fetcher = quick;
    }
  });
});
