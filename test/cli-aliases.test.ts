// `pullmail-server alias add|list|delete` (and `user add --admin`, `user disable|enable`) run as an operator runs them (issue 16): against a running
// node (its control socket on PGlite; the shared database when DATABASE_URL is set), and with the node
// stopped. Mail to the alias then reaches the target through the node's own SMTP listener.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { run, startNode, stop, type RunningNode } from './harness/cli-process.ts';
import { testDatabase, type TestDatabase } from './harness/database.ts';
import { freePort } from './harness/node.ts';
import { requireSmtpTools, swaks } from './harness/smtp-tools.ts';
import { waitFor } from './harness/wait.ts';

interface Listed {
  aliases: { id: string; address: string; target: string; created_at: string }[];
}

function oneJsonLine<T>(stdout: string): T {
  const lines = stdout.split('\n').filter(Boolean);
  assert.equal(lines.length, 1, stdout);
  return JSON.parse(lines[0]) as T;
}

describe('pullmail-server alias commands', { timeout: 300_000 }, () => {
  let dataDir: string;
  let db: TestDatabase;
  let env: Record<string, string>;
  let port: number;
  let smtpPort: number;
  let node: RunningNode | undefined;
  let aliceToken: string;

  before(async () => {
    requireSmtpTools();
    dataDir = mkdtempSync(join(tmpdir(), 'pm-aliases-'));
    db = await testDatabase();
    [port, smtpPort] = [await freePort(), await freePort()];
    env = {
      PULLMAIL_DATA_DIR: dataDir, PULLMAIL_DOMAINS: 'a.test,b.test', PULLMAIL_HTTP_PORT: String(port), PULLMAIL_SMTP_PORT: String(smtpPort),
      PULLMAIL_SUBMISSION_PORT: '0', PULLMAIL_GREYLIST_SECONDS: '0', PULLMAIL_QUEUE_POLL_MS: '200',
      // a PGlite test database is ':memory:', which a second process cannot share: keep the data dir then
      ...(db.env.DATABASE_URL ? { DATABASE_URL: db.env.DATABASE_URL } : {}),
    };
    node = await startNode(env);
    const r = await run(['user', 'add', 'alice@a.test'], env);
    assert.equal(r.code, 0, r.stderr);
    aliceToken = oneJsonLine<{ token: string }>(r.stdout).token;
  });
  after(async () => {
    await stop(node);
    await db?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('alias add prints one line {"id","address","target"}', async () => {
    const r = await run(['alias', 'add', 'Sales@a.test', 'alice@a.test'], env);
    assert.equal(r.code, 0, r.stderr);
    const created = oneJsonLine<{ id: string; address: string; target: string }>(r.stdout);
    assert.deepEqual(Object.keys(created).sort(), ['address', 'id', 'target']);
    assert.equal(created.address, 'sales@a.test');
    assert.equal(created.target, 'alice@a.test');
    const all = await run(['alias', 'add', '@b.test', 'alice@a.test'], env);
    assert.equal(all.code, 0, all.stderr);
  });

  it('alias list shows a table, and the API answer with --json', async () => {
    const table = await run(['alias', 'list'], env);
    assert.equal(table.code, 0, table.stderr);
    const lines = table.stdout.trimEnd().split('\n');
    assert.match(lines[0], /^ADDRESS\s+TARGET\s+ID$/);
    assert.match(lines[1], /^@b\.test\s+alice@a\.test\s+[0-9a-f-]{36}$/);
    assert.match(lines[2], /^sales@a\.test\s+alice@a\.test\s+[0-9a-f-]{36}$/);
    const listed = oneJsonLine<Listed>((await run(['alias', 'list', '--json'], env)).stdout);
    assert.deepEqual(listed.aliases.map((a) => a.address), ['@b.test', 'sales@a.test']);
  });

  it('mail to the alias and to the catch-all arrives in the target mailbox over SMTP', async () => {
    for (const [to, subject] of [['sales@a.test', 'to the alias'], ['whoever@b.test', 'to the catch-all']]) {
      const r = await swaks(smtpPort, ['--from', 'zed@far.test', '--to', to, '--header', `Subject: ${subject}`, '--body', 'hi']);
      assert.equal(r.code, 0, r.out);
    }
    const requests = await waitFor('two requests', async () => {
      const res = await fetch(`http://127.0.0.1:${port}/api/v1/requests`, { headers: { authorization: `Bearer ${aliceToken}` } });
      const list = ((await res.json()) as { requests: { subject: string }[] }).requests;
      return list.length === 2 && list;
    });
    assert.deepEqual(requests.map((r) => r.subject).sort(), ['to the alias', 'to the catch-all']);
  });

  it('refuses what the API refuses, exit 1 with the reason; --json gives the code', async () => {
    const taken = await run(['alias', 'add', 'alice@a.test', 'alice@a.test'], env);
    assert.equal(taken.code, 1);
    assert.equal(taken.stderr, 'pullmail-server: alice@a.test is a mailbox already\n');
    const json = await run(['alias', 'add', 'info@a.test', 'nobody@a.test', '--json'], env);
    assert.equal(json.code, 1);
    assert.equal(oneJsonLine<{ error: string }>(json.stderr).error, 'not_found');
  });

  it('refuses a missing target and an unknown verb with usage, exit 64', async () => {
    const missing = await run(['alias', 'add', 'info@a.test'], env);
    assert.equal(missing.code, 64);
    assert.match(missing.stderr, /alias add needs an address/);
    const unknown = await run(['alias', 'frob'], env);
    assert.equal(unknown.code, 64);
    assert.match(unknown.stderr, /unknown command "alias frob"/);
  });

  it('alias delete takes the address or the id; a second delete exits 1', async () => {
    const byAddress = await run(['alias', 'delete', 'SALES@a.test'], env);
    assert.equal(byAddress.code, 0, byAddress.stderr);
    assert.equal(byAddress.stdout, 'deleted alias sales@a.test (delivered to alice@a.test)\n');
    const again = await run(['alias', 'delete', 'sales@a.test'], env);
    assert.equal(again.code, 1);
    assert.equal(again.stderr, 'pullmail-server: no alias sales@a.test\n');
    const [catchAll] = oneJsonLine<Listed>((await run(['alias', 'list', '--json'], env)).stdout).aliases;
    const byId = await run(['alias', 'delete', catchAll.id, '--json'], env);
    assert.equal(byId.code, 0, byId.stderr);
    assert.deepEqual(oneJsonLine(byId.stdout), { id: catchAll.id, address: '@b.test', target: 'alice@a.test', deleted: true });
  });

  it('user add --admin marks the account admin; user disable|enable switch its logins', async () => {
    const add = await run(['user', 'add', 'boss@a.test', '--password', 'boss password', '--admin'], env);
    assert.equal(add.code, 0, add.stderr);
    const token = oneJsonLine<{ token: string }>(add.stdout).token;
    const disabled = await run(['user', 'disable', 'boss@a.test'], env);
    assert.equal(disabled.code, 0, disabled.stderr);
    assert.equal(disabled.stdout, 'boss@a.test disabled: no sign-in through any door; mail still arrives\n');
    const users = (await run(['user', 'list', '--json'], env)).stdout;
    const boss = oneJsonLine<{ users: { address: string; admin: boolean; disabled: boolean }[] }>(users).users.find((u) => u.address === 'boss@a.test');
    assert.deepEqual([boss?.admin, boss?.disabled], [true, true]);
    const inbox = () => fetch(`http://127.0.0.1:${port}/api/v1/inbox`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.status);
    assert.equal(await inbox(), 401);
    const enabled = await run(['user', 'enable', 'boss@a.test', '--json'], env);
    assert.deepEqual(oneJsonLine(enabled.stdout), { address: 'boss@a.test', disabled: false });
    assert.equal(await inbox(), 200);
  });

  it('works with the node stopped, straight on the database', async () => {
    await stop(node);
    node = undefined;
    const r = await run(['alias', 'add', 'help@a.test', 'alice@a.test'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(oneJsonLine<Listed>((await run(['alias', 'list', '--json'], env)).stdout).aliases.map((a) => a.address), ['help@a.test']);
  });
});
