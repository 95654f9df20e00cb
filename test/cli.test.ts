// The command line as an operator uses it (OPERATOR.md "Start"): the real CLI in a child process, an
// embedded PGlite database in a temporary data directory, plain HTTP on a free port.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CLI, ROOT, run, startNode, stop, type RunningNode } from './harness/cli-process.ts';
import { freePort } from './harness/node.ts';

describe('package scripts', () => {
  it('has `npm start` run the CLI start command', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    assert.match(pkg.scripts.start ?? '', /\bpackages\/server\/bin\/pullmail-server\.js start\b/);
    assert.match(pkg.scripts.test ?? '', /node --test/);
  });

  it('declares the pullmail-server binary: a JavaScript launcher with a node shebang that runs the CLI', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'packages/server/package.json'), 'utf8')) as { bin: Record<string, string> };
    const bin = join(ROOT, 'packages/server', pkg.bin['pullmail-server']);
    assert.equal(bin, CLI);
    const text = readFileSync(bin, 'utf8');
    assert.match(text, /^#!\/usr\/bin\/env node\n/);
    assert.ok(text.includes(`import('../src/cli.ts')`), text);
  });
});

describe('pullmail-server on one data directory', { timeout: 120_000 }, () => {
  let dataDir: string;
  let env: Record<string, string>;
  let port: number;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'pm-cli-'));
    port = await freePort();
    env = { PULLMAIL_DATA_DIR: dataDir, PULLMAIL_HTTP_PORT: String(port), PULLMAIL_SMTP_PORT: '0', PULLMAIL_SUBMISSION_PORT: '0', PULLMAIL_IMAP_PORT: '0' };
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  describe('start', () => {
    let node: RunningNode | undefined;
    before(async () => {
      node = await startNode(env);
    });
    after(() => stop(node));

    it('answers /healthz', async () => {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { status: 'ok' });
    });

    it('serves pm1 metadata for the default domain at the default public URL', async () => {
      const res = await fetch(`http://127.0.0.1:${port}/.well-known/pullmail`);
      assert.equal(res.status, 200);
      const meta = (await res.json()) as { version: string; domains: string[]; notify: string; jwks_uri: string };
      assert.equal(meta.version, 'pm1');
      assert.deepEqual(meta.domains, ['localhost']);
      assert.equal(meta.notify, `http://localhost:${port}/pm/v1/notify`);
      assert.equal(meta.jwks_uri, `http://localhost:${port}/.well-known/pullmail/jwks.json`);
    });

    it('keeps its embedded database in the data directory', () => {
      assert.ok(existsSync(join(dataDir, 'pglite')));
    });

    it('refuses a second start on the same data directory while it runs', async () => {
      const second = await run(['start'], { ...env, PULLMAIL_HTTP_PORT: String(await freePort()) });
      assert.notEqual(second.code, 0);
      assert.match(second.stderr, /data directory .* is in use/);
      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      assert.equal(res.status, 200, 'the first node keeps running');
    });

    it('stops with exit code 0 on SIGTERM and releases the data directory', async () => {
      assert.ok(node);
      node.child.kill('SIGTERM');
      assert.equal(await node.exited, 0, node.stderr());
      assert.equal(existsSync(join(dataDir, 'pullmail.lock')), false);
      await assert.rejects(fetch(`http://127.0.0.1:${port}/healthz`));
    });
  });

  describe('with the node stopped', () => {
    it('user add prints one line of JSON with the address and its API token', async () => {
      const r = await run(['user', 'add', 'Bob@localhost', '--password', 'xxxxxxxx'], env);
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.split('\n').filter(Boolean);
      assert.equal(lines.length, 1, r.stdout);
      const created = JSON.parse(lines[0]) as { address: string; token: string };
      assert.deepEqual(Object.keys(created).sort(), ['address', 'token']);
      assert.equal(created.address, 'bob@localhost');
      assert.match(created.token, /^pm_[A-Za-z0-9_-]{20,}$/);
    });

    it('user add refuses an existing address, exiting non-zero with one message', async () => {
      const r = await run(['user', 'add', 'bob@localhost'], env);
      assert.notEqual(r.code, 0);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /^pullmail-server: .*already exists\n$/);
    });

    it('user add refuses an address on a domain the node does not serve', async () => {
      const r = await run(['user', 'add', 'carol@elsewhere.test'], env);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /elsewhere\.test .*PULLMAIL_DOMAINS/);
    });

    it('keys rotate prints the new kid, which the restarted node publishes', async () => {
      const r = await run(['keys', 'rotate'], env);
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.split('\n').filter(Boolean);
      assert.equal(lines.length, 1, r.stdout);
      const { kid } = JSON.parse(lines[0]) as { kid: string };
      assert.match(kid, /^[A-Za-z0-9_-]{43}$/); // a base64url SHA-256 JWK thumbprint

      const node = await startNode(env);
      try {
        const jwks = (await (await fetch(`http://127.0.0.1:${port}/.well-known/pullmail/jwks.json`)).json()) as { keys: { kid: string }[] };
        assert.ok(jwks.keys.some((k) => k.kid === kid), JSON.stringify(jwks));
        assert.equal(jwks.keys.length, 2, 'the first key stays published');
      } finally {
        await stop(node);
      }
    });
  });
});

describe('pullmail-server with bad input', () => {
  it('stops on bad configuration with one stderr line naming the variable', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'pm-cli-'));
    try {
      const r = await run(['start'], { PULLMAIL_DATA_DIR: dataDir, PULLMAIL_HTTP_PORT: '70000' });
      assert.notEqual(r.code, 0);
      assert.equal(r.stdout, '');
      const lines = r.stderr.split('\n').filter(Boolean);
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0], /PULLMAIL_HTTP_PORT/);
      assert.match(lines[0], /70000/);
      assert.equal(existsSync(join(dataDir, 'pglite')), false, 'nothing was opened');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('prints one line per bad variable', async () => {
    const r = await run(['migrate'], { PULLMAIL_DATA_DIR: ':memory:', PULLMAIL_HTTP_PORT: '70000', PULLMAIL_RATE_DOMAIN: 'abc' });
    assert.notEqual(r.code, 0);
    const lines = r.stderr.split('\n').filter(Boolean);
    assert.equal(lines.length, 2, r.stderr);
    assert.match(lines[0], /PULLMAIL_HTTP_PORT/);
    assert.match(lines[1], /PULLMAIL_RATE_DOMAIN/);
  });

  it('warns about an unknown PULLMAIL_ variable and goes on', async () => {
    const r = await run(['migrate'], { PULLMAIL_DATA_DIR: ':memory:', PULLMAIL_FOO: '1' });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /warning: .*PULLMAIL_FOO/);
    assert.match(r.stdout, /migrations applied \(pglite\)/);
  });

  it('refuses an unknown command with usage', async () => {
    const r = await run(['frobnicate'], { PULLMAIL_DATA_DIR: ':memory:' });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /unknown command "frobnicate"/);
    assert.match(r.stderr, /usage: pullmail-server/);
  });
});
