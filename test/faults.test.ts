// Fault tests (issue 7): the recipient node killed with SIGKILL while it fetches; PostgreSQL sessions
// killed under load, and PostgreSQL restarted under load (through a proxy that drops and refuses
// connections); peers that answer notifications slowly or with garbage; a sender node that hangs on
// fetches; a database that refuses writes. Real node processes, real PostgreSQL, real sockets.
// Nothing lost, nothing delivered twice, no process crashes, a clear error wherever a caller is told no.
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
import { startStallingProxy, type StallingProxy } from './harness/stalling-proxy.ts';
import { ADMIN_TOKEN, freePort, startNode, type TestNode } from './harness/node.ts';
import { queryNodeDb, setReadOnly, terminateBackends } from './harness/pg-admin.ts';
import { postgresSkipReason } from './harness/postgres.ts';
import { startTcpProxy, type TcpProxy } from './harness/tcp-proxy.ts';
import { testPki } from './harness/tls.ts';
import { waitFor } from './harness/wait.ts';

type Json = Record<string, any>;

const noPostgres = await postgresSkipReason(process.env.DATABASE_URL, 'a PostgreSQL server of our own to disturb');

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
    // polled every 5 ms: the kill must land before all N are through
    const fetchedAtKill = await waitFor('b to pull its first 3 messages', async () => {
      const fetched = (await stateCounts(a!)).fetched ?? 0;
      return fetched >= 3 && fetched;
    }, 60_000, 5);
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

/** How a test disturbs node a's PostgreSQL while it is under load. */
interface DatabaseTrouble {
  /** DATABASE_URL for the node (the test database itself, or a way to it that can be cut). */
  nodeUrl(db: TestDatabase): Promise<string>;
  /** Runs until `stop` is set; resolves with how many times it struck. */
  strike(db: TestDatabase, stop: () => boolean): Promise<number>;
  close(): Promise<void>;
}

