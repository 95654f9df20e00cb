// Submission and outbound SMTP: swaks logs in as a user of a.test and sends; a pull-node recipient
// (b.test) gets the message by pm1, legacy recipients get it by SMTP through Postfix's smtp-sink as
// the relay, DKIM-signed so that mailauth verifies it. A relay answering 4xx is retried with
// backoff (clock injected), a 5xx makes the delivery `failed` with the remote reply.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { dkimVerify } from 'mailauth';
import { createFakeResolver } from '../packages/server/src/peers/fake-resolver.ts';
import { dkimKey, dkimRecord } from '../packages/server/src/smtp/dkim.ts';
import { findDelivery } from '../packages/server/src/store/deliveries.ts';
import { freePort, startNodes, type TestNode } from './harness/node.ts';
import { rawSmtp, sinkMessage, requireSmtpTools, startSmtpSink, swaks, type SmtpSink } from './harness/smtp-tools.ts';
import { waitFor } from './harness/wait.ts';

type Json = Record<string, any>;
const PASSWORD = 'correct horse battery';

describe('SMTP gateway: submission and outbound SMTP', () => {
  before(() => requireSmtpTools());
  let a: TestNode;
  let b: TestNode;
  let alice: string;
  let bob: string;
  let sink: SmtpSink;
  let sinkPort: number;
  let submissionPort: number;
  let skewMs = 0;

  before(async () => {
    sinkPort = await freePort();
    submissionPort = await freePort();
    sink = await startSmtpSink([], sinkPort);
    [a, b] = await startNodes([
      {
        domain: 'a.test',
        env: { PULLMAIL_SUBMISSION_PORT: String(submissionPort), PULLMAIL_SMTP_RELAY: `smtp://127.0.0.1:${sinkPort}` },
        now: () => Date.now() + skewMs,
      },
      { domain: 'b.test' },
    ]);
    alice = await a.addUser('alice@a.test', PASSWORD);
    bob = await b.addUser('bob@b.test');
    await b.api('/api/v1/rules', { method: 'POST', token: bob, json: { action: 'allow', pattern: 'alice@a.test' } });
  });
  after(async () => {
    await a?.stop();
    await b?.stop();
    await sink?.stop();
  });

  const json = async (res: Response): Promise<Json> => res.json() as Promise<Json>;
  const submit = (args: string[]) =>
    swaks(submissionPort, ['--auth', 'PLAIN', '--auth-user', 'alice@a.test', '--auth-password', PASSWORD, '--from', 'alice@a.test', ...args]);
  const last = (r: { replies: string[] }) => r.replies.filter((x) => !x.startsWith('221')).at(-1) ?? '';
  const sentNamed = async (subject: string) => {
    const list = await json(await a.api('/api/v1/sent', { token: alice }));
    return list.messages.find((m: Json) => m.subject === subject)?.id as string | undefined;
  };
  const status = async (id: string) => json(await a.api(`/api/v1/messages/${id}`, { token: alice }));
  const stateOf = async (id: string, rcpt: string) => (await status(id)).deliveries.find((d: Json) => d.rcpt === rcpt)?.state as string;
  const captured = (rcpt: string) => sink.messages().filter((m) => m.includes(`X-Rcpt-Args: <${rcpt}>`));
  async function replaceSink(options: string[]) {
    await sink.stop();
    sink = await startSmtpSink(options, sinkPort);
  }

  it('AUTH PLAIN submission reaches a pull node by pm1 and legacy recipients (Bcc included) by DKIM-signed SMTP', async () => {
    // the envelope has a Bcc recipient that no header names
    const r = await submit(['--to', 'bob@b.test,carl@legacy.test,dora@legacy.test', '--header', 'To: bob@b.test, carl@legacy.test', '--header', 'Subject: from my mail client', '--body', 'Sent with swaks.']);
    assert.match(last(r), /^250 2\.0\.0 Ok: queued as /, r.out);
    const id = await waitFor('sent message', () => sentNamed('from my mail client'));
    for (const rcpt of ['bob@b.test', 'carl@legacy.test', 'dora@legacy.test']) {
      await waitFor(`${rcpt} fetched`, async () => (await stateOf(id, rcpt)) === 'fetched');
    }
    const inbox = await json(await b.api('/api/v1/inbox', { token: bob }));
    const entry = inbox.messages.find((m: Json) => m.subject === 'from my mail client');
    assert.equal(entry?.via, 'pm1', 'bob got it by pm1');

    const key = await dkimKey(a.server.ctx.db, 'a.test', new Date());
    const record = dkimRecord(key);
    const dns = createFakeResolver({ txt: { [record.name]: [[record.value]] } });
    for (const rcpt of ['carl@legacy.test', 'dora@legacy.test']) {
      const [capture] = captured(rcpt);
      assert.ok(capture, `${rcpt} arrived at the relay`);
      const raw = sinkMessage(capture);
      assert.match(raw.toString('latin1'), /^DKIM-Signature: /);
      assert.doesNotMatch(raw.toString('latin1'), /^Bcc:/im, 'no Bcc header goes out');
      const verified = await dkimVerify(raw, { resolver: async (name: string, type: string) => dns.resolve(name, type) as never });
      assert.equal(verified.results.length, 1);
      assert.equal(verified.results[0].status.result, 'pass', JSON.stringify(verified.results[0].status));
      assert.equal(verified.results[0].signingDomain, 'a.test');
    }
    // and the signature really covers the bytes: one changed body byte fails it
    const tampered = Buffer.from(sinkMessage(captured('carl@legacy.test')[0]).toString('latin1').replace('Sent with swaks', 'Sent with swakz'), 'latin1');
    const bad = await dkimVerify(tampered, { resolver: async (name: string, type: string) => dns.resolve(name, type) as never });
    // mailauth's lenient mode calls a body hash mismatch `neutral` (RFC 6376 §6.3); it is no pass either way
    assert.notEqual(bad.results[0].status.result, 'pass');
    assert.match(bad.results[0].status.comment ?? '', /body hash/);
  });

  it('AUTH LOGIN works too; wrong passwords, strangers and foreign senders are refused in-session', async () => {
    const login = await swaks(submissionPort, ['--auth', 'LOGIN', '--auth-user', 'alice@a.test', '--auth-password', PASSWORD, '--from', 'alice@a.test', '--to', 'bob@b.test', '--header', 'Subject: via login']);
    assert.match(last(login), /^250 /, login.out);
    const wrong = await swaks(submissionPort, ['--auth', 'PLAIN', '--auth-user', 'alice@a.test', '--auth-password', 'not the password', '--from', 'alice@a.test', '--to', 'bob@b.test']);
    assert.ok(wrong.replies.includes('535 5.7.8 Authentication credentials invalid'), wrong.out);
    const nobody = await swaks(submissionPort, ['--auth', 'PLAIN', '--auth-user', 'nobody@a.test', '--auth-password', PASSWORD, '--from', 'nobody@a.test', '--to', 'bob@b.test']);
    assert.ok(nobody.replies.includes('535 5.7.8 Authentication credentials invalid'), nobody.out);
    const anonymous = await swaks(submissionPort, ['--from', 'alice@a.test', '--to', 'bob@b.test']);
    assert.ok(anonymous.replies.some((x) => x.startsWith('530 ')), `MAIL before AUTH is refused: ${anonymous.out}`);
    const envelope = await submit(['--from', 'boss@a.test', '--to', 'bob@b.test']);
    assert.ok(envelope.replies.some((x) => /^553 5\.7\.1 /.test(x)), envelope.out);
    const header = await submit(['--to', 'bob@b.test', '--header', 'From: ceo@b.test', '--header', 'Subject: forged from']);
    assert.match(last(header), /^553 5\.7\.1 /, header.out);
    assert.equal(await sentNamed('forged from'), undefined, 'nothing was queued');
  });

  it('queues a message whose Subject has a NUL, the subject kept with U+FFFD (PostgreSQL text cannot hold a NUL)', async () => {
    const auth = Buffer.from(`\0alice@a.test\0${PASSWORD}`).toString('base64');
    const replies = await rawSmtp(submissionPort, [
      'EHLO client.test\r\n', `AUTH PLAIN ${auth}\r\n`, 'MAIL FROM:<alice@a.test>\r\n', 'RCPT TO:<bob@b.test>\r\n', 'DATA\r\n',
      'From: alice@a.test\r\nTo: bob@b.test\r\nSubject: nul\0here\r\n\r\nbody\r\n.\r\n', 'QUIT\r\n',
    ]);
    assert.match(replies[6], /^250 /, replies.join('\n'));
    assert.ok(await sentNamed('nul\uFFFDhere'), 'in the sent list');
  });

  it('retries a relay that answers 4xx, with backoff, and hands over once it accepts', async () => {
    await replaceSink(['-r', 'RCPT']);
    const res = await a.api('/api/v1/messages', { method: 'POST', token: alice, json: { to: ['ted@legacy.test'], subject: 'try again', text: 'later' } });
    const { id } = await json(res);
    const d = await waitFor('a deferred attempt', async () => {
      const row = await findDelivery(a.server.ctx.db, id, 'ted@legacy.test');
      return row?.lastError ? row : undefined;
    });
    assert.equal(d.state, 'queued');
    assert.equal(d.transport, 'smtp');
    assert.match(d.lastError!, /45\d 4\.\d\.\d/, 'the remote reply is kept');
    assert.ok(d.nextAttemptAt!.getTime() > Date.now() + skewMs + 10_000, 'the next attempt waits (backoff)');
    assert.equal(captured('ted@legacy.test').length, 0);

    await replaceSink([]);
    skewMs += 3600_000;
    a.server.ctx.kick();
    await waitFor('handed over after the retry', async () => (await stateOf(id, 'ted@legacy.test')) === 'fetched');
    assert.equal(captured('ted@legacy.test').length, 1);
    assert.ok((await findDelivery(a.server.ctx.db, id, 'ted@legacy.test'))!.attempts >= 2);
  });

  it('records a 5xx from the relay as failed with the remote reply', async () => {
    await replaceSink(['-f', 'RCPT']);
    const res = await a.api('/api/v1/messages', { method: 'POST', token: alice, json: { to: ['gone@legacy.test'], subject: 'bounce me', text: 'no' } });
    const { id } = await json(res);
    await waitFor('failed', async () => (await stateOf(id, 'gone@legacy.test')) === 'failed');
    const d = (await status(id)).deliveries[0];
    assert.match(d.reason, /127\.0\.0\.1 answered 5\d\d 5\.\d\.\d/);
    await replaceSink([]);
  });
});

describe('pullmail-server dkim show', () => {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const run = (dataDir: string, domain: string) =>
    spawnSync(process.execPath, [join(root, 'packages/server/src/cli.ts'), 'dkim', 'show', domain], {
      env: { PATH: process.env.PATH, PULLMAIL_DOMAINS: 'a.test', PULLMAIL_DATA_DIR: dataDir },
      encoding: 'utf8',
    });

  it('prints the TXT record of the domain key, the same key every time', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pm-dkim-'));
    try {
      const first = run(dir, 'a.test');
      assert.equal(first.status, 0, first.stderr);
      assert.match(first.stdout, /^pm\d{6}\._domainkey\.a\.test\. IN TXT "v=DKIM1; k=rsa; p=[A-Za-z0-9+/]{100,}"( "[A-Za-z0-9+/=]+")*\n$/);
      assert.ok(first.stdout.split('"').every((part) => part.length <= 255), 'strings of at most 255 characters');
      assert.equal(run(dir, 'a.test').stdout, first.stdout);
      const other = run(dir, 'b.test');
      assert.notEqual(other.status, 0);
      assert.match(other.stderr, /not a domain of this node/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
