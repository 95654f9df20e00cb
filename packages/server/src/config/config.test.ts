import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { testPki } from '../../../../test/harness/tls.ts';
import { ConfigError, loadConfig, type Config } from './config.ts';

/** The problems loadConfig reports for env; fails the test when it accepts env. */
function problemsOf(env: Record<string, string | undefined>): string[] {
  let problems: string[] | undefined;
  assert.throws(
    () => loadConfig(env),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
      problems = err.problems;
      return true;
    },
  );
  return problems!;
}

describe('loadConfig defaults', () => {
  it('gives the documented defaults for an empty environment', () => {
    const { config, warnings } = loadConfig({});
    // every option this test knows about; options added later keep their own tests
    const want: Partial<Config> = {
      domains: ['localhost'],
      publicUrl: 'http://localhost:8080',
      publicUrlExplicit: false,
      httpHost: '127.0.0.1',
      httpPort: 8080,
      tls: undefined,
      trustCa: undefined,
      databaseUrl: undefined,
      dataDir: './data',
      peers: new Map(),
      allowPrivatePeers: false,
      smtpHost: '127.0.0.1',
      smtpPort: 2525,
      submissionPort: 2587,
      smtpRelay: undefined,
      greylistSeconds: 300,
      rateDomain: { count: 3000, seconds: 60 },
      rateSender: { count: 300, seconds: 60 },
      adminToken: undefined,
      logLevel: 'info',
      maxMessageBytes: 26_214_400,
      retentionSeconds: 30 * 86_400,
      notifyRetrySeconds: 5 * 86_400,
      maxRequestBytes: 1_048_576,
      queuePollMs: 1000,
    };
    const got = Object.fromEntries(Object.keys(want).map((k) => [k, config[k as keyof Config]]));
    assert.deepEqual(got, want);
    assert.deepEqual(warnings, []);
    assert.ok(Object.isFrozen(config));
  });

  it('treats empty and blank values as unset', () => {
    // a blank port must not become 0 (a random port), nor blank greylisting 0 (greylisting off)
    const { config } = loadConfig({ PULLMAIL_HTTP_PORT: '', PULLMAIL_GREYLIST_SECONDS: '  ', PULLMAIL_PUBLIC_URL: ' ', PULLMAIL_DOMAINS: '' });
    assert.equal(config.httpPort, 8080);
    assert.equal(config.greylistSeconds, 300);
    assert.equal(config.publicUrl, 'http://localhost:8080');
    assert.equal(config.publicUrlExplicit, false);
    assert.deepEqual(config.domains, ['localhost']);
  });

  it('derives the default public URL from the port', () => {
    assert.equal(loadConfig({ PULLMAIL_HTTP_PORT: '9000' }).config.publicUrl, 'http://localhost:9000');
  });
});