function databaseTroubleSuite(name: string, trouble: () => DatabaseTrouble) {
  describe(name, { skip: noPostgres }, () => {
    let child: ChildProcess | undefined;
    let b: TestNode | undefined;
    let dbA: TestDatabase | undefined;
    let t: DatabaseTrouble | undefined;
    // the API client waits up to 2 minutes for each answer: while the database comes and goes an answer
    // may be slow (connection attempts time out after 10 s), but it must come
    const patient = new Agent({ connect: { ca: testPki().ca }, headersTimeout: 120_000, bodyTimeout: 120_000 });
    after(async () => {
      await patient.close();
      child?.kill('SIGKILL');
      if (child) await exited(child);
      await b?.stop();
      await t?.close();
      await dbA?.drop();
    });

    it('keeps the node process up, answers JSON errors meanwhile, and delivers every accepted message exactly once', async () => {
      const clock = { offsetMs: 0 }; // the recipient's clock, moved past its fetch backoff afterwards
      t = trouble();
      dbA = await testDatabase();
      const [pa, pb] = [await freePort(), await freePort()];
      const urlA = `https://127.0.0.1:${pa}`;
      const peers = `a.test=${urlA},b.test=https://127.0.0.1:${pb}`;
      b = await startNode({ domain: 'b.test', https: true, port: pb, peers, now: () => Date.now() + clock.offsetMs });
      const bob = await b.addUser('bob@b.test');
      assert.equal((await b.api('/api/v1/rules', { method: 'POST', token: bob, json: { action: 'allow', pattern: '@a.test' } })).status, 201);
      child = spawnNode({ domain: 'a.test', port: pa, publicUrl: urlA, peers, env: { DATABASE_URL: await t.nodeUrl(dbA), PULLMAIL_QUEUE_LEASE_SECONDS: '3' } });
      const call = nodeClient(urlA, patient);
      await waitHealthy(call, 'node a up');
      const alice = (await call('/api/v1/admin/users', { method: 'POST', token: ADMIN_TOKEN, json: { address: 'alice@a.test' } })).body.token as string;

      let sending = true;
      const striking = t.strike(dbA, () => !sending);
      const accepted = new Map<string, string>(); // subject -> id
      const refused: string[] = [];
      const lost: string[] = [];
      const sends = Promise.all(Array.from({ length: 8 }, async (_, w) => {
        // enough sends that some land between two strikes: each request now takes a few more
        // statements (login throttle, send limit, Sent folder), so fewer fit in a ~100 ms window
        for (let i = 0; i < 12; i++) {
          const subject = `load ${w}.${i}`;
          // worker 0 sends 600 KB messages: their bodies are blobs, written in chunks while the database goes away
          const text = `${subject}\n${'x'.repeat(w === 0 ? 600_000 : 3000)}`;
          const r = await call('/api/v1/messages', { method: 'POST', token: alice, json: { to: ['bob@b.test'], subject, text } })
            .catch((err: Error) => ({ status: 0, body: { transport: `${err.message}: ${String(err.cause)}` } as Json }));
          if (r.status === 0) return void lost.push(`${subject}: ${r.body.transport}`); // the node is gone: checked below
          if (r.status === 201) accepted.set(subject, r.body.id);
          else {
            assert.ok(r.status >= 500, `${subject}: ${r.status} ${JSON.stringify(r.body)}`);
            assert.equal(typeof r.body.error, 'string', `${subject}: a JSON error body`);
            assert.equal(typeof r.body.detail, 'string');
            refused.push(subject);
          }
        }
      }));
      let strikes = 0;
      try {
        await sends;
        // keep striking a little longer, while a notifies and serves fetches: how long the trouble
        // lasts is part of the fault being simulated, not a wait for something
        await new Promise((r) => setTimeout(r, 1000));
      } finally {
        sending = false;
        strikes = await striking;
      }
      assert.ok(strikes > 0, 'the database was disturbed');
      assert.ok(alive(child), `node a must outlive ${strikes} strikes on its database, but exited (code ${child.exitCode}, signal ${child.signalCode}; its stderr says why)`);
      assert.deepEqual(lost, [], 'every send was answered');
      assert.ok(accepted.size > 0, 'some sends got through');
      await waitHealthy(call, 'node a answers again');

      const direct = dbA.env.DATABASE_URL;
      const notFetched = async () => {
        const rows = await queryNodeDb<{ state: string; last_error: string | null; n: number }>(direct, `select state, last_error, count(*)::int as n from deliveries where message_id in (${[...accepted.values()].map((id) => `'${id}'`).join(',')}) and state <> 'fetched' group by 1, 2`);
        const pending = await b!.server.ctx.db.select().from(inbound).where(ne(inbound.state, 'stored'));
        return rows.length || pending.length ? { rows, pending: pending.map((r) => [r.state, r.lastError, r.nextAttemptAt, r.attempts]) } : undefined;
      };
      const skipBackoff = backoffSkipper(() => b!, clock); // fetches that met a 503 from a
      await waitFor('every accepted message fetched', async () => {
        if (!(await notFetched())) return true;
        await skipBackoff();
        return false;
      }, 30_000).catch(async (err) => {
        throw new Error(`${err.message}: ${JSON.stringify(await notFetched())}`);
      });
      const box = (await (await b.api('/api/v1/inbox?limit=200', { token: bob })).json()) as Json;
      const subjects: string[] = box.messages.map((m: Json) => m.subject);
      assert.equal(new Set(subjects).size, subjects.length, 'nothing delivered twice');
      for (const s of accepted.keys()) assert.ok(subjects.includes(s), `${s} was accepted and must arrive`);
      // a refused send may still have committed (its answer lost with the session), but never half
      for (const s of subjects) assert.ok(accepted.has(s) || refused.includes(s), `${s} was sent`);
      for (const m of box.messages as Json[]) {
        if (m.subject.startsWith('load 0.')) assert.ok(m.size > 600_000, `${m.subject}: the large body arrived whole (${m.size} bytes)`);
      }
      const orphans = await queryNodeDb(direct, 'select count(*)::int as n from messages m where not exists (select 1 from deliveries d where d.message_id = m.id) or not exists (select 1 from message_versions v where v.message_id = m.id)');
      assert.equal(orphans[0].n, 0, 'no message without its bytes or deliveries');
      const halfBlobs = await queryNodeDb(direct, 'select count(*)::int as n from message_versions v join blobs b on b.id = v.blob_id where b.sha256 is null or b.size <> v.size');
      assert.equal(halfBlobs[0].n, 0, 'no message names a blob that was not written to its end');
      assert.ok(alive(child), 'node a still up at the end');
    });
  });
}

