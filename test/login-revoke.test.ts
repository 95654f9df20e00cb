// An admin disabling, deleting or resetting the password of a mailbox ends the connections its
// password opened, not only its web sessions: Python's imaplib, imapflow and smtplib hold an IMAP
// and a submission session open across the admin action; the next command is refused and the
// connection closes (accounts/login-grants.ts). A change written by another process (no
// announcement here) is seen within RECHECK_MS, with the node's clock moved instead of waiting.
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { ImapFlow } from 'imapflow';
import { RECHECK_MS } from '../packages/server/src/accounts/login-grants.ts';
import { findMailbox, setDisabledAt } from '../packages/server/src/store/mailboxes.ts';
import { ADMIN_TOKEN, freePort, startNode, type TestNode } from './harness/node.ts';

type Json = Record<string, any>;

/**
 * A Python client kept running: each step is one JSON line on its stdin ([op, ...args]), answered by
 * one JSON line. A reply that ends the connection carries `eof`: whether the server then closed it.
 */
const IMAP_CLIENT = String.raw`
import imaplib, json, sys, socket
M = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))
M.sock.settimeout(10)
for line in sys.stdin:
    op, *args = json.loads(line)
    res = {}
    try:
        typ, data = getattr(M, op)(*args)
        res = {'typ': typ, 'data': [d.decode() if isinstance(d, bytes) else str(d) for d in data]}
    except imaplib.IMAP4.abort as e:
        res = {'abort': str(e)}
        try:
            res['eof'] = M.sock.recv(1) == b''
        except socket.timeout:
            res['eof'] = False
    except imaplib.IMAP4.error as e:
        res = {'error': str(e)}
    print(json.dumps(res), flush=True)
`;

const SMTP_CLIENT = String.raw`
import smtplib, json, sys, socket
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), timeout=10)
for line in sys.stdin:
    op, *args = json.loads(line)
    if op == 'login':
        s.ehlo()
        try:
            s.login(*args)
            res = {'code': 235}
        except smtplib.SMTPAuthenticationError as e:
            res = {'code': e.smtp_code}
    else:
        if op == 'cmd':
            code, msg = s.docmd(args[0])
        else:  # 'message': the body after a 354, dot-terminated
            s.send(args[0].encode() + b'\r\n.\r\n')
            code, msg = s.getreply()
        res = {'code': code, 'msg': msg.decode()}
        if code == 421:
            try:
                res['eof'] = s.file.readline() == b''
            except socket.timeout:
                res['eof'] = False
    print(json.dumps(res), flush=True)
`;

interface Client {
  step(...op: unknown[]): Promise<Json>;
  close(): void;
}

function pythonClient(script: string, port: number): Client {
  const child: ChildProcessWithoutNullStreams = spawn('python3', ['-c', script, String(port)]);
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  return {
    async step(...op) {
      child.stdin.write(`${JSON.stringify(op)}\n`);
      const { value, done } = await lines.next();
      assert.ok(!done, `the client ended: ${err}`);
      return JSON.parse(value);
    },
    close: () => child.kill(),
  };
}

