// The IMAP layer driven over TCP by clients nobody on the team wrote: Python's imaplib and imapflow.
// The backend is the in-memory fake until the mailbox model's SQL backend exists.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { connect } from 'node:net';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { connect as tlsConnect } from 'node:tls';
import { ImapFlow } from 'imapflow';
import { RUN_LIMITS } from '../packages/server/src/imap/fetch.ts';
import { startImapListener, type ImapListener } from '../packages/server/src/imap/listener.ts';
import { createMemoryBackend } from '../packages/server/src/imap/memory-backend.ts';
import { testPki } from './harness/tls.ts';
import { waitFor } from './harness/wait.ts';
import { Readable } from 'node:stream';
import type { MailAccount, MailBackend } from '../packages/server/src/imap/backend.ts';

const USERS: Record<string, string> = { 'bob@y.test': 'bob-password', 'eve@y.test': 'eve-password' };

const MULTIPART = [
  'From: "Alice A." <alice@x.test>',
  'To: bob@y.test',
  'Subject: =?utf-8?Q?Gr=C3=BC=C3=9Fe?=',
  'Message-ID: <multi@x.test>',
  'Date: Tue, 1 Dec 2026 10:00:00 +0000',
  'MIME-Version: 1.0',
  'Content-Type: multipart/mixed; boundary="b1"',
  '',
  '--b1',
  'Content-Type: text/plain; charset=utf-8',
  '',
  'see the attachment',
  '--b1',
  'Content-Type: application/octet-stream; name="data.bin"',
  'Content-Disposition: attachment; filename="data.bin"',
  'Content-Transfer-Encoding: base64',
  '',
  Buffer.from('binary\x00data').toString('base64'),
  '--b1--',
  '',
].join('\r\n');

const simple = (subject: string) => `From: carol@z.test\r\nTo: bob@y.test\r\nSubject: ${subject}\r\nMessage-ID: <${subject}@z.test>\r\n\r\nbody of ${subject}\r\n`;