databaseTroubleSuite('PostgreSQL sessions of a node terminated under load', () => ({
  nodeUrl: async (db) => db.env.DATABASE_URL,
  // the PostgreSQL side of a restart: every session of a's database killed, again and again
  async strike(db, stop) {
    let kills = 0;
    while (!stop()) {
      kills += await terminateBackends(db.env.DATABASE_URL);
      // the pace of the kills is the fault under test (a session survives ~100 ms at a time)
      await new Promise((r) => setTimeout(r, 100));
    }
    return kills;
  },
  close: async () => {},
}));

let pgProxy: TcpProxy | undefined;
databaseTroubleSuite('PostgreSQL restarted under load (unreachable for a second at a time)', () => ({
  async nodeUrl(db) {
    const direct = new URL(db.env.DATABASE_URL);
    pgProxy = await startTcpProxy({ host: direct.hostname, port: Number(direct.port || 5432) });
    direct.host = `127.0.0.1:${pgProxy.port}`;
    return direct.href;
  },
  // as the node sees a restart: every session dropped, then connections refused for a while
  async strike(_db, stop) {
    let restarts = 0;
    while (!stop()) {
      // up 700 ms, down 1 s: the rhythm of the simulated restarts is the fault under test, not a wait
      await new Promise((r) => setTimeout(r, 700));
      await pgProxy!.down();
      restarts++;
      await new Promise((r) => setTimeout(r, 1000));
      await pgProxy!.up();
    }
    return restarts;
  },
  close: async () => pgProxy?.close(),
}));

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

  // a peer that accepts the connection and never answers holds its own round for the fetcher's 30 s,
  // not the notify queue
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

describe('a database that refuses writes (disk full)', { skip: noPostgres && 'PGlite cannot be made to refuse writes from outside the process; runs with DATABASE_URL' }, () => {
  let child: ChildProcess | undefined;
  let db: TestDatabase | undefined;
  const dispatcher = new Agent({ connect: { ca: testPki().ca } });
  after(async () => {
    if (db) await setReadOnly(db.env.DATABASE_URL, false).catch(() => undefined);
    child?.kill('SIGKILL');
    if (child) await exited(child);
    await db?.drop();
    await dispatcher.close();
  });

  it('answers a clear 5xx JSON error, writes nothing, and sends again once writes work', async () => {
    db = await testDatabase();
    const url = db.env.DATABASE_URL;
    const port = await freePort();
    const base = `https://127.0.0.1:${port}`;
    child = spawnNode({ domain: 'a.test', port, publicUrl: base, peers: '', env: { ...db.env, PULLMAIL_QUEUE_LEASE_SECONDS: '3' } });
    const call: Call = nodeClient(base, dispatcher);
    await waitHealthy(call, 'node up');
    const alice = (await call('/api/v1/admin/users', { method: 'POST', token: ADMIN_TOKEN, json: { address: 'alice@a.test' } })).body.token as string;
    const bob = (await call('/api/v1/admin/users', { method: 'POST', token: ADMIN_TOKEN, json: { address: 'bob@a.test' } })).body.token as string;
    assert.equal((await call('/api/v1/rules', { method: 'POST', token: bob, json: { action: 'allow', pattern: '@a.test' } })).status, 201);
    const send = (subject: string) => call('/api/v1/messages', { method: 'POST', token: alice, json: { to: ['bob@a.test'], subject, text: 'x' } });
    const inbox = async () => ((await call('/api/v1/inbox', { token: bob })).body.messages as Json[]).map((m) => m.subject).sort();
    assert.equal((await send('before')).status, 201);
    await waitFor('before delivered', async () => (await inbox()).length === 1);
    const rows = async () => (await queryNodeDb(url, 'select (select count(*) from messages)::int as m, (select count(*) from message_versions)::int as v, (select count(*) from deliveries)::int as d, (select count(*) from correspondents)::int as c'))[0];
    const stored = await rows();

    await setReadOnly(url, true);
    for (const subject of ['full 1', 'full 2', 'full 3']) {
      const r = await send(subject);
      assert.ok(r.status >= 500 && r.status < 600, `${subject}: ${r.status} ${JSON.stringify(r.body)}`);
      assert.deepEqual(Object.keys(r.body).sort(), ['detail', 'error'], `${subject}: a JSON error body`);
      assert.equal(r.body.error, 'unavailable', `${subject}: says the store is unavailable: ${JSON.stringify(r.body)}`);
    }
    assert.deepEqual(await rows(), stored, 'nothing half-written');
    assert.ok(alive(child), 'node still up');

    await setReadOnly(url, false);
    const again = await waitFor('a send accepted again', async () => {
      const r = await send('after');
      return r.status === 201 && r;
    });
    assert.equal(again.status, 201);
    await waitFor('after delivered', async () => (await inbox()).includes('after'));
    assert.deepEqual(await inbox(), ['after', 'before']);
    assert.ok(alive(child), 'node still up at the end');
  });
});