describe('Disabling a mailbox or changing its password ends its IMAP and submission connections', () => {
  let a: TestNode;
  let imapPort: number;
  let submissionPort: number;
  let skewMs = 0;
  const clients: Client[] = [];
  const admin = async (method: string, path: string, json?: unknown) => {
    const res = await a.api(`/api/v1/admin/users/${path}`, { method, token: ADMIN_TOKEN, json });
    assert.ok(res.ok, `${method} ${path}: ${res.status} ${await res.clone().text()}`);
  };
  const imap = async (user: string, password: string) => {
    const c = pythonClient(IMAP_CLIENT, imapPort);
    clients.push(c);
    assert.equal((await c.step('login', user, password)).typ, 'OK');
    assert.equal((await c.step('select', 'INBOX')).typ, 'OK');
    return c;
  };
  const submission = async (user: string, password: string) => {
    const c = pythonClient(SMTP_CLIENT, submissionPort);
    clients.push(c);
    assert.equal((await c.step('login', user, password)).code, 235);
    return c;
  };
  // imaplib raises the BYE's text as IMAP4.abort
  const BYE = /\[EXPIRED\] Login no longer valid/;

  before(async () => {
    [imapPort, submissionPort] = [await freePort(), await freePort()];
    a = await startNode({ domain: 'a.test', env: { PULLMAIL_IMAP_PORT: String(imapPort), PULLMAIL_SUBMISSION_PORT: String(submissionPort) }, now: () => Date.now() + skewMs });
    await Promise.all(['dis', 'pw', 'idle', 'other', 'smtp-dis', 'smtp-pw', 'smtp-data', 'far'].map((name) => a.addUser(`${name}@a.test`, 'first-password')));
  });
  after(async () => {
    for (const c of clients) c.close();
    await a?.stop();
  });

  it('IMAP: after the admin API disables the mailbox, the next command gets BYE and the connection closes', async () => {
    const c = await imap('dis@a.test', 'first-password');
    const other = await imap('other@a.test', 'first-password');
    assert.equal((await c.step('noop')).typ, 'OK');
    await admin('POST', 'dis@a.test/disable');
    const r = await c.step('noop');
    assert.match(r.abort, BYE);
    assert.equal(r.eof, true, 'the server closed the connection');
    assert.equal((await other.step('noop')).typ, 'OK', 'another mailbox\'s session goes on');
    const again = pythonClient(IMAP_CLIENT, imapPort);
    clients.push(again);
    assert.match((await again.step('login', 'dis@a.test', 'first-password')).error, /AUTHENTICATIONFAILED/, 'and no new login');
  });

  it('IMAP: after a password reset the next command gets BYE; the new password logs in', async () => {
    const c = await imap('pw@a.test', 'first-password');
    await admin('PUT', 'pw@a.test/password', { password: 'second-password' });
    const r = await c.step('status', 'INBOX', '(MESSAGES)');
    assert.match(r.abort, BYE);
    assert.equal(r.eof, true);
    await imap('pw@a.test', 'second-password');
  });

  it('IMAP IDLE (imapflow): a deleted mailbox\'s connection is closed at once, without a command', { timeout: 20_000 }, async () => {
    const c = new ImapFlow({ host: '127.0.0.1', port: imapPort, secure: false, auth: { user: 'idle@a.test', pass: 'first-password' }, logger: false });
    await c.connect();
    await c.mailboxOpen('INBOX');
    const closed = new Promise<void>((resolve) => c.once('close', () => resolve()));
    const idling = c.idle().catch(() => undefined);
    await admin('DELETE', 'idle@a.test');
    await closed;
    await idling;
    assert.equal(c.usable, false);
  });

  it('submission: after the mailbox is disabled, MAIL FROM gets 421 and the connection closes', async () => {
    const c = await submission('smtp-dis@a.test', 'first-password');
    assert.equal((await c.step('cmd', 'RSET')).code, 250);
    await admin('POST', 'smtp-dis@a.test/disable');
    const r = await c.step('cmd', 'MAIL FROM:<smtp-dis@a.test>');
    assert.equal(r.code, 421, r.msg);
    assert.match(r.msg, /^4\.7\.0 Login no longer valid/);
    assert.equal(r.eof, true);
  });

  it('submission: a password reset between MAIL and RCPT refuses the RCPT with 421', async () => {
    const c = await submission('smtp-pw@a.test', 'first-password');
    assert.equal((await c.step('cmd', 'MAIL FROM:<smtp-pw@a.test>')).code, 250);
    await admin('PUT', 'smtp-pw@a.test/password', { password: 'second-password' });
    const r = await c.step('cmd', 'RCPT TO:<bob@legacy.test>');
    assert.equal(r.code, 421, r.msg);
    assert.equal(r.eof, true);
    await submission('smtp-pw@a.test', 'second-password');
  });

  it('submission: a password reset after RCPT refuses the message after DATA with 421, and nothing is sent', async () => {
    const c = await submission('smtp-data@a.test', 'first-password');
    assert.equal((await c.step('cmd', 'MAIL FROM:<smtp-data@a.test>')).code, 250);
    assert.equal((await c.step('cmd', 'RCPT TO:<bob@legacy.test>')).code, 250);
    assert.equal((await c.step('cmd', 'DATA')).code, 354);
    await admin('PUT', 'smtp-data@a.test/password', { password: 'second-password' });
    const r = await c.step('message', 'From: smtp-data@a.test\r\nTo: bob@legacy.test\r\nSubject: after the reset\r\n\r\nnot sent');
    assert.equal(r.code, 421, r.msg);
    assert.equal(r.eof, true);
    const token = (await (await a.api('/api/v1/admin/users/smtp-data@a.test/token', { method: 'POST', token: ADMIN_TOKEN, json: {} })).json()) as { token: string };
    const sent = (await (await a.api('/api/v1/sent', { token: token.token })).json()) as { messages: unknown[] };
    assert.equal(sent.messages.length, 0);
  });

  it('a change written by another process is seen once RECHECK_MS passed since the last read', async () => {
    const c = await imap('far@a.test', 'first-password');
    const s = await submission('far@a.test', 'first-password');
    // as `pullmail-server user disable` against PostgreSQL from another process: no announcement here
    const mailbox = (await findMailbox(a.server.ctx.db, 'far@a.test'))!;
    await setDisabledAt(a.server.ctx.db, mailbox.id, new Date());
    assert.equal((await c.step('noop')).typ, 'OK', 'within RECHECK_MS the row is not read again');
    assert.equal((await s.step('cmd', 'MAIL FROM:<far@a.test>')).code, 250);
    skewMs += RECHECK_MS;
    const r = await c.step('noop');
    assert.match(r.abort, BYE);
    assert.equal(r.eof, true);
    const m = await s.step('cmd', 'RCPT TO:<bob@legacy.test>');
    assert.equal(m.code, 421, m.msg);
    assert.equal(m.eof, true);
  });
});
