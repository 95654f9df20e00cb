// Failures between nodes: the recipient node is down for a while; the sender node is killed with
// SIGKILL in the middle of its queue and restarted. Nothing is lost, nothing arrives twice.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { listDeliveries } from '../packages/server/src/store/messages.ts';
import { testDatabase } from './harness/database.ts';
import { nodeClient, spawnNode, waitHealthy } from './harness/child-node.ts';
import { ADMIN_TOKEN, freePort, startNode, type TestNode } from './harness/node.ts';
import { waitFor } from './harness/wait.ts';

type Json = Record<string, any>;

describe('recipient node down', () => {
  const nodes: TestNode[] = [];
  after(() => Promise.all(nodes.map((n) => n.stop())));

  it('keeps the delivery queued and delivers once the recipient node is back', async () => {
    let offsetMs = 0;
    const now = () => Date.now() + offsetMs; // one clock for both nodes, moved forward instead of sleeping
    const [pa, pb] = [await freePort(), await freePort()];
    const peers = `a.test=https://127.0.0.1:${pa},b.test=https://127.0.0.1:${pb}`;
    const a = await startNode({ domain: 'a.test', https: true, port: pa, peers, now });
    nodes.push(a);
    const alice = await a.addUser('alice@a.test');
    const sent = await a.api('/api/v1/messages', { method: 'POST', token: alice, json: { to: ['bob@b.test'], subject: 'are you there?', text: 'x' } });
    const { id } = (await sent.json()) as Json;

    const [pending] = await waitFor('a failed attempt', async () => {
      const ds = await listDeliveries(a.server.ctx.db, id);
      return ds[0].lastError ? ds : undefined;
    });
    assert.equal(pending.state, 'queued');
    assert.match(pending.lastError!, /127\.0\.0\.1|ECONNREFUSED|connect/i);

    const b = await startNode({ domain: 'b.test', https: true, port: pb, peers, now });
    nodes.push(b);
    const bob = await b.addUser('bob@b.test');
    await b.api('/api/v1/rules', { method: 'POST', token: bob, json: { action: 'allow', pattern: '@a.test' } });

    offsetMs += 10 * 60_000; // past the backoff
    a.server.ctx.kick();
    await waitFor('fetched', async () => ((await (await a.api(`/api/v1/messages/${id}`, { token: alice })).json()) as Json).deliveries[0].state === 'fetched');
    const inbox = (await (await b.api('/api/v1/inbox', { token: bob })).json()) as Json;
    assert.equal(inbox.total, 1);
  });
});

describe('recipient node gone for good', () => {
  let a: TestNode | undefined;
  after(() => a?.stop());

  it('gives up after the notification retry period and says expired', async () => {
    let offsetMs = 0;
    const now = () => Date.now() + offsetMs;
    const dead = await freePort(); // nothing will ever listen here
    a = await startNode({ domain: 'a.test', https: true, now, peers: `c.test=https://127.0.0.1:${dead}` });
    const alice = await a.addUser('alice@a.test');
    const sent = (await (await a.api('/api/v1/messages', { method: 'POST', token: alice, json: { to: ['carol@c.test'], subject: 'hello?', text: 'x' } })).json()) as Json;
    const state = async () => ((await (await a!.api(`/api/v1/messages/${sent.id}`, { token: alice })).json()) as Json).deliveries[0];
    await waitFor('a failed attempt', async () => (await listDeliveries(a!.server.ctx.db, sent.id))[0].lastError);
    assert.equal((await state()).state, 'queued');
    offsetMs += 6 * 86_400_000; // past PULLMAIL_NOTIFY_RETRY_DAYS (5)
    a.server.ctx.kick();
    const final = await waitFor('expired', async () => {
      const d = await state();
      return d.state === 'expired' && d;
    });
    assert.match(final.reason, /127\.0\.0\.1|connect|ECONNREFUSED/i);
  });
});

describe('sender node killed with SIGKILL mid-queue', () => {
  let child: ChildProcess | undefined;
  let b: TestNode | undefined;
  const dataDir = mkdtempSync(join(tmpdir(), 'pm-kill-'));
  after(async () => {
    child?.kill('SIGKILL');
    await b?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('delivers every message exactly once after a restart', async () => {
    const N = 40;
    const db = await testDatabase();
    const [pa, pb] = [await freePort(), await freePort()];
    const urlA = `https://127.0.0.1:${pa}`;
    const peers = `a.test=${urlA},b.test=https://127.0.0.1:${pb}`;
    b = await startNode({ domain: 'b.test', https: true, port: pb, peers });
    const bob = await b.addUser('bob@b.test');
    await b.api('/api/v1/rules', { method: 'POST', token: bob, json: { action: 'allow', pattern: '@a.test' } });

    const childEnv = {
      PULLMAIL_QUEUE_LEASE_SECONDS: '3',
      // PGlite on disk by default (an in-memory database would not survive the kill), else PostgreSQL
      ...(db.env.DATABASE_URL ? db.env : { PULLMAIL_DATA_DIR: dataDir }),
    };
    const call = nodeClient(urlA, b.server.ctx.fetcher.dispatcher);
    const startA = async () => {
      child = spawnNode({ domain: 'a.test', port: pa, publicUrl: urlA, peers, env: childEnv });
      await waitHealthy(call, 'node a up');
    };

    await startA();
    const alice = (await call('/api/v1/admin/users', { method: 'POST', token: ADMIN_TOKEN, json: { address: 'alice@a.test' } })).body.token as string;
    const ids: string[] = [];
    for (let i = 0; i < N; i++) {
      const r = await call('/api/v1/messages', { method: 'POST', token: alice, json: { to: ['bob@b.test'], subject: `msg ${i}`, text: `body ${i}` } });
      assert.equal(r.status, 201);
      ids.push(r.body.id);
    }
    child!.kill('SIGKILL'); // mid-queue: some notified, some fetched, some not yet tried
    await new Promise((r) => child!.once('exit', r));

    await startA();
    await waitFor('all fetched', async () => {
      for (const id of ids) {
        const s = await call(`/api/v1/messages/${id}`, { token: alice });
        if (s.status !== 200) throw new Error(`status of ${id}: ${s.status} ${JSON.stringify(s.body)}`);
        if (s.body.deliveries[0].state !== 'fetched') return false;
      }
      return true;
    }, 60_000);
    // the sender counts a fetch when it serves the bytes; the recipient stores them a moment later
    const inboxNow = async () => (await (await b!.api('/api/v1/inbox?limit=200', { token: bob })).json()) as Json;
    await waitFor('all stored', async () => (await inboxNow()).total >= N);
    const inbox = await inboxNow();
    assert.equal(inbox.total, N, 'every message exactly once');
    const subjects = inbox.messages.map((m: Json) => m.subject).sort();
    assert.deepEqual(subjects, Array.from({ length: N }, (_, i) => `msg ${i}`).sort());
    child!.kill('SIGTERM');
    await new Promise((r) => child!.once('exit', r));
    child = undefined;
    await db.drop();
  });
});