/** Runs a Python script with imaplib against the listener; it prints one JSON object. */
async function runPython(script: string, port: number): Promise<Record<string, unknown>> {
  const child = spawn('python3', ['-c', script, String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const [code] = await once(child, 'close');
  assert.equal(code, 0, `python3 failed: ${err}`);
  return JSON.parse(out);
}

describe('IMAP over TCP with real clients', () => {
  let listener: ImapListener;
  let port: number;
  const backend = createMemoryBackend();

  before(async () => {
    listener = await startImapListener({
      host: '127.0.0.1',
      port: 0,
      backend,
      login: async (user, password) => (USERS[user] === password ? { user } : undefined),
      maxConnectionsPerAddress: 8,
      maxLiteralBytes: 1024 * 1024,
    });
    port = listener.port;
  });
  after(() => listener.close());

  it('Python imaplib: login, LIST, APPEND, SELECT, FETCH, STORE, SEARCH, COPY, MOVE, EXPUNGE and IDLE', async () => {
    const script = String.raw`
import imaplib, json, sys
port = int(sys.argv[1])
res = {}
M = imaplib.IMAP4('127.0.0.1', port)
res['caps'] = sorted(M.capabilities)
try:
    M.login('bob@y.test', 'wrong')
    res['badlogin'] = 'accepted'
except imaplib.IMAP4.error as e:
    res['badlogin'] = str(e)
M.login('bob@y.test', 'bob-password')
typ, lines = M.list()
res['list'] = [l.decode() for l in lines]
typ, data = M.append('INBOX', r'(\Seen)', '"01-Dec-2026 10:00:00 +0000"', ${JSON.stringify(MULTIPART)}.encode())
res['append'] = data[0].decode()
M.append('INBOX', None, None, ${JSON.stringify(simple('second'))}.encode())
M.append('INBOX', None, None, ${JSON.stringify(simple('third'))}.encode())
typ, data = M.select('INBOX')
res['exists'] = int(data[0])
typ, data = M.fetch('1', '(BODYSTRUCTURE ENVELOPE BODY.PEEK[1] BODY.PEEK[2.MIME] BODY.PEEK[HEADER.FIELDS (SUBJECT)] RFC822.SIZE)')
res['fetch'] = [[p.decode('utf-8', 'replace') for p in d] if isinstance(d, tuple) else d.decode() for d in data]
typ, data = M.uid('FETCH', '1:*', '(FLAGS)')
res['flags'] = [d.decode() for d in data]
M.store('2', '+FLAGS', r'(\Flagged)')
typ, data = M.search(None, 'FLAGGED')
res['flagged'] = data[0].decode()
typ, data = M.search(None, 'SUBJECT', 'third')
res['subject_third'] = data[0].decode()
typ, data = M.search(None, 'BODY', 'attachment')
res['body_search'] = data[0].decode()
# uid() returns untagged data only; the tagged [COPYUID] comes back from _simple_command
typ, data = M._simple_command('UID', 'COPY', '1', 'Archive')
res['copy'] = data[0].decode()
typ, data = M.uid('MOVE', '2', 'Trash')
res['move'] = typ
M.store('1', '+FLAGS', r'(\Deleted)')
typ, data = M.expunge()
res['expunged'] = [d.decode() for d in data if d]
typ, data = M.fetch('1:*', '(UID BODY.PEEK[HEADER.FIELDS (SUBJECT)])')
res['left'] = [d[1].decode().strip() for d in data if isinstance(d, tuple)]
# IDLE with a second connection appending (imaplib 3.11 has no idle(): speak it on the client's socket)
N = imaplib.IMAP4('127.0.0.1', port)
N.login('bob@y.test', 'bob-password')
tag = M._new_tag()
M.send(tag + b' IDLE\r\n')
res['idle_start'] = M.readline().decode().strip()
N.append('INBOX', None, None, ${JSON.stringify(simple('during-idle'))}.encode())
res['idle_event'] = M.readline().decode().strip()
M.send(b'DONE\r\n')
res['idle_end'] = M.readline().decode().strip()
N.logout()
res['status'] = M.status('Trash', '(MESSAGES UIDNEXT)')[1][0].decode()
res['logout'] = M.logout()[0]
print(json.dumps(res))
`;
    const r = await runPython(script, port);
    for (const cap of ['IMAP4REV1', 'IDLE', 'UIDPLUS', 'MOVE', 'SPECIAL-USE', 'UNSELECT', 'ID', 'ENABLE', 'NAMESPACE', 'LITERAL+', 'CONDSTORE']) assert.ok((r.caps as string[]).includes(cap), cap);
    assert.match(r.badlogin as string, /AUTHENTICATIONFAILED/);
    assert.ok((r.list as string[]).includes('(\\HasNoChildren \\Sent) "/" "Sent"'));
    assert.match(r.append as string, /^\[APPENDUID \d+ 1\]/);
    assert.equal(r.exists, 3);
    const fetch = (r.fetch as unknown[]).flat().join('\n');
    assert.match(fetch, /BODYSTRUCTURE \(\("text" "plain" \("charset" "utf-8"\) NIL NIL "7bit" 18 1 NIL NIL NIL NIL\)\("application" "octet-stream" \("name" "data.bin"\) NIL NIL "base64" 16 NIL \("attachment" \("filename" "data.bin"\)\) NIL NIL\) "mixed" \("boundary" "b1"\) NIL NIL NIL\)/);
    assert.match(fetch, /ENVELOPE \("Tue, 1 Dec 2026 10:00:00 \+0000" "=\?utf-8\?Q\?Gr=C3=BC=C3=9Fe\?=" \(\("Alice A\." NIL "alice" "x\.test"\)\)/);
    assert.ok(fetch.includes('\nsee the attachment\n'));
    assert.ok(fetch.includes('Content-Disposition: attachment; filename="data.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\n'));
    assert.ok(fetch.includes('Subject: =?utf-8?Q?Gr=C3=BC=C3=9Fe?=\r\n\r\n'));
    assert.ok(fetch.includes(`RFC822.SIZE ${Buffer.byteLength(MULTIPART)}`));
    assert.deepEqual(r.flags, ['1 (UID 1 FLAGS (\\Seen))', '2 (UID 2 FLAGS ())', '3 (UID 3 FLAGS ())']);
    assert.equal(r.flagged, '2');
    assert.equal(r.subject_third, '3');
    assert.equal(r.body_search, '1');
    assert.match(r.copy as string, /^\[COPYUID \d+ 1 1\]/);
    assert.equal(r.move, 'OK');
    // imaplib hands over every EXPUNGE since it last asked: MOVE's (message 2), then EXPUNGE's (1)
    assert.deepEqual(r.expunged, ['2', '1']);
    assert.deepEqual(r.left, ['Subject: third']);
    assert.equal(r.idle_start, '+ idling');
    assert.equal(r.idle_event, '* 2 EXISTS');
    assert.match(r.idle_end as string, / OK IDLE terminated$/);
    assert.equal(r.status, '"Trash" (MESSAGES 1 UIDNEXT 2)');
    assert.equal(r.logout, 'BYE');
  });

  it('imapflow: mailboxes, append, structure and part download, flags, search, copy, move, delete and IDLE', async () => {
    const client = new ImapFlow({ host: '127.0.0.1', port, secure: false, auth: { user: 'eve@y.test', pass: 'eve-password' }, logger: false });
    const other = new ImapFlow({ host: '127.0.0.1', port, secure: false, auth: { user: 'eve@y.test', pass: 'eve-password' }, logger: false });
    await client.connect();
    await other.connect();
    try {
      const boxes = await client.list();
      assert.deepEqual(
        Object.fromEntries(boxes.filter((b) => b.specialUse).map((b) => [b.path, b.specialUse])),
        { INBOX: '\\Inbox', Sent: '\\Sent', Drafts: '\\Drafts', Trash: '\\Trash', Junk: '\\Junk', Archive: '\\Archive' },
      );
      // eve sees none of bob's mail from the first test
      const mailbox = await client.mailboxOpen('INBOX');
      assert.equal(mailbox.exists, 0);

      const appended = await client.append('INBOX', MULTIPART, ['\\Flagged']);
      assert.ok(appended && appended.uid === 1);
      await client.append('INBOX', simple('plain-one'));

      const msg = await client.fetchOne('1', { uid: true, flags: true, envelope: true, bodyStructure: true, source: true, size: true });
      assert.ok(msg);
      assert.equal(msg.source?.toString(), MULTIPART);
      assert.equal(msg.envelope?.subject, 'Grüße');
      assert.deepEqual(msg.envelope?.from, [{ name: 'Alice A.', address: 'alice@x.test' }]);
      assert.deepEqual(msg.bodyStructure?.childNodes?.map((n) => [n.part, n.type, n.disposition]), [['1', 'text/plain', undefined], ['2', 'application/octet-stream', 'attachment']]);
      const part = await client.download('1', '2');
      const chunks: Buffer[] = [];
      for await (const c of part.content!) chunks.push(c as Buffer);
      assert.equal(Buffer.concat(chunks).toString('latin1'), 'binary\x00data');

      // a whole-body FETCH is streamed from the backend in chunks; the bytes arrive exactly
      const big = `${simple('big')}${'0123456789abcdef'.repeat(40_000)}\r\n`;
      const stored = await other.append('Drafts', big);
      assert.ok(stored);
      await client.mailboxOpen('Drafts');
      const fetched = await client.fetchOne(String(stored.uid), { source: true }, { uid: true });
      assert.ok(fetched);
      assert.equal(fetched.source?.toString(), big);
      await client.mailboxOpen('INBOX');

      await client.messageFlagsAdd('2', ['\\Seen', '$Label1']);
      assert.deepEqual(await client.search({ seen: true }), [2]);
      assert.deepEqual(await client.search({ flagged: true }), [1]);
      assert.deepEqual(await client.search({ keyword: '$Label1' }), [2]);
      assert.deepEqual(await client.search({ subject: 'plain-one' }, { uid: true }), [2]);

      const copied = await client.messageCopy('1', 'Archive', { uid: true });
      assert.ok(copied && copied.uidMap?.get(1) === 1);
      const moved = await client.messageMove('2', 'Trash', { uid: true });
      assert.ok(moved && moved.uidMap?.get(2) === 1);
      assert.equal(client.mailbox && client.mailbox.exists, 1);
      await client.messageDelete('1', { uid: true });
      assert.equal(client.mailbox && client.mailbox.exists, 0);

      // IDLE: another connection's APPEND arrives as EXISTS
      const sawExists = new Promise<number>((resolve) => client.on('exists', (e: { count: number }) => resolve(e.count)));
      const idling = client.idle();
      await other.append('INBOX', simple('while-idling'));
      assert.equal(await sawExists, 1);
      await client.noop(); // ends IDLE
      await idling;
      const status = await client.status('Trash', { messages: true, unseen: true });
      assert.ok(status);
      assert.deepEqual([status.messages, status.unseen], [1, 0]);
    } finally {
      await client.logout();
      await other.logout();
    }
  });

  it('caps: a line over the limit is answered BAD and the session goes on; an oversized LITERAL+ closes it', async () => {
    const sock = connect(port, '127.0.0.1');
    let got = '';
    sock.on('data', (d) => (got += d));
    const waitFor = async (re: RegExp) => {
      while (!re.test(got)) await once(sock, 'data');
    };
    await waitFor(/^\* OK/);
    sock.write(`a1 NOOP ${'x'.repeat(70 * 1024)}\r\na2 NOOP\r\n`);
    await waitFor(/a2 OK/);
    assert.match(got, /a1 BAD Line too long\r\n/);
    sock.write(`a3 APPEND INBOX {${2 * 1024 * 1024}+}\r\n`);
    await waitFor(/\* BYE Literal too large/);
    await once(sock, 'close');
  });

  it('caps: connections from one address beyond the limit are turned away with BYE', async () => {
    const socks = Array.from({ length: 8 }, () => connect(port, '127.0.0.1'));
    await Promise.all(socks.map((s) => once(s, 'data')));
    const extra = connect(port, '127.0.0.1');
    const [line] = await once(extra, 'data');
    assert.match(String(line), /^\* BYE Too many connections/);
    for (const s of socks) s.destroy();
    extra.destroy();
  });
});

describe('IMAP listener streaming', () => {
  it('closes a message stream it opened for a client that went away before the answer', async () => {
    const memory = createMemoryBackend();
    let source: Readable | undefined;
    let opened!: () => void;
    const openedNow = new Promise<void>((r) => (opened = r));
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    // the fake's account, but its message stream is one we can watch and open when we say
    const backend: MailBackend = {
      async openAccount(user) {
        const account = await memory.openAccount(user);
        return Object.assign(Object.create(account) as MailAccount, {
          openMessage: async () => {
            opened();
            await released;
            source = Readable.from([Buffer.from(simple('x'))]);
            return source;
          },
        });
      },
    };
    const listener = await startImapListener({ host: '127.0.0.1', port: 0, backend, login: async (u) => ({ user: u }), maxConnectionsPerAddress: 1 });
    try {
      // large enough to be streamed rather than read with its neighbours (imap/fetch.ts RUN_LIMITS)
      const large = `${simple('x')}${'a'.repeat(76)}\r\n`.repeat(1 + Math.ceil(RUN_LIMITS.streamOver / 78));
      await memory.account('u').append('INBOX', Buffer.from(large), [], new Date());
      const sock = connect(listener.port, '127.0.0.1');
      sock.write('a LOGIN u p\r\nb SELECT INBOX\r\nc FETCH 1 BODY.PEEK[]\r\n');
      await openedNow;
      sock.destroy();
      // with one connection allowed per address, a new one is greeted once the server let go of the first
      await waitFor('the server to see the client go', async () => {
        const probe = connect(listener.port, '127.0.0.1');
        const [line] = await once(probe, 'data');
        probe.destroy();
        return String(line).startsWith('* OK');
      });
      release();
      await waitFor('the unread message stream to be closed', async () => source?.destroyed);
    } finally {
      await listener.close();
    }
  });
});

describe('IMAP listener connection cap in all', () => {
  it('turns away connections beyond the total cap and takes new ones once some closed', async () => {
    const listener = await startImapListener({ host: '127.0.0.1', port: 0, backend: createMemoryBackend(), login: async () => undefined, maxConnections: 2 });
    try {
      const first = [connect(listener.port, '127.0.0.1'), connect(listener.port, '127.0.0.1')];
      for (const s of first) assert.match(String((await once(s, 'data'))[0]), /^\* OK/);
      const extra = connect(listener.port, '127.0.0.1');
      assert.match(String((await once(extra, 'data'))[0]), /^\* BYE Too many connections/);
      first[0].end('a LOGOUT\r\n');
      await once(first[0], 'close');
      // the listener counts the closed one out when its close event has run
      for (;;) {
        const next = connect(listener.port, '127.0.0.1');
        const line = String((await once(next, 'data'))[0]);
        next.destroy();
        if (line.startsWith('* OK')) break;
      }
      first[1].destroy();
    } finally {
      await listener.close();
    }
  });
});

describe('IMAP listener idle timeout', () => {
  it('closes a connection that sent nothing for the timeout, and a command refreshes it', async () => {
    const listener = await startImapListener({ host: '127.0.0.1', port: 0, backend: createMemoryBackend(), login: async () => undefined, idleTimeoutMs: 300 });
    try {
      const sock = connect(listener.port, '127.0.0.1');
      let got = '';
      sock.on('data', (d) => (got += d));
      await once(sock, 'data');
      const opened = Date.now();
      // a client busy for three timeouts stays connected: each command pushes the deadline out
      for (let n = 0; Date.now() - opened < 900; n++) {
        sock.write(`a${n} NOOP\r\n`);
        while (!got.includes(`a${n} OK`)) await once(sock, 'data');
      }
      assert.ok(!got.includes('BYE'));
      const quietFrom = Date.now();
      await once(sock, 'close');
      assert.ok(Date.now() - quietFrom >= 250, 'closed only after the timeout');
      assert.match(got, /\* BYE Idle for too long\r\n$/);
    } finally {
      await listener.close();
    }
  });
});

describe('IMAP over TLS', () => {
  const pki = testPki();
  const tls = { cert: readFileSync(pki.certPath, 'utf8'), key: readFileSync(pki.keyPath, 'utf8') };
  const login = async (user: string, password: string) => (USERS[user] === password ? { user } : undefined);

  it('STARTTLS: no login in clear text, then imapflow and imaplib upgrade and log in', async () => {
    const listener = await startImapListener({ host: '127.0.0.1', port: 0, backend: createMemoryBackend(), login, tls, loginNeedsTls: true });
    try {
      const sock = connect(listener.port, '127.0.0.1');
      let got = '';
      sock.on('data', (d) => (got += d));
      while (!got.includes('\r\n')) await once(sock, 'data');
      assert.match(got, /^\* OK \[CAPABILITY [^\]]*STARTTLS[^\]]*LOGINDISABLED\]/);
      assert.ok(!got.includes('AUTH=PLAIN'));
      sock.write('a LOGIN bob@y.test bob-password\r\n');
      while (!got.includes('a ')) await once(sock, 'data');
      assert.match(got, /a NO \[PRIVACYREQUIRED\]/);
      sock.destroy();

      const client = new ImapFlow({ host: '127.0.0.1', port: listener.port, secure: false, doSTARTTLS: true, tls: { ca: [pki.ca] }, auth: { user: 'bob@y.test', pass: 'bob-password' }, logger: false });
      await client.connect();
      assert.equal(client.secureConnection, true);
      assert.equal((await client.mailboxOpen('INBOX')).exists, 0);
      await client.logout();

      const r = await runPython(
        String.raw`
import imaplib, json, ssl, sys
ctx = ssl.create_default_context(cafile=${JSON.stringify(pki.caPath)})
M = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))
M.starttls(ssl_context=ctx)
caps = sorted(M.capabilities)
typ, _ = M.login('bob@y.test', 'bob-password')
print(json.dumps({'caps': caps, 'login': typ, 'tls': M.sock.version()}))
M.logout()
`,
        listener.port,
      );
      assert.equal(r.login, 'OK');
      assert.ok((r.caps as string[]).includes('AUTH=PLAIN') && !(r.caps as string[]).includes('STARTTLS'));
      assert.match(r.tls as string, /^TLSv1\.[23]$/);
    } finally {
      await listener.close();
    }
  });

  it('STARTTLS: commands sent in clear text behind it are dropped, not run after the upgrade', async () => {
    const listener = await startImapListener({ host: '127.0.0.1', port: 0, backend: createMemoryBackend(), login, tls });
    try {
      const sock = connect(listener.port, '127.0.0.1');
      let got = '';
      const onData = (d: Buffer) => (got += d);
      sock.on('data', onData);
      while (!got.includes('\r\n')) await once(sock, 'data');
      sock.write('a STARTTLS\r\nb LOGIN bob@y.test bob-password\r\n');
      while (!got.includes('a OK')) await once(sock, 'data');
      sock.removeListener('data', onData);
      const secure = tlsConnect({ socket: sock, ca: [pki.ca], servername: 'localhost' });
      await once(secure, 'secureConnect');
      let after = '';
      secure.on('data', (d) => (after += d));
      secure.write('c NOOP\r\n');
      while (!after.includes('c OK')) await once(secure, 'data');
      assert.equal(after, 'c OK NOOP completed\r\n');
      secure.destroy();
    } finally {
      await listener.close();
    }
  });

  it('implicit TLS: imapflow connects with secure: true', async () => {
    const listener = await startImapListener({ host: '127.0.0.1', port: 0, backend: createMemoryBackend(), login, tls, implicitTls: true, loginNeedsTls: true });
    try {
      const client = new ImapFlow({ host: '127.0.0.1', port: listener.port, secure: true, tls: { ca: [pki.ca] }, auth: { user: 'eve@y.test', pass: 'eve-password' }, logger: false });
      await client.connect();
      await client.append('INBOX', simple('over-tls'));
      assert.equal((await client.mailboxOpen('INBOX')).exists, 1);
      await client.logout();
    } finally {
      await listener.close();
    }
  });
});
