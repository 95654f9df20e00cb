// Two node processes for a.test on one PostgreSQL database, behind no balancer: sends go to both,
// both queues drain the same tables. 1,000 messages reach bob's node, none lost, none twice.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, describe, it } from 'node:test';
import { testDatabase, type TestDatabase } from './harness/database.ts';
import { nodeClient, spawnNode, waitHealthy, type Call } from './harness/child-node.ts';
import { ADMIN_TOKEN, freePort, startNode, type TestNode } from './harness/node.ts';
import { postgresSkipReason } from './harness/postgres.ts';
import { waitFor } from './harness/wait.ts';
import postgres from 'postgres';

// runs in the PostgreSQL pass of the suite (DATABASE_URL set); PGlite is one process by design
const PG_URL = process.env.DATABASE_URL;

describe('two processes on one PostgreSQL', () => {
  const children: ChildProcess[] = [];
  let b: TestNode | undefined;
  let db: TestDatabase | undefined;
  after(async () => {
    for (const c of children) c.kill('SIGKILL');
    await b?.stop();
    await db?.drop();
  });

  it('deliver 1,000 messages with none lost and none duplicated', async (t) => {
    const skip = await postgresSkipReason(PG_URL, 'two processes need PostgreSQL');
    if (skip) return t.skip(skip);
    const N = 1000;
    db = await testDatabase();
    const [p1, p2, pb] = [await freePort(), await freePort(), await freePort()];
    const publicA = `https://127.0.0.1:${p1}`;
    const peers = `a.test=${publicA},b.test=https://127.0.0.1:${pb}`;
    b = await startNode({ domain: 'b.test', https: true, port: pb, peers, env: { PULLMAIL_RATE_DOMAIN: '100000/60', PULLMAIL_RATE_SENDER: '100000/60' } });
    const bob = await b.addUser('bob@b.test');
    await b.api('/api/v1/rules', { method: 'POST', token: bob, json: { action: 'allow', pattern: '@a.test' } });

    const dispatcher = b.server.ctx.fetcher.dispatcher; // trusts the test CA
    // both answer for one public URL, as behind a balancer
    const start = (port: number) => children.push(spawnNode({ domain: 'a.test', port, publicUrl: publicA, peers, env: { DATABASE_URL: db!.env.DATABASE_URL } }));
    const clients = new Map([p1, p2].map((p) => [p, nodeClient(`https://127.0.0.1:${p}`, dispatcher)]));
    const call = (port: number, path: string, init?: Parameters<Call>[1]) => clients.get(port)!(path, init);
    // both start at once: migrations must not trip over each other
    start(p1);
    start(p2);
    for (const p of [p1, p2]) await waitHealthy(clients.get(p)!, `process on ${p}`);

    const alice = (await call(p1, '/api/v1/admin/users', { method: 'POST', token: ADMIN_TOKEN, json: { address: 'alice@a.test' } })).body.token as string;
    let next = 0;
    const lane = async (lanePort: number) => {
      while (next < N) {
        const i = next++;
        const r = await call(lanePort, '/api/v1/messages', { method: 'POST', token: alice, json: { to: ['bob@b.test'], subject: `m${i}`, text: `body ${i}` } });
        assert.equal(r.status, 201);
      }
    };
    const t0 = Date.now();
    const progress = setInterval(async () => { try { console.log('t', Date.now() - t0, 'next', next, 'stored', await stored()); } catch {} }, 5000);
    await Promise.all([p1, p2, p1, p2, p1, p2, p1, p2].map(lane));
    console.log('sent in', Date.now() - t0);

    const stored = async () => ((await (await b!.api('/api/v1/inbox?limit=1', { token: bob })).json()) as { total: number }).total;
    try { await waitFor(`${N} stored`, async () => (await stored()) >= N, 60_000); } catch (e) {
      const sql = postgres(db!.env.DATABASE_URL, { max: 1 });
      console.log('stored', await stored());
      console.log(await sql`select state, notify_kind, attempts, last_error, count(*)::int n, min(next_attempt_at) nx, min(lease_until) lu, count(lease_owner)::int owners from deliveries group by 1,2,3,4`);
      console.log(await sql`select * from queue_workers`);
      console.log(await b!.server.ctx.db.execute(`select state, attempts, last_error, count(*)::int n from inbound group by 1,2,3`));
      await sql.end();
      throw e;
    } finally { clearInterval(progress); }
    const subjects = new Set<string>();
    let cursor: string | undefined;
    do {
      const page = (await (await b.api(`/api/v1/inbox?limit=200${cursor ? `&cursor=${cursor}` : ''}`, { token: bob })).json()) as { messages: { subject: string }[]; cursor?: string };
      for (const m of page.messages) {
        assert.ok(!subjects.has(m.subject), `${m.subject} stored twice`);
        subjects.add(m.subject);
      }
      cursor = page.cursor;
    } while (cursor);
    assert.equal(subjects.size, N);
    assert.equal(await stored(), N);
  });
});
