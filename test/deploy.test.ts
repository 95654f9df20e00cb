// deploy/ (issue 17): the systemd unit and the compose file say what the README says, and a node starts
// from the example environment file as it stands (only ports and data directory moved for the test).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT, startNode, stop } from './harness/cli-process.ts';
import { freePort } from './harness/node.ts';

const read = (f: string) => readFileSync(join(ROOT, 'deploy', f), 'utf8');

/** systemd's INI: section → key → values (keys may repeat). */
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const section = /^\[(.+)\]$/.exec(line);
    if (section) {
      current = new Map();
      sections.set(section[1], current);
      continue;
    }
    const eq = line.indexOf('=');
    assert.ok(current && eq > 0, `not a unit line: ${line}`);
    const key = line.slice(0, eq);
    current.set(key, [...(current.get(key) ?? []), line.slice(eq + 1)]);
  }
  return sections;
}

/** KEY=VALUE lines of an env file, comments and blanks left out. */
function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n').map((l) => l.trim())) {
    if (!line || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    env[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return env;
}

describe('deploy/pullmail.service', () => {
  const unit = parseUnit(read('pullmail.service'));
  it('runs the launcher (which checks the Node version) as the pullmail user with the env file', () => {
    const service = unit.get('Service')!;
    assert.deepEqual(service.get('ExecStart'), ['/usr/bin/node packages/server/bin/pullmail-server.js start']);
    assert.deepEqual(service.get('User'), ['pullmail']);
    assert.deepEqual(service.get('EnvironmentFile'), ['/etc/pullmail/pullmail.env']);
    assert.deepEqual(service.get('ReadWritePaths'), ['/var/lib/pullmail']);
    assert.ok(unit.get('Install')?.get('WantedBy')?.includes('multi-user.target'));
  });
  it('says which Node it needs, how to install it and how to run admin commands', () => {
    const text = read('pullmail.service');
    assert.match(text, /Node\.js 22\.19 or newer/);
    assert.match(text, /useradd --system/);
    assert.match(text, /npm ci --omit=dev/);
    assert.match(text, /sudo -u pullmail .*pullmail\.env.*pullmail-server\.js user list/);
  });
});

describe('deploy/compose.yaml', () => {
  const text = read('compose.yaml');
  const uncommented = text.split('\n').filter((l) => !l.trim().startsWith('#')).map((l) => l.replace(/\s+#.*$/, ''));
  it('publishes no plain HTTP port and no submission port without TLS; caddy takes 80 and 443', () => {
    const published = uncommented.filter((l) => /^\s+- "\d+:\d+"$/.test(l)).map((l) => l.trim());
    assert.deepEqual(published, ['- "25:2525"', '- "80:80"', '- "443:443"']);
    assert.ok(uncommented.includes('  caddy:'));
    assert.match(read('Caddyfile'), /reverse_proxy pullmail:8080/);
  });
  it('runs admin commands through the launcher', () => {
    assert.match(text, /exec pullmail node packages\/server\/bin\/pullmail-server\.js user add/);
    assert.match(read('Dockerfile'), /CMD \["node", "packages\/server\/bin\/pullmail-server\.js", "start"\]/);
  });
});

describe('deploy/pullmail.env.example', { timeout: 120_000 }, () => {
  it('starts a node as it stands, without warnings', async () => {
    const env = parseEnvFile(read('pullmail.env.example'));
    assert.equal(env.PULLMAIL_ADMIN_TOKEN, undefined, 'no placeholder admin token that would be used as is');
    const dataDir = mkdtempSync(join(tmpdir(), 'pm-deploy-'));
    const port = await freePort();
    const node = await startNode({ ...env, PULLMAIL_DATA_DIR: dataDir, PULLMAIL_HTTP_PORT: String(port), PULLMAIL_SMTP_PORT: String(await freePort()), PULLMAIL_SUBMISSION_PORT: String(await freePort()) });
    try {
      const res = await fetch(`http://127.0.0.1:${port}/.well-known/pullmail`);
      assert.equal(res.status, 200);
      const meta = (await res.json()) as { domains: string[]; notify: string };
      assert.deepEqual(meta.domains, [env.PULLMAIL_DOMAINS]);
      assert.equal(meta.notify, `${env.PULLMAIL_PUBLIC_URL}/pm/v1/notify`);
      assert.doesNotMatch(node.stderr(), /warning/);
    } finally {
      await stop(node);
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
