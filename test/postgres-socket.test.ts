// DATABASE_URL naming a local PostgreSQL by its Unix socket directory, as libpq writes it
// (`postgres:///db?host=/var/run/postgresql`): a node started that way stores through the socket, not
// TCP. PostgreSQL pass only; the socket directory is the one the server reports.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { postgresClient } from '../packages/server/src/store/db.ts';
import { testDatabase, type TestDatabase } from './harness/database.ts';
import { databaseName } from './harness/pg-admin.ts';
import { postgresSkipReason } from './harness/postgres.ts';
import { startNode, type TestNode } from './harness/node.ts';

const url = process.env.DATABASE_URL;

describe('DATABASE_URL over a Unix socket', { skip: await postgresSkipReason(url, 'a PostgreSQL server with a socket') }, () => {
  let node: TestNode;
  let own: TestDatabase;
  let socketUrl: string;
  before(async () => {
    own = await testDatabase(); // a pm_t_* database of this test's, never the shared one
    const admin = postgresClient(url!, { max: 1, onnotice: () => {} });
    const [{ unix_socket_directories: dirs }] = await admin`show unix_socket_directories`;
    await admin.end();
    const dir = String(dirs).split(',')[0].trim();
    assert.ok(dir.startsWith('/'), `the server reports a socket directory (${dirs})`);
    const tcp = new URL(own.env.DATABASE_URL);
    socketUrl = `postgres://${tcp.username}@localhost/${databaseName(own.env.DATABASE_URL)}?host=${encodeURIComponent(dir)}`;
    node = await startNode({ domain: 'a.test', env: { DATABASE_URL: socketUrl } });
  });
  after(async () => {
    await node?.stop();
    await own?.drop();
  });

  it('starts a node, stores through the socket and answers', async () => {
    const token = await node.addUser('amy@a.test');
    const res = await node.api('/api/v1/settings', { token });
    assert.equal(res.status, 200);
    const sql = postgresClient(socketUrl, { max: 1, onnotice: () => {} });
    try {
      const [row] = await sql`select inet_client_addr() as addr, count(*)::int as n from mailboxes`;
      assert.deepEqual(row, { addr: null, n: 1 }, 'no client address: a Unix-socket session; the node stored the user there');
    } finally {
      await sql.end();
    }
  });
});