describe('loadConfig values', () => {
  it('normalizes the domain list: case, IDN, spaces, empty entries', () => {
    const { config } = loadConfig({ PULLMAIL_DOMAINS: ' A.Test, Bücher.example,,c.test ' });
    assert.deepEqual(config.domains, ['a.test', 'xn--bcher-kva.example', 'c.test']);
  });

  it('parses the static peer map', () => {
    const { config } = loadConfig({
      PULLMAIL_PEERS: 'B.Test=https://127.0.0.1:8442/, c.test=http://127.0.0.1:9000,Bücher.example=https://node.example.net/pm/',
    });
    assert.deepEqual(
      [...config.peers],
      [
        ['b.test', 'https://127.0.0.1:8442'],
        ['c.test', 'http://127.0.0.1:9000'],
        ['xn--bcher-kva.example', 'https://node.example.net/pm'],
      ],
    );
  });

  it('takes an explicit public URL without its trailing slash', () => {
    const { config } = loadConfig({ PULLMAIL_PUBLIC_URL: 'https://mail.example.net/' });
    assert.equal(config.publicUrl, 'https://mail.example.net');
    assert.equal(config.publicUrlExplicit, true);
  });

  it('parses rates, flags, days and a PostgreSQL URL', () => {
    const { config } = loadConfig({
      PULLMAIL_RATE_DOMAIN: '10/5',
      PULLMAIL_RATE_SENDER: ' 2/1 ',
      PULLMAIL_ALLOW_PRIVATE_PEERS: '1',
      PULLMAIL_RETENTION_DAYS: '2',
      PULLMAIL_NOTIFY_RETRY_DAYS: '1',
      PULLMAIL_SMTP_PORT: '0',
      PULLMAIL_GREYLIST_SECONDS: '0',
      DATABASE_URL: 'postgresql://u:p@db.internal:5432/pullmail',
      PULLMAIL_SMTP_RELAY: 'smtp://relay.example:587',
      PULLMAIL_ADMIN_TOKEN: 'x'.repeat(16),
      PULLMAIL_LOG_LEVEL: 'debug',
    });
    assert.deepEqual(config.rateDomain, { count: 10, seconds: 5 });
    assert.deepEqual(config.rateSender, { count: 2, seconds: 1 });
    assert.equal(config.allowPrivatePeers, true);
    assert.equal(config.retentionSeconds, 2 * 86_400);
    assert.equal(config.notifyRetrySeconds, 86_400);
    assert.equal(config.smtpPort, 0);
    assert.equal(config.greylistSeconds, 0);
    assert.equal(config.databaseUrl, 'postgresql://u:p@db.internal:5432/pullmail');
    assert.equal(config.smtpRelay, 'smtp://relay.example:587');
    assert.equal(config.adminToken, 'x'.repeat(16));
    assert.equal(config.logLevel, 'debug');
  });

  for (const [raw, want] of [['1', true], ['true', true], ['yes', true], ['0', false], ['false', false], ['no', false]] as const) {
    it(`reads PULLMAIL_ALLOW_PRIVATE_PEERS=${raw} as ${want}`, () => {
      assert.equal(loadConfig({ PULLMAIL_ALLOW_PRIVATE_PEERS: raw }).config.allowPrivatePeers, want);
    });
  }

  it('leaves the sender callout off by default, probing port 25 when it is on', () => {
    const off = loadConfig({}).config;
    assert.equal(off.senderCallout, false);
    assert.equal(off.calloutPort, 25);
    const on = loadConfig({ PULLMAIL_SENDER_CALLOUT: '1', PULLMAIL_CALLOUT_PORT: '2526' }).config;
    assert.equal(on.senderCallout, true);
    assert.equal(on.calloutPort, 2526);
  });

  it('warns about unknown PULLMAIL_ variables and ignores other variables', () => {
    const { warnings } = loadConfig({ PULLMAIL_FOO: '1', PULLMAIL_HTTP_PORT: '8080', PATH: '/usr/bin', HOME: '/root', DATABASE_URL: undefined });
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /PULLMAIL_FOO/);
    // the operator docs set no length for the admin token: a short one starts the node, with a warning
    const short = loadConfig({ PULLMAIL_ADMIN_TOKEN: 'secret' });
    assert.equal(short.config.adminToken, 'secret');
    assert.deepEqual(short.warnings, ['PULLMAIL_ADMIN_TOKEN is shorter than 16 characters: easy to guess']);
  });
});

