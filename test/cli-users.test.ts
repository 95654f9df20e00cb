// `pullmail-server user add|list|delete|passwd|token` as an operator runs them (issue 17): against a
// running node with its embedded database (through the control socket), against a node's admin API
// with --url, and with the node stopped or crashed (straight to the database).
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { run, startNode, stop, type RunningNode } from './harness/cli-process.ts';
import { freePort } from './harness/node.ts';

interface Listed {
  users: { address: string; has_password: boolean; tokens: number; created_at: string }[];
}

/** The one line of JSON a command printed. */
function oneJsonLine<T>(stdout: string): T {
  const lines = stdout.split('\n').filter(Boolean);
  assert.equal(lines.length, 1, stdout);
  return JSON.parse(lines[0]) as T;
}

describe('pullmail-server user commands', { timeout: 300_000 }, () => {
  let dataDir: string;
  let env: Record<string, string>;
  let port: number;
  let node: RunningNode | undefined;
  const inboxStatus = async (token: string) => (await fetch(`http://127.0.0.1:${port}/api/v1/inbox`, { headers: { authorization: `Bearer ${token}` } })).status;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'pm-users-'));
    port = await freePort();
    env = { PULLMAIL_DATA_DIR: dataDir, PULLMAIL_HTTP_PORT: String(port), PULLMAIL_SMTP_PORT: '0', PULLMAIL_SUBMISSION_PORT: '0' };
    node = await startNode(env);
  });
  after(async () => {
    await stop(node);
    rmSync(dataDir, { recursive: true, force: true });
  });

  describe('while the node runs on its embedded database', () => {
    it('serves a control socket only its owner may open', () => {
      assert.ok(existsSync(join(dataDir, 'run', 'admin.sock')));
    });

    it('user add prints one line {"address","token"} and the token works at once', async () => {
      const r = await run(['user', 'add', 'Alice@localhost', '--password', 's3cret-pass'], env);
      assert.equal(r.code, 0, r.stderr);
      const created = oneJsonLine<{ address: string; token: string }>(r.stdout);
      assert.deepEqual(Object.keys(created).sort(), ['address', 'token']);
      assert.equal(created.address, 'alice@localhost');
      assert.equal(await inboxStatus(created.token), 200);
    });

    it('user add --json prints the same single line', async () => {
      const r = await run(['user', 'add', 'bob@localhost', '--json'], env);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(Object.keys(oneJsonLine<object>(r.stdout)).sort(), ['address', 'token']);
    });

    it('user list shows a table for people and the API answer with --json', async () => {
      const table = await run(['user', 'list'], env);
      assert.equal(table.code, 0, table.stderr);
      const lines = table.stdout.trimEnd().split('\n');
      assert.match(lines[0], /^ADDRESS\s+PASSWORD\s+TOKENS\s+CREATED$/);
      assert.match(lines[1], /^alice@localhost\s+yes\s+1\s+\d{4}-\d\d-\d\d \d\d:\d\d$/);
      assert.match(lines[2], /^bob@localhost\s+no\s+1\s/);
      const json = await run(['user', 'list', '--json'], env);
      assert.equal(json.code, 0, json.stderr);
      const listed = oneJsonLine<Listed>(json.stdout);
      assert.deepEqual(listed.users.map((u) => u.address), ['alice@localhost', 'bob@localhost']);
    });

    it('user passwd takes the password from stdin', async () => {
      const r = await run(['user', 'passwd', 'bob@localhost', '--json'], env, { input: 'b0b-pass\n' });
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(oneJsonLine(r.stdout), { address: 'bob@localhost', password_set: true });
      const listed = oneJsonLine<Listed>((await run(['user', 'list', '--json'], env)).stdout);
      assert.equal(listed.users.find((u) => u.address === 'bob@localhost')?.has_password, true);
    });

    it('user token replaces a lost token', async () => {
      const first = oneJsonLine<{ token: string }>((await run(['user', 'add', 'carol@localhost'], env)).stdout);
      const r = await run(['user', 'token', 'carol@localhost'], env);
      assert.equal(r.code, 0, r.stderr);
      const replaced = oneJsonLine<{ address: string; token: string; revoked: number }>(r.stdout);
      assert.equal(replaced.revoked, 1);
      assert.equal(await inboxStatus(replaced.token), 200);
      assert.equal(await inboxStatus(first.token), 401);
    });

    it('user delete removes the mailbox; a second delete exits 1 naming it', async () => {
      const r = await run(['user', 'delete', 'carol@localhost'], env);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'deleted carol@localhost and its mail\n');
      const again = await run(['user', 'delete', 'carol@localhost'], env);
      assert.equal(again.code, 1);
      assert.equal(again.stderr, 'pullmail-server: no mailbox carol@localhost\n');
      const json = await run(['user', 'delete', 'carol@localhost', '--json'], env);
      assert.equal(json.code, 1);
      assert.deepEqual(oneJsonLine(json.stderr), { error: 'not_found', detail: 'no mailbox carol@localhost' });
    });

    it('refuses an unknown verb and a missing address with usage, exit 64', async () => {
      const unknown = await run(['user', 'frob'], env);
      assert.equal(unknown.code, 64);
      assert.match(unknown.stderr, /unknown command "user frob"/);
      const missing = await run(['user', 'token'], env);
      assert.equal(missing.code, 64);
      assert.match(missing.stderr, /user token needs an address/);
    });
  });

  describe('against a node URL with the admin token', () => {
    const adminToken = 'operator-admin-token-0123456789';
    let urlNode: RunningNode | undefined;
    let urlEnv: Record<string, string>;
    let url: string;
    before(async () => {
      const p = await freePort();
      url = `http://127.0.0.1:${p}`;
      urlEnv = { PULLMAIL_DATA_DIR: ':memory:', PULLMAIL_HTTP_PORT: String(p), PULLMAIL_SMTP_PORT: '0', PULLMAIL_SUBMISSION_PORT: '0', PULLMAIL_ADMIN_TOKEN: adminToken };
      urlNode = await startNode(urlEnv);
    });
    after(() => stop(urlNode));

    it('adds and lists users over HTTP', async () => {
      const add = await run(['user', 'add', 'dave@localhost', '--url', url], { PULLMAIL_ADMIN_TOKEN: adminToken });
      assert.equal(add.code, 0, add.stderr);
      assert.equal(oneJsonLine<{ address: string }>(add.stdout).address, 'dave@localhost');
      const list = await run(['user', 'list', '--json', '--url', url], { PULLMAIL_ADMIN_TOKEN: adminToken });
      assert.deepEqual(oneJsonLine<Listed>(list.stdout).users.map((u) => u.address), ['dave@localhost']);
    });

    it('names the admin token when it is wrong or missing', async () => {
      const wrong = await run(['user', 'list', '--url', url], { PULLMAIL_ADMIN_TOKEN: 'not-the-right-token-at-all' });
      assert.equal(wrong.code, 1);
      assert.match(wrong.stderr, /admin token/);
      const missing = await run(['user', 'list', '--url', url], {});
      assert.equal(missing.code, 64);
      assert.match(missing.stderr, /PULLMAIL_ADMIN_TOKEN/);
    });
  });

  describe('with the node gone', () => {
    it('after a crash (socket file left behind) goes straight to the database', async () => {
      await stop(node, 'SIGKILL');
      assert.ok(existsSync(join(dataDir, 'run', 'admin.sock')), 'a killed node leaves its socket file');
      const r = await run(['user', 'add', 'erin@localhost'], env);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(oneJsonLine<{ address: string }>(r.stdout).address, 'erin@localhost');
      const listed = oneJsonLine<Listed>((await run(['user', 'list', '--json'], env)).stdout);
      assert.deepEqual(listed.users.map((u) => u.address), ['alice@localhost', 'bob@localhost', 'erin@localhost']);
    });

    it('a restarted node replaces the stale socket and serves it again', async () => {
      node = await startNode(env);
      const r = await run(['user', 'list', '--json'], env);
      assert.equal(r.code, 0, r.stderr);
      await stop(node);
      assert.equal(existsSync(join(dataDir, 'run', 'admin.sock')), false, 'a clean stop removes the socket');
    });
  });
});