describe('a sender node that never answers fetches', () => {
  const dispatcher = new Agent({ connect: { ca: testPki().ca } });
  let proxy: StallingProxy | undefined;
  const nodes: TestNode[] = [];
  after(async () => {
    await proxy?.close();
    for (const n of nodes) await n.stop();
    await dispatcher.close();
  });

  it('does not hold up fetches from other senders while one hangs for its full 30 s', async () => {
    // c.test answers everything but its message fetches, which hang: b's fetch of c's mail waits out
    // the fetcher's 30 s timeout while a.test's mail must still be fetched
    proxy = await startStallingProxy((method, path) => method === 'GET' && path.startsWith('/pm/v1/messages/'), dispatcher);
    const [pa, pb, pc] = [await freePort(), await freePort(), await freePort()];
    const peers = `a.test=https://127.0.0.1:${pa},b.test=https://127.0.0.1:${pb},c.test=${proxy.url}`;
    const a = await startNode({ domain: 'a.test', https: true, port: pa, peers });
    nodes.push(a);
    const b = await startNode({ domain: 'b.test', https: true, port: pb, peers });
    nodes.push(b);
    const c = await startNode({ domain: 'c.test', https: true, port: pc, peers, env: { PULLMAIL_PUBLIC_URL: proxy.url } });
    nodes.push(c);
    proxy.target = c.url;
    const bob = await b.addUser('bob@b.test');
    for (const pattern of ['@a.test', '@c.test']) assert.equal((await b.api('/api/v1/rules', { method: 'POST', token: bob, json: { action: 'allow', pattern } })).status, 201);
    const carol = await c.addUser('carol@c.test');
    const alice = await a.addUser('alice@a.test');

    const stuck = await c.api('/api/v1/messages', { method: 'POST', token: carol, json: { to: ['bob@b.test'], subject: 'from the hanging node', text: 'x' } });
    assert.equal(stuck.status, 201);
    await waitFor('b fetching from c, and c hanging', async () => proxy!.stalled() > 0);

    const sent = await a.api('/api/v1/messages', { method: 'POST', token: alice, json: { to: ['bob@b.test'], subject: 'from a working node', text: 'x' } });
    const { id } = (await sent.json()) as Json;
    await waitFor('a\'s message stored at b', async () => {
      const inbox = (await (await b.api('/api/v1/inbox', { token: bob })).json()) as Json;
      return inbox.messages.some((m: Json) => m.subject === 'from a working node');
    }, 10_000);
    assert.equal((await listDeliveries(a.server.ctx.db, id))[0].state, 'fetched');
    assert.ok(proxy.stalled() > 0, 'c is still holding b\'s fetch');
  });
});
