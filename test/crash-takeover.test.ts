// Crash recovery without waiting out the lease (issue 12): a process SIGKILLed while it holds a
// notification is replaced, on the same PostgreSQL, by one that sends it again within seconds, although
// PULLMAIL_QUEUE_LEASE_SECONDS is ten minutes. And per-user limits hold for both processes together.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, describe, it } from 'node:test';
import { Agent } from 'undici';
import { testDatabase, type TestDatabase } from './harness/database.ts';
import { nodeClient, spawnNode, waitHealthy } from './harness/child-node.ts';
import { startMisbehavingPeer, type MisbehavingPeer } from './harness/misbehaving-peer.ts';
import { ADMIN_TOKEN, freePort } from './harness/node.ts';
import { testPki } from './harness/tls.ts';
import { waitFor } from './harness/wait.ts';

// PostgreSQL pass only (DATABASE_URL set): PGlite is one process by design
const PG_URL = process.env.DATABASE_URL;

describe('several processes on one PostgreSQL: leases and limits', { skip: PG_URL ? undefined : 'needs DATABASE_URL (PostgreSQL)' }, () => {
  const children: ChildProcess[] = [];
  let db: TestDatabase | undefined;
  let peer: MisbehavingPeer | undefined;
  after(async () => {
    for (const c of children) c.kill('SIGKILL');
    await peer?.close();
    await db?.drop();
  });
  const dispatcher = new Agent({ connect: { ca: testPki().ca } });

  async function start(env: Record<string, string>) {
    const port = await freePort();
    const url = `https://127.0.0.1:${port}`;
    const child = spawnNode({ domain: 'a.test', port, publicUrl: url, peers: `b.test=${peer!.url}`, env: { DATABASE_URL: db!.env.DATABASE_URL, ...env } });
    children.push(child);
    const call = nodeClient(url, dispatcher);
    await waitHealthy(call, `process on ${port}`);
    return { child, call };
  }

  it('a SIGKILLed process\'s claimed notification is sent again by another in seconds, not after the lease', async (t) => {
    db = await testDatabase();
    // b.test takes every notification and never answers: the sending process holds its lease
    peer = await startMisbehavingPeer('b.test', () => {});
    const env = { PULLMAIL_QUEUE_LEASE_SECONDS: '600' };
    const first = await start(env);
    const alice = (await first.call('/api/v1/admin/users', { method: 'POST', token: ADMIN_TOKEN, json: { address: 'alice@a.test' } })).body.token as string;
    const sent = await first.call('/api/v1/messages', { method: 'POST', token: alice, json: { to: ['bob@b.test'], subject: 'hello', text: 'hi' } });
    assert.equal(sent.status, 201);
    await waitFor('the first process notifies', async () => peer!.notifications >= 1, 30_000);
    first.child.kill('SIGKILL');
    const killedAt = Date.now();
    await start(env);
    await waitFor('another process notifies again', async () => peer!.notifications >= 2, 120_000);
    const seconds = (Date.now() - killedAt) / 1000;
    t.diagnostic(`taken over ${seconds.toFixed(1)} s after the SIGKILL (process start included)`);
    assert.ok(seconds < 120, `taken over after ${seconds} s, well before the 600 s lease`);
  });

  it('a user\'s send limit counts sends through both processes', async () => {
    const env = { PULLMAIL_SEND_LIMIT: '3/3600' };
    const [p, q] = [await start(env), await start(env)];
    const carol = (await p.call('/api/v1/admin/users', { method: 'POST', token: ADMIN_TOKEN, json: { address: 'carol@a.test' } })).body.token as string;
    const send = (n: typeof p) => n.call('/api/v1/messages', { method: 'POST', token: carol, json: { to: ['bob@b.test'], subject: 's', text: 't' } });
    assert.deepEqual([(await send(p)).status, (await send(q)).status, (await send(p)).status], [201, 201, 201]);
    assert.equal((await send(q)).status, 429, 'the fourth send, through the other process, is over the limit');
    assert.equal((await send(p)).status, 429);
  });
});
