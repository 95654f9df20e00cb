// IMAP on a real node over the mailbox model (docs/imap.md, docs/mailbox.md), driven by clients nobody
// on the team wrote: imapflow, Python's imaplib and isync's mbsync. pullmail's own meanings are
// checked through them: Requests holds first contacts and a MOVE to INBOX accepts one, Sent shows
// what was sent (an APPEND of the client's own copy adds nothing) with $Retractable/$Fetched, and
// flags are one state with the REST API. Runs on PGlite, and on PostgreSQL with DATABASE_URL.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ImapFlow } from 'imapflow';
import { findBinary } from './harness/smtp-tools.ts';
import { testPki } from './harness/tls.ts';
import { freePort, startNodes, type TestNode } from './harness/node.ts';
import { waitFor } from './harness/wait.ts';

type Json = Record<string, any>;

describe('IMAP on a node, with real clients', () => {
  let a: TestNode;
  let b: TestNode;
  let alice: string;
  let bob: string;
  let imapA: number;
  let imapB: number;
  const clients: ImapFlow[] = [];

  const imap = async (port: number, user: string, pass: string) => {
    // the nodes have certificates: clients upgrade with STARTTLS, trusting the test CA
    const c = new ImapFlow({ host: '127.0.0.1', port, secure: false, auth: { user, pass }, logger: false, disableAutoIdle: true, tls: { ca: [testPki().ca] } });
    await c.connect();
    clients.push(c);
    return c;
  };
  const count = async (c: ImapFlow, box: string) => {
    const s = await c.status(box, { messages: true });
    return s ? s.messages : undefined;
  };
  const rest = async (node: TestNode, token: string, path: string, init: Parameters<TestNode['api']>[1] = {}): Promise<Json> => {
    const res = await node.api(path, { ...init, token });
    const text = await res.text();
    assert.ok(res.ok, `${path}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : {};
  };

  before(async () => {
    [imapA, imapB] = [await freePort(), await freePort()];
    [a, b] = await startNodes([
      { domain: 'a.test', https: true, env: { PULLMAIL_IMAP_PORT: String(imapA) } },
      { domain: 'b.test', https: true, env: { PULLMAIL_IMAP_PORT: String(imapB) } },
    ]);
    alice = await a.addUser('alice@a.test', 'alice-pw');
    bob = await b.addUser('bob@b.test', 'bob-pw');
    await b.addUser('eve@b.test', 'eve-pw');
  });
  after(async () => {
    for (const c of clients) await c.logout().catch(() => c.close());
    await a?.stop();
    await b?.stop();
  });

  it('refuses a wrong password and lists the seven folders with their special uses', async () => {
    await assert.rejects(imap(imapB, 'bob@b.test', 'wrong'));
    const c = await imap(imapB, 'bob@b.test', 'bob-pw');
    const list = await c.list();
    const byName = Object.fromEntries(list.map((f) => [f.path, f.specialUse ?? '']));
    assert.deepEqual(byName, { INBOX: '\\Inbox', Archive: '\\Archive', Drafts: '\\Drafts', Junk: '\\Junk', Requests: '', Sent: '\\Sent', Trash: '\\Trash' });
  });

  it('shows a first contact in Requests as a summary; moving it to INBOX accepts it, and IDLE sees it arrive', async () => {
    await rest(a, alice, '/api/v1/messages', { method: 'POST', json: { to: ['bob@b.test'], subject: 'Hello over IMAP', text: 'the real body' } });
    const c = await imap(imapB, 'bob@b.test', 'bob-pw');
    await waitFor('the request', async () => (await count(c, 'Requests')) === 1);
    await c.mailboxOpen('Requests');
    const [req] = await c.fetchAll('1:*', { envelope: true, source: true, uid: true });
    assert.equal(req.envelope!.subject, 'Hello over IMAP');
    assert.equal(req.envelope!.from![0].address, 'alice@a.test');
    assert.match(req.source!.toString(), /first-contact request from alice@a\.test/);
    assert.doesNotMatch(req.source!.toString(), /the real body/, 'nothing of the held message is shown');

    const watcher = await imap(imapB, 'bob@b.test', 'bob-pw');
    await watcher.mailboxOpen('INBOX');
    const exists = new Promise<number>((resolve) => watcher.on('exists', (e: { count: number }) => resolve(e.count)));
    const idle = watcher.idle();
    await c.messageMove(String(req.uid), 'INBOX', { uid: true });
    assert.equal((await count(c, 'Requests')), 0, 'the request left Requests');
    assert.equal(await exists, 1, 'IDLE announced the fetched message');
    await watcher.mailboxClose().catch(() => undefined);
    await idle.catch(() => undefined);

    await c.mailboxOpen('INBOX');
    const [m] = await c.fetchAll('1:*', { source: true, flags: true });
    assert.match(m.source!.toString(), /the real body/);
    const requests = await rest(b, bob, '/api/v1/requests');
    assert.equal(requests.requests.length, 0, 'the REST API agrees: accepted');
  });

  it('keeps flags one state with the REST API, both ways', async () => {
    const c = await imap(imapB, 'bob@b.test', 'bob-pw');
    await c.mailboxOpen('INBOX');
    await c.messageFlagsAdd('1', ['\\Flagged', '$Important']);
    const [entry] = (await rest(b, bob, '/api/v1/folders/INBOX/messages')).messages;
    assert.deepEqual(entry.flags.sort(), ['$Important', '\\Flagged'], 'imapflow reads with BODY.PEEK: no \\Seen');
    await rest(b, bob, `/api/v1/mail/${entry.id}`, { method: 'PATCH', json: { remove_flags: ['\\Flagged'], add_flags: ['\\Answered'] } });
    const [after] = await c.fetchAll('1', { flags: true });
    assert.deepEqual([...after.flags!].sort(), ['$Important', '\\Answered']);
  });

  it('files what was sent in Sent with delivery keywords; an APPEND of the same message adds no copy', async () => {
    const c = await imap(imapA, 'alice@a.test', 'alice-pw');
    const box = await c.mailboxOpen('Sent');
    assert.equal(box.exists, 1);
    const [sent] = await c.fetchAll('1', { flags: true, source: true });
    assert.ok(sent.flags!.has('$Fetched'), `fetched by bob: ${[...sent.flags!]}`);
    const again = await c.append('Sent', sent.source!, ['\\Seen']);
    assert.ok(again);
    assert.equal((await count(c, 'Sent')), 1);

    await rest(a, alice, '/api/v1/messages', { method: 'POST', json: { to: ['eve@b.test'], subject: 'Still retractable', text: 'held at eve' } });
    const flags = await waitFor('a second Sent message', async () => {
      await c.noop();
      const list = await c.fetchAll('1:*', { flags: true, envelope: true });
      return list.length === 2 && list.find((m) => m.envelope!.subject === 'Still retractable')!.flags;
    });
    assert.ok(flags.has('$Retractable'));
  });

  it('removes a message with \\Deleted and EXPUNGE, seen through the REST API', async () => {
    const c = await imap(imapB, 'bob@b.test', 'bob-pw');
    await c.mailboxOpen('INBOX');
    await c.messageDelete('1');
    assert.equal((await rest(b, bob, '/api/v1/inbox')).total, 0);
  });

  it('keeps two users apart', async () => {
    const eve = await imap(imapB, 'eve@b.test', 'eve-pw');
    const box = await eve.mailboxOpen('INBOX');
    assert.equal(box.exists, 0);
    await eve.mailboxOpen('Requests');
    const list = await eve.fetchAll('1:*', { envelope: true });
    assert.deepEqual(list.map((m) => m.envelope!.subject), ['Still retractable'], 'only her own request');
  });

  it('answers Python imaplib: APPEND, SEARCH, COPY and a user folder', async () => {
    const script = String.raw`
import imaplib, json, sys
M = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))
M.login('bob@b.test', 'bob-pw')
res = {}
res['create'] = M.create('Projects')[0]
msg = b'From: carol@c.test\r\nSubject: plan\r\nMessage-ID: <plan@c.test>\r\n\r\nthe plan\r\n'
res['append'] = M.append('Projects', '(\\Flagged)', None, msg)[0]
M.select('Projects')
res['search'] = M.uid('SEARCH', None, 'FLAGGED', 'SUBJECT', 'plan')[1][0].decode()
res['copy'] = M.uid('COPY', res['search'], 'Archive')[0]
res['body'] = M.uid('FETCH', res['search'], '(BODY.PEEK[TEXT])')[1][0][1].decode()
res['peeked'] = M.uid('FETCH', res['search'], '(FLAGS)')[1][0].decode()
M.uid('FETCH', res['search'], '(BODY[TEXT])')
res['read'] = M.uid('FETCH', res['search'], '(FLAGS)')[1][0].decode()
M.logout()
print(json.dumps(res))`;
    const child = spawn('python3', ['-c', script, String(imapB)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    assert.equal((await once(child, 'close'))[0], 0, err);
    const res = JSON.parse(out);
    assert.deepEqual([res.create, res.append, res.copy], ['OK', 'OK', 'OK']);
    assert.equal(res.search, '1');
    assert.equal(res.body, 'the plan\r\n');
    assert.doesNotMatch(res.peeked, /\\Seen/, 'BODY.PEEK leaves \\Seen alone');
    assert.match(res.read, /\\Seen/, 'BODY[] marks it \\Seen (RFC 3501 §6.4.5)');
    const projects = await rest(b, bob, '/api/v1/folders/Projects/messages');
    assert.ok(projects.messages[0].flags.includes('\\Seen'), 'and the REST API shows it');
    const archive = await rest(b, bob, '/api/v1/folders/Archive/messages');
    assert.deepEqual(archive.messages.map((m: Json) => m.subject), ['plan']);
  });

  it('tells mail clients where IMAP and submission are (Thunderbird autoconfig)', async () => {
    for (const path of ['/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=bob%40b.test', '/mail/config-v1.1.xml']) {
      const res = await b.api(path);
      assert.equal(res.status, 200);
      const doc = await res.text();
      assert.match(doc, new RegExp(`<incomingServer type="imap">\\s*<hostname>127\\.0\\.0\\.1</hostname>\\s*<port>${imapB}</port>`));
      assert.match(doc, /<domain>b\.test<\/domain>/);
    }
  });

  it('syncs a mailbox with isync (mbsync) into a local Maildir, and a local change back', async () => {
    const mbsync = findBinary('mbsync');
    assert.ok(mbsync, 'mbsync is needed (Debian package isync; .ci/run installs it)');
    const dir = mkdtempSync(join(tmpdir(), 'pm-mbsync-'));
    try {
      const rc = join(dir, 'mbsyncrc');
      mkdirSync(join(dir, 'mail'));
      writeFileSync(rc, [
        'IMAPAccount pm', 'Host localhost', `Port ${imapB}`, 'User bob@b.test', 'Pass bob-pw', 'SSLType STARTTLS', `CertificateFile ${testPki().caPath}`, 'AuthMechs LOGIN', '',
        'IMAPStore pm-remote', 'Account pm', '',
        'MaildirStore pm-local', `Path ${dir}/mail/`, `Inbox ${dir}/mail/INBOX`, 'SubFolders Verbatim', '',
        'Channel pm', 'Far :pm-remote:', 'Near :pm-local:', 'Patterns Archive Projects', 'Create Near', 'Sync All', 'SyncState *', '',
      ].join('\n'));
      const run = async () => {
        const child = spawn(mbsync!, ['-c', rc, '-a'], { stdio: ['ignore', 'pipe', 'pipe'] });
        let log = '';
        child.stdout.on('data', (d) => (log += d));
        child.stderr.on('data', (d) => (log += d));
        const [code] = await once(child, 'close');
        assert.equal(code, 0, log);
      };
      await run();
      const cur = (f: string) => readdirSync(join(dir, 'mail', f, 'cur')).concat(readdirSync(join(dir, 'mail', f, 'new')));
      const files = cur('Archive');
      assert.equal(files.length, 1);
      const path = join(dir, 'mail', 'Archive', readdirSync(join(dir, 'mail', 'Archive', 'cur')).length ? 'cur' : 'new', files[0]);
      assert.match(readFileSync(path, 'utf8'), /Subject: plan/);
      assert.match(files[0], /F/, 'the \\Flagged flag came along (Maildir flag F)');
      // mark it seen locally (Maildir flag S), sync again: the node has \Seen
      const seen = path.replace(/(:2,[A-Z]*)$/, (m) => `${m}S`).replace('/new/', '/cur/');
      rmSync(seen, { force: true });
      writeFileSync(seen, readFileSync(path));
      rmSync(path);
      await run();
      const archive = await rest(b, bob, '/api/v1/folders/Archive/messages');
      assert.ok(archive.messages[0].flags.includes('\\Seen'), `flags at the node: ${archive.messages[0].flags}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