describe('loadConfig TLS files', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'pm-config-'));
    writeFileSync(join(dir, 'not-pem.txt'), 'hello, I am not a certificate\n');
    writeFileSync(join(dir, 'locked.pem'), testPki().ca);
    chmodSync(join(dir, 'locked.pem'), 0o000);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('turns the listener to HTTPS when cert and key are readable PEM files', () => {
    const pki = testPki();
    const { config } = loadConfig({ PULLMAIL_TLS_CERT: pki.certPath, PULLMAIL_TLS_KEY: pki.keyPath, PULLMAIL_TRUST_CA: pki.caPath });
    assert.match(config.tls?.cert ?? '', /-----BEGIN CERTIFICATE-----/);
    assert.match(config.tls?.key ?? '', /-----BEGIN PRIVATE KEY-----/);
    assert.equal(config.trustCa, pki.ca);
    assert.equal(config.publicUrl, 'https://localhost:8080');
  });

  it('names PULLMAIL_TLS_CERT when the file does not exist', () => {
    const problems = problemsOf({ PULLMAIL_TLS_CERT: join(dir, 'missing.pem'), PULLMAIL_TLS_KEY: testPki().keyPath });
    assert.equal(problems.length, 1);
    assert.match(problems[0], /^PULLMAIL_TLS_CERT: cannot read .*missing\.pem \(ENOENT\)/);
  });

  it('names PULLMAIL_TLS_CERT when the file is a directory', () => {
    const problems = problemsOf({ PULLMAIL_TLS_CERT: dir, PULLMAIL_TLS_KEY: testPki().keyPath });
    assert.equal(problems.length, 1);
    assert.match(problems[0], /^PULLMAIL_TLS_CERT: cannot read/);
  });

  it('names PULLMAIL_TLS_KEY when the file cannot be opened', (t) => {
    // root reads any file whatever its mode, so this case only holds for ordinary users
    if (process.getuid?.() === 0) return t.skip('running as root: file modes do not stop reads');
    const problems = problemsOf({ PULLMAIL_TLS_CERT: testPki().certPath, PULLMAIL_TLS_KEY: join(dir, 'locked.pem') });
    assert.equal(problems.length, 1);
    assert.match(problems[0], /^PULLMAIL_TLS_KEY: cannot read .*\(EACCES\)/);
  });

  it('names PULLMAIL_TLS_KEY when the file is not PEM', () => {
    const problems = problemsOf({ PULLMAIL_TLS_CERT: testPki().certPath, PULLMAIL_TLS_KEY: join(dir, 'not-pem.txt') });
    assert.equal(problems.length, 1);
    assert.match(problems[0], /^PULLMAIL_TLS_KEY: .*not-pem\.txt is not a PEM file/);
  });

  it('names both variables when only the certificate is set', () => {
    const problems = problemsOf({ PULLMAIL_TLS_CERT: testPki().certPath });
    assert.equal(problems.length, 1);
    assert.match(problems[0], /PULLMAIL_TLS_CERT/);
    assert.match(problems[0], /PULLMAIL_TLS_KEY/);
  });

  it('names both variables when only the key is set', () => {
    const problems = problemsOf({ PULLMAIL_TLS_KEY: testPki().keyPath });
    assert.equal(problems.length, 1);
    assert.match(problems[0], /PULLMAIL_TLS_CERT and PULLMAIL_TLS_KEY/);
  });

  it('names PULLMAIL_TRUST_CA when the file does not exist', () => {
    const problems = problemsOf({ PULLMAIL_TRUST_CA: join(dir, 'no-ca.pem') });
    assert.equal(problems.length, 1);
    assert.match(problems[0], /^PULLMAIL_TRUST_CA: cannot read/);
  });
});

