// Failures at start as one line naming the setting (issue 17): a port in use names its PULLMAIL_*_PORT,
// an unreachable database names DATABASE_URL, and a password in DATABASE_URL is never printed.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { loadConfig, maskCredentials } from '../packages/server/src/config/config.ts';
import { describeStartError } from '../packages/server/src/start-errors.ts';
import { run } from './harness/cli-process.ts';
import { freePort } from './harness/node.ts';

const listenError = (code: string, port: number, address = '127.0.0.1') => Object.assign(new Error(`listen ${code}`), { code, port, address, syscall: 'listen' });

describe('maskCredentials', () => {
  for (const [url, masked] of [
    ['postgres://bob:hunter2@db:5432/mail', 'postgres://bob:***@db:5432/mail'],
    ['postgres://bob:p@ss/w:rd@db/mail', 'postgres://bob:***@db/mail'], // @ and / in the password: the userinfo ends at the last @
    ['postgres://bob@db/mail', 'postgres://bob@db/mail'], // no password, nothing to hide
    ['postgres://db/mail', 'postgres://db/mail'],
    ['mysql://root:toor@h/x', 'mysql://root:***@h/x'], // not ours, still masked
    ['not a url', 'not a url'],
  ]) {
    it(`${url} → ${masked}`, () => assert.equal(maskCredentials(url), masked));
  }
});

describe('describeStartError', () => {
  const { config } = loadConfig({ PULLMAIL_DATA_DIR: ':memory:', PULLMAIL_SMTP_PORT: '2525', PULLMAIL_SUBMISSION_PORT: '2587', DATABASE_URL: 'postgres://u:pw@127.0.0.1:1/d' });
  for (const [what, err, line] of [
    ['HTTP port in use', listenError('EADDRINUSE', 8080), /^PULLMAIL_HTTP_PORT: 127\.0\.0\.1:8080 is already in use/],
    ['MX port in use', listenError('EADDRINUSE', 2525), /^PULLMAIL_SMTP_PORT: /],
    ['submission port in use', listenError('EADDRINUSE', 2587), /^PULLMAIL_SUBMISSION_PORT: /],
    ['a privileged port', listenError('EACCES', 2525, '0.0.0.0'), /^PULLMAIL_SMTP_PORT: no permission to listen on 0\.0\.0\.0:2525/],
    ['a host not ours', listenError('EADDRNOTAVAIL', 8080, '10.9.9.9'), /^PULLMAIL_HTTP_HOST: 10\.9\.9\.9 is not an address/],
    ['database refused', Object.assign(new Error('x'), { cause: { code: 'ECONNREFUSED' } }), /^DATABASE_URL: cannot use the database at postgres:\/\/u:\*\*\*@127\.0\.0\.1:1\/d \(connection refused/],
    ['wrong database password', { code: '28P01' }, /\(password authentication failed\)$/],
  ] as const) {
    it(what, () => assert.match(describeStartError(err, config) ?? '', line));
  }
  it('leaves other errors alone', () => {
    assert.equal(describeStartError(new Error('something else'), config), undefined);
    assert.equal(describeStartError(listenError('EADDRINUSE', 9999), config), undefined, 'a port that is no setting of ours');
  });
});

describe('pullmail-server start, failing', { timeout: 120_000 }, () => {
  let taken: Server;
  let takenPort: number;
  before(async () => {
    takenPort = await freePort();
    taken = createServer();
    await new Promise<void>((resolve) => taken.listen(takenPort, '127.0.0.1', resolve));
  });
  after(() => new Promise<void>((resolve) => taken.close(() => resolve())));

  /** stderr's lines; asserts the exit code is non-zero and that no stack trace was printed. */
  function failedWith(r: { code: number | null; stdout: string; stderr: string }): string[] {
    assert.notEqual(r.code, 0);
    assert.doesNotMatch(r.stdout + r.stderr, /\n\s+at /, 'no stack trace');
    return r.stderr.split('\n').filter(Boolean);
  }

  it('names PULLMAIL_HTTP_PORT when the HTTP port is taken', async () => {
    const lines = failedWith(await run(['start'], { PULLMAIL_DATA_DIR: ':memory:', PULLMAIL_HTTP_PORT: String(takenPort), PULLMAIL_SMTP_PORT: '0', PULLMAIL_SUBMISSION_PORT: '0' }));
    assert.deepEqual(lines, [`pullmail-server: PULLMAIL_HTTP_PORT: 127.0.0.1:${takenPort} is already in use by another program; stop it or choose another port`]);
  });

  it('names PULLMAIL_SMTP_PORT when the MX port is taken', async () => {
    const lines = failedWith(await run(['start'], { PULLMAIL_DATA_DIR: ':memory:', PULLMAIL_HTTP_PORT: String(await freePort()), PULLMAIL_SMTP_PORT: String(takenPort), PULLMAIL_SUBMISSION_PORT: '0' }));
    assert.deepEqual(lines, [`pullmail-server: PULLMAIL_SMTP_PORT: 127.0.0.1:${takenPort} is already in use by another program; stop it or choose another port`]);
  });

  it('names PULLMAIL_IMAP_PORT when the IMAP port is taken', async () => {
    const lines = failedWith(await run(['start'], { PULLMAIL_DATA_DIR: ':memory:', PULLMAIL_HTTP_PORT: String(await freePort()), PULLMAIL_SMTP_PORT: '0', PULLMAIL_SUBMISSION_PORT: '0', PULLMAIL_IMAP_PORT: String(takenPort) }));
    assert.deepEqual(lines, [`pullmail-server: PULLMAIL_IMAP_PORT: 127.0.0.1:${takenPort} is already in use by another program; stop it or choose another port`]);
  });

  it('names DATABASE_URL, password masked, when the database cannot be reached', async () => {
    const closed = await freePort();
    const lines = failedWith(await run(['start'], { DATABASE_URL: `postgres://pullmail:hunter2@127.0.0.1:${closed}/pullmail`, PULLMAIL_HTTP_PORT: String(await freePort()) }));
    assert.deepEqual(lines, [`pullmail-server: DATABASE_URL: cannot use the database at postgres://pullmail:***@127.0.0.1:${closed}/pullmail (connection refused: is PostgreSQL running and listening there?)`]);
  });

  it('never echoes the password of a malformed DATABASE_URL', async () => {
    const r = await run(['migrate'], { DATABASE_URL: 'mysql://root:hunter2@db/mail' });
    const lines = failedWith(r);
    assert.deepEqual(lines, ['pullmail-server: bad configuration: DATABASE_URL: "mysql://root:***@db/mail" must start with postgres://']);
    assert.doesNotMatch(r.stdout + r.stderr, /hunter2/);
  });

  it('warns about the example placeholder admin token', async () => {
    const r = await run(['migrate'], { PULLMAIL_DATA_DIR: ':memory:', PULLMAIL_ADMIN_TOKEN: 'change-me-to-a-long-random-string' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, 'pullmail-server: warning: PULLMAIL_ADMIN_TOKEN is still the example placeholder: set a random one (openssl rand -hex 32)\n');
  });

  it('lists silent among the log levels', async () => {
    const lines = failedWith(await run(['migrate'], { PULLMAIL_DATA_DIR: ':memory:', PULLMAIL_LOG_LEVEL: 'loud' }));
    assert.deepEqual(lines, ['pullmail-server: bad configuration: PULLMAIL_LOG_LEVEL: "loud" must be debug, info, warn, error or silent']);
  });
});