describe('loadConfig refuses bad values, naming the variable', () => {
  const cases: [name: string, value: string, why: string][] = [
    ['PULLMAIL_DOMAINS', 'exa mple.com', 'space inside a domain'],
    ['PULLMAIL_DOMAINS', 'good.test,bad_domain.test', 'one bad domain among good ones (underscore)'],
    ['PULLMAIL_DOMAINS', '-a.test', 'label starts with a hyphen'],
    ['PULLMAIL_DOMAINS', 'a.test/path', 'a path is not a domain'],
    ['PULLMAIL_DOMAINS', '127.0.0.1', 'an IP address is not a mail domain'],
    ['PULLMAIL_DOMAINS', ' , ', 'only separators: no domain at all'],
    ['PULLMAIL_HTTP_PORT', '70000', 'above 65535'],
    ['PULLMAIL_HTTP_PORT', '-1', 'negative'],
    ['PULLMAIL_HTTP_PORT', '80.5', 'not a whole number'],
    ['PULLMAIL_HTTP_PORT', 'http', 'not a number'],
    ['PULLMAIL_SMTP_PORT', '65536', 'just above the range'],
    ['PULLMAIL_SUBMISSION_PORT', 'abc', 'not a number'],
    ['PULLMAIL_PEERS', 'b.test', 'no = and no URL'],
    ['PULLMAIL_PEERS', '=https://127.0.0.1:8442', 'no domain'],
    ['PULLMAIL_PEERS', 'bad_domain=https://127.0.0.1:8442', 'underscore in the domain'],
    ['PULLMAIL_PEERS', 'b.test=ftp://127.0.0.1', 'not http(s)'],
    ['PULLMAIL_PEERS', 'b.test=not a url', 'not a URL'],
    ['PULLMAIL_PEERS', 'b.test=https://127.0.0.1:8442,c.test', 'second entry broken'],
    ['PULLMAIL_RATE_DOMAIN', 'abc', 'not count/seconds'],
    ['PULLMAIL_RATE_DOMAIN', '100', 'count without seconds'],
    ['PULLMAIL_RATE_SENDER', '0/60', 'zero count would refuse everything'],
    ['PULLMAIL_RATE_SENDER', '10/0', 'zero seconds'],
    ['PULLMAIL_RATE_SENDER', '-1/60', 'negative count'],
    ['DATABASE_URL', 'mysql://u@db/pullmail', 'not PostgreSQL'],
    ['DATABASE_URL', 'localhost:5432', 'no scheme'],
    ['PULLMAIL_PUBLIC_URL', 'ftp://mail.example.net', 'not http(s)'],
    ['PULLMAIL_PUBLIC_URL', 'mail.example.net', 'no scheme'],
    ['PULLMAIL_LOG_LEVEL', 'loud', 'not a level'],
    ['PULLMAIL_ALLOW_PRIVATE_PEERS', 'maybe', 'not a flag'],
    ['PULLMAIL_SMTP_RELAY', 'relay.example:25', 'no smtp:// scheme'],
    ['PULLMAIL_GREYLIST_SECONDS', '-5', 'negative'],
    ['PULLMAIL_SENDER_CALLOUT', 'sometimes', 'not a flag'],
    ['PULLMAIL_CALLOUT_PORT', '0', 'a probe needs a real port'],
    ['PULLMAIL_CALLOUT_PORT', '70000', 'out of range'],
    ['PULLMAIL_MAX_MESSAGE_BYTES', '0', 'must be positive'],
    ['PULLMAIL_RETENTION_DAYS', 'forever', 'not a number'],
    ['PULLMAIL_QUEUE_POLL_MS', '1.5', 'not a whole number'],
    ['PULLMAIL_LOOKUP_RATE_CLIENT', '60', 'not count/seconds'],
    ['PULLMAIL_LOOKUP_CONCURRENCY', '0', 'no lookup could ever run'],
    ['PULLMAIL_LOOKUP_DEADLINE_SECONDS', '0', 'every lookup would be late'],
    ['PULLMAIL_PEER_CACHE_ENTRIES', '-1', 'must be positive'],
    ['PULLMAIL_SMTP_MAX_CLIENTS_PER_IP', '0', 'no client could connect'],
    ['PULLMAIL_SMTP_GREET_PAUSE_MS', '-1', 'negative'],
    ['PULLMAIL_SMTP_GREET_PAUSE_MS', '120000', 'past the client\'s own greeting timeout'],
    ['PULLMAIL_SMTP_GREET_REMEMBER_SECONDS', '0', 'nobody would be remembered'],
    ['PULLMAIL_IMAP_MAX_CLIENTS', '0', 'no client could connect'],
    ['PULLMAIL_IMAP_MAX_CLIENTS_PER_IP', '1.5', 'not a whole number'],
    ['PULLMAIL_NOTIFY_MAX_INFLIGHT', 'many', 'not a number'],
    ['PULLMAIL_NOTIFY_BODY_SECONDS', '0', 'every notification would be cut'],
  ];
  for (const [name, value, why] of cases) {
    it(`${name}=${JSON.stringify(value)} (${why})`, () => {
      const problems = problemsOf({ [name]: value });
      assert.equal(problems.length, 1, problems.join('\n'));
      assert.ok(problems[0].startsWith(`${name}: `), problems[0]);
    });
  }

  it('refuses a per-address or per-endpoint cap above its total, naming both variables', () => {
    const cases: [env: Record<string, string>, name: string, total: string][] = [
      [{ PULLMAIL_SMTP_MAX_CLIENTS: '5' }, 'PULLMAIL_SMTP_MAX_CLIENTS_PER_IP', 'PULLMAIL_SMTP_MAX_CLIENTS'],
      [{ PULLMAIL_IMAP_MAX_CLIENTS: '10' }, 'PULLMAIL_IMAP_MAX_CLIENTS_PER_IP', 'PULLMAIL_IMAP_MAX_CLIENTS'],
      [{ PULLMAIL_HTTP_MAX_INFLIGHT: '10' }, 'PULLMAIL_NOTIFY_MAX_INFLIGHT', 'PULLMAIL_HTTP_MAX_INFLIGHT'],
      [{ PULLMAIL_LOOKUP_RATE_CLIENT: '601/60' }, 'PULLMAIL_LOOKUP_RATE_CLIENT', 'PULLMAIL_LOOKUP_RATE'],
    ];
    for (const [env, name, total] of cases) {
      const problems = problemsOf(env);
      assert.equal(problems.length, 1, problems.join('\n'));
      assert.ok(problems[0].startsWith(`${name}: `) && problems[0].includes(total), problems[0]);
    }
  });

  it('takes the load limits from the environment', () => {
    const c = loadConfig({
      PULLMAIL_LOOKUP_RATE_CLIENT: '5/10', PULLMAIL_LOOKUP_RATE: '50/10', PULLMAIL_LOOKUP_CONCURRENCY: '8', PULLMAIL_LOOKUP_DEADLINE_SECONDS: '3',
      PULLMAIL_PEER_CACHE_ENTRIES: '100', PULLMAIL_SMTP_MAX_CLIENTS: '20', PULLMAIL_SMTP_MAX_CLIENTS_PER_IP: '2',
      PULLMAIL_HTTP_MAX_INFLIGHT: '100', PULLMAIL_NOTIFY_MAX_INFLIGHT: '10', PULLMAIL_NOTIFY_BODY_SECONDS: '4',
      PULLMAIL_IMAP_MAX_CLIENTS: '3000', PULLMAIL_IMAP_MAX_CLIENTS_PER_IP: '1500',
      PULLMAIL_SMTP_GREET_PAUSE_MS: '0', PULLMAIL_SMTP_GREET_REMEMBER_SECONDS: '60',
    }).config;
    // 0 turns the greeting pause off; the memory is kept in ms
    assert.deepEqual([c.smtpGreetPauseMs, c.smtpGreetRememberMs], [0, 60_000]);
    assert.deepEqual([loadConfig({}).config.smtpGreetPauseMs, loadConfig({}).config.smtpGreetRememberMs], [100, 86_400_000]);
    assert.deepEqual(
      [c.lookupRateClient, c.lookupRate, c.lookupConcurrency, c.lookupDeadlineMs, c.peerCacheEntries, c.smtpMaxClients, c.smtpMaxClientsPerIp, c.httpMaxInflight, c.notifyMaxInflight, c.notifyBodyMs, c.imapMaxClients, c.imapMaxClientsPerIp],
      [{ count: 5, seconds: 10 }, { count: 50, seconds: 10 }, 8, 3000, 100, 20, 2, 100, 10, 4000, 3000, 1500],
    );
  });

  it('caps IMAP connections at 1000 in all and 20 per client address by default', () => {
    const c = loadConfig({}).config;
    assert.deepEqual([c.imapMaxClients, c.imapMaxClientsPerIp], [1000, 20]);
  });

  it('reports every bad variable at once, in one message', () => {
    let error: ConfigError | undefined;
    try {
      loadConfig({ PULLMAIL_HTTP_PORT: '70000', PULLMAIL_RATE_DOMAIN: 'abc', DATABASE_URL: 'mysql://x' });
    } catch (err) {
      error = err as ConfigError;
    }
    assert.ok(error instanceof ConfigError);
    assert.deepEqual(error.problems.map((p) => p.split(':')[0]).sort(), ['DATABASE_URL', 'PULLMAIL_HTTP_PORT', 'PULLMAIL_RATE_DOMAIN']);
    for (const p of error.problems) assert.ok(error.message.includes(p));
    assert.doesNotMatch(error.message, /\n/);
  });
});
