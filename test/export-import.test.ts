// Export and import as a user and an operator do them (issue 16): GET /api/v1/export over HTTP, then
// `pullmail-server import` run as a process into a mailbox on another node; folders, flags, dates and
// bytes compared; a second import adds nothing; a Maildir; malformed input. Node processes keep their
// data in PGlite (the import reaches a running node through its control socket) or, with DATABASE_URL,
// in PostgreSQL databases of their own (the import writes to the database itself).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { run, startNode, stop, type RunningNode } from './harness/cli-process.ts';
import { testDatabase, type TestDatabase } from './harness/database.ts';
import { freePort, startNodes, type TestNode } from './harness/node.ts';
import { waitFor } from './harness/wait.ts';

interface Node {
  env: Record<string, string>;
  base: string;
  process: RunningNode;
  db: TestDatabase;
  dataDir: string;
}

const ADMIN = 'admin-token-for-the-import-test-0123456789';

async function startTestNode(domain: string, extra: Record<string, string> = {}): Promise<Node> {
  const dataDir = mkdtempSync(join(tmpdir(), 'pm-export-'));
  const db = await testDatabase();
  const port = await freePort();
  const env = {
    PULLMAIL_DATA_DIR: dataDir, ...(process.env.DATABASE_URL ? db.env : {}), PULLMAIL_DOMAINS: domain, PULLMAIL_HTTP_PORT: String(port),
    PULLMAIL_SMTP_PORT: '0', PULLMAIL_SUBMISSION_PORT: '0', PULLMAIL_ADMIN_TOKEN: ADMIN, ...extra,
  };
  return { env, base: `http://127.0.0.1:${port}`, process: await startNode(env), db, dataDir };
}

async function stopTestNode(n: Node | undefined): Promise<void> {
  if (!n) return;
  await stop(n.process);
  await n.db.drop();
  rmSync(n.dataDir, { recursive: true, force: true });
}

async function addUser(n: Node, address: string): Promise<string> {
  const r = await run(['user', 'add', address], n.env);
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as { token: string }).token;
}

function api(n: Node, token: string) {
  const call = async (path: string, init: RequestInit = {}) => {
    const res = await fetch(`${n.base}/api/v1${path}`, { ...init, headers: { authorization: `Bearer ${token}`, ...(init.headers as Record<string, string>) } });
    return res;
  };
  return {
    call,
    async json<T>(path: string, init?: RequestInit): Promise<T> {
      const res = await call(path, init);
      assert.ok(res.ok, `${path}: ${res.status} ${await res.clone().text()}`);
      return (await res.json()) as T;
    },
  };
}

interface Listed {
  id: string;
  folder: string;
  flags: string[];
  received_at: string;
}

/** Every message of a mailbox: folder, flags, date to the second, digest of the bytes; in a stable order. */
async function snapshot(n: Node, token: string): Promise<string[]> {
  const a = api(n, token);
  const { folders } = await a.json<{ folders: { name: string; role: string | null }[] }>('/folders');
  const out: string[] = [];
  for (const f of folders) {
    if (f.role === 'requests') continue;
    const { messages } = await a.json<{ messages: Listed[] }>(`/folders/${encodeURIComponent(f.name)}/messages?limit=200`);
    for (const m of messages) {
      const raw = Buffer.from(await (await a.call(`/mail/${m.id}/raw?peek=1`)).arrayBuffer());
      out.push(`${f.name} | ${[...m.flags].sort().join(' ') || '-'} | ${m.received_at.slice(0, 19)} | ${createHash('sha256').update(raw).digest('hex')}`);
    }
  }
  return out.sort();
}

const oneJsonLine = (stdout: string) => JSON.parse(stdout.trimEnd().split('\n').at(-1)!) as { added: number; duplicates: number; failed: number };

describe('export and import', { timeout: 300_000 }, () => {
  let a: Node | undefined;
  let b: Node | undefined;
  let aToken: string;
  let bToken: string;
  let work: string;
  let exported: Buffer;
  let exportFile: string;

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'pm-export-files-'));
    [a, b] = [await startTestNode('a.test'), await startTestNode('b.test', { PULLMAIL_MAX_MESSAGE_BYTES: '2000000' })];
    aToken = await addUser(a, 'amy@a.test');
    bToken = await addUser(b, 'bea@b.test');
    const amy = api(a, aToken);
    for (const name of ['Projects/2026', 'Entwürfe ü']) await amy.json('/folders', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name }) });
    const append = async (folder: string, raw: string, flags: string[] = []) => {
      const res = await amy.call(`/folders/${encodeURIComponent(folder)}/messages?flags=${encodeURIComponent(flags.join(','))}`, { method: 'POST', headers: { 'content-type': 'message/rfc822' }, body: raw });
      assert.equal(res.status, 201, await res.text());
    };
    const msg = (n: number, body = 'hello', eol = '\r\n') => `From: Zed <zed@z.test>${eol}To: amy@a.test${eol}Subject: message ${n}${eol}Message-ID: <m${n}@z.test>${eol}${eol}${body}${eol}`;
    await append('INBOX', msg(1), ['\\Seen']);
    // body lines an mbox must quote
    await append('INBOX', msg(2, 'From the start\r\n>From quoted\r\n\r\nFrom x Mon Jan  1 00:00:00 2024'), ['\\Flagged', '$Label1']);
    // LF line ends, no Message-ID: the digest tells copies apart
    await append('INBOX', 'From: nobody@z.test\nSubject: no id\n\nplain\n');
    await append('Sent', msg(3), ['\\Seen', '\\Answered']);
    await append('Drafts', msg(4), ['\\Draft']);
    await append('Trash', msg(5), ['\\Seen', '\\Deleted']);
    await append('Junk', msg(6), ['$Junk']);
    // larger than a body kept inline: streamed from a blob
    await append('Archive', msg(7, 'x'.repeat(76).concat('\r\n').repeat(8000)), ['\\Seen']);
    await append('Projects/2026', msg(8), ['\\Seen', '$Work']);
    await append('Entwürfe ü', msg(9));
    // the same message in two folders is two messages
    await append('Projects/2026', msg(1), ['\\Seen']);
  });

  after(async () => {
    await stopTestNode(a);
    await stopTestNode(b);
    rmSync(work, { recursive: true, force: true });
  });

  it('GET /api/v1/export streams every folder as mboxrd with X-Pullmail-Folder and X-Pullmail-Flags', async () => {
    const res = await api(a!, aToken).call('/export');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/mbox');
    assert.match(res.headers.get('content-disposition') ?? '', /attachment; filename="amy@a.test.mbox"/);
    exported = Buffer.from(await res.arrayBuffer());
    exportFile = join(work, 'amy.mbox');
    writeFileSync(exportFile, exported);
    const text = exported.toString('utf8');
    assert.equal(text.match(/^From \S+ \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}$/gm)?.length, 11);
    assert.match(text, /\nX-Pullmail-Folder: INBOX\r\nX-Pullmail-Flags: \\Flagged \$Label1\r\n/);
    assert.match(text, /X-Pullmail-Folder: Entwürfe ü\r\nX-Pullmail-Flags:\r\n/);
    assert.match(text, /\n>From the start\r\n>>From quoted\r\n\r\n>From x Mon/);
    assert.doesNotMatch(text, /X-Pullmail-Folder: Requests/);
    // the export is a read: nothing became \Seen
    assert.equal((await snapshot(a!, aToken)).filter((l) => l.startsWith('Entwürfe ü | - |')).length, 1);
    const unauth = await fetch(`${a!.base}/api/v1/export`);
    assert.equal(unauth.status, 401);
  });

  it('import into a fresh mailbox on another node restores folders, flags, dates and bytes', async () => {
    const r = await run(['import', 'bea@b.test', exportFile], b!.env);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(oneJsonLine(r.stdout), { added: 11, duplicates: 0, failed: 0 });
    // not a terminal: one plain summary line
    assert.match(r.stderr, /^pullmail-server: import: 11 added, 0 duplicates, 0 failed\n$/);
    assert.deepEqual(await snapshot(b!, bToken), await snapshot(a!, aToken));
  });

  it('importing the same file again adds nothing (here through the admin API with --url)', async () => {
    const r = await run(['import', 'bea@b.test', exportFile, '--url', b!.base], b!.env);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(oneJsonLine(r.stdout), { added: 0, duplicates: 11, failed: 0 });
    assert.equal((await snapshot(b!, bToken)).length, 11);
  });

  it('import reads stdin with -', async () => {
    const token = await addUser(b!, 'sid@b.test');
    const r = await run(['import', 'sid@b.test', '-'], b!.env, { input: exported.toString('utf8') });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(oneJsonLine(r.stdout), { added: 11, duplicates: 0, failed: 0 });
    assert.deepEqual(await snapshot(b!, token), await snapshot(a!, aToken));
  });

  it('an export of the imported mailbox is the same file', async () => {
    const again = Buffer.from(await (await api(b!, bToken).call('/export')).arrayBuffer());
    // the sender in each From line is the same; dates are to the second on both sides
    assert.equal(again.toString('utf8'), exported.toString('utf8'));
  });

  it('imports a Maildir: cur/ and new/, Maildir++ subfolders, flags from the info suffix and keywords', async () => {
    const md = join(work, 'Maildir');
    const put = (dir: string, name: string, body: string, mtime = new Date('2024-05-06T07:08:09Z')) => {
      mkdirSync(join(md, dir), { recursive: true });
      writeFileSync(join(md, dir, name), body);
      utimesSync(join(md, dir, name), mtime, mtime);
    };
    const m = (n: number) => `From: z@z.test\nSubject: md ${n}\nMessage-ID: <md${n}@z.test>\n\nbody ${n}\n`;
    put('cur', '1700000001.M1P1.host:2,FS', m(1));
    put('new', '1700000002.M1P1.host', m(2));
    // still being delivered: not a message yet
    put('tmp', '1700000003.M1P1.host', m(3));
    put('.Sent/cur', '1700000004.M1P1.host:2,RS', m(4));
    put('.Archive.2023/cur', '1700000005.M1P1.host:2,Sa', m(5));
    writeFileSync(join(md, '.Archive.2023', 'dovecot-keywords'), '0 $Important\n');
    mkdirSync(join(md, '.Archive.2023', 'new'));
    put('.Entw&APw-rfe/cur', '1700000006.M1P1.host:2,D', m(6));
    const token = await addUser(b!, 'max@b.test');
    const r = await run(['import', 'max@b.test', md], b!.env);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(oneJsonLine(r.stdout), { added: 5, duplicates: 0, failed: 0 });
    const lines = (await snapshot(b!, token)).map((l) => l.split(' | ').slice(0, 3).join(' | '));
    assert.deepEqual(lines, [
      'Archive/2023 | $Important \\Seen | 2024-05-06T07:08:09',
      'Entwürfe | \\Draft | 2024-05-06T07:08:09',
      'INBOX | - | 2024-05-06T07:08:09',
      'INBOX | \\Flagged \\Seen | 2024-05-06T07:08:09',
      'Sent | \\Answered \\Seen | 2024-05-06T07:08:09',
    ]);
    const again = await run(['import', 'max@b.test', md], b!.env);
    assert.deepEqual(oneJsonLine(again.stdout), { added: 0, duplicates: 5, failed: 0 });
  });

  it("Maildir++ folders under INBOX become top-level folders; another server's Requests goes to Requests (imported)", async () => {
    const md = join(work, 'Maildir-dovecot');
    const put = (dir: string, name: string, body: string) => {
      mkdirSync(join(md, dir), { recursive: true });
      writeFileSync(join(md, dir, name), body);
    };
    const m = (n: number) => `From: z@z.test\nSubject: dc ${n}\nMessage-ID: <dc${n}@z.test>\n\nbody ${n}\n`;
    put('cur', '1700000001.M1P1.host:2,S', m(1));
    // Dovecot's INBOX/Receipts and INBOX/Lists/node
    put('.INBOX.Receipts/cur', '1700000002.M1P1.host:2,S', m(2));
    put('.INBOX.Lists.node/new', '1700000003.M1P1.host', m(3));
    // a folder Requests of another server holds mail
    put('.Requests/cur', '1700000004.M1P1.host:2,S', m(4));
    // what pullmail's IMAP shows in its own Requests: a stand-in for a held request, not mail
    put('.Requests/cur', '1700000005.M1P1.host:2,', 'From: ann@a.test\r\nSubject: hi\r\nMessage-ID: <request-0b6f3c1e-8d4a-4a57-9f0e-2c1d5e7a9b11@pullmail.invalid>\r\nX-Pullmail-Request: held\r\n\r\nA first-contact request\r\n');
    const token = await addUser(b!, 'dov@b.test');
    const r = await run(['import', 'dov@b.test', md], b!.env);
    assert.equal(r.code, 1, r.stderr);
    assert.deepEqual(oneJsonLine(r.stdout), { added: 4, duplicates: 0, failed: 1 });
    assert.match(r.stderr, /\.Requests\/cur\/1700000005\.M1P1\.host:2,: this is the summary of a held first-contact request .*pullmail requests/);
    assert.doesNotMatch(r.stderr, /INBOX or under it|Requests holds first-contact requests only/);
    const lines = (await snapshot(b!, token)).map((l) => l.split(' | ').slice(0, 2).join(' | '));
    assert.deepEqual(lines, ['INBOX | \\Seen', 'Lists/node | -', 'Receipts | \\Seen', 'Requests (imported) | \\Seen']);
    // the held requests of the mailbox are untouched
    assert.deepEqual(await api(b!, token).json('/requests'), { requests: [] });
    const again = await run(['import', 'dov@b.test', md], b!.env);
    assert.deepEqual(oneJsonLine(again.stdout), { added: 0, duplicates: 4, failed: 1 });
  });

  it('a message without a final line break is one message through every import, export and import again', async () => {
    // no Message-ID: the digest alone tells copies apart; with one: the Message-ID and the digest
    const bare = ['From: z@z.test\nSubject: no id, no final LF\n\nlast line', 'From: z@z.test\r\nSubject: with id, no final CRLF\r\nMessage-ID: <nofinal@z.test>\r\n\r\nlast line'];
    const md = join(work, 'Maildir-nofinal');
    mkdirSync(join(md, 'cur'), { recursive: true });
    bare.forEach((raw, i) => writeFileSync(join(md, 'cur', `170000000${i}.M1P1.host:2,S`), raw));
    const token = await addUser(b!, 'nel@b.test');
    const counts = async (args: string[]) => {
      const r = await run(['import', 'nel@b.test', ...args], b!.env);
      assert.equal(r.code, 0, r.stderr);
      return oneJsonLine(r.stdout);
    };
    assert.deepEqual(await counts([md]), { added: 2, duplicates: 0, failed: 0 });
    // the original twice, through the control socket and the admin API
    assert.deepEqual(await counts([md]), { added: 0, duplicates: 2, failed: 0 });
    assert.deepEqual(await counts([md, '--url', b!.base]), { added: 0, duplicates: 2, failed: 0 });
    // stored as they came
    const stored = (await snapshot(b!, token)).map((l) => l.split(' | ')[3]).sort();
    assert.deepEqual(stored, bare.map((raw) => createHash('sha256').update(raw).digest('hex')).sort());
    // an mbox cannot end a message without a line break: the export gives each one
    const file = join(work, 'nel.mbox');
    const exportedNel = Buffer.from(await (await api(b!, token).call('/export')).arrayBuffer());
    writeFileSync(file, exportedNel);
    assert.match(exportedNel.toString('utf8'), /\n\nlast line\n\nFrom /);
    assert.deepEqual(await counts([file]), { added: 0, duplicates: 2, failed: 0 });
    assert.deepEqual(await counts([file, '--url', b!.base]), { added: 0, duplicates: 2, failed: 0 });
    // the other way round: the export into a fresh mailbox, then the originals
    const otherToken = await addUser(b!, 'ned@b.test');
    const into = async (args: string[]) => oneJsonLine((await run(['import', 'ned@b.test', ...args], b!.env)).stdout);
    assert.deepEqual(await into([file]), { added: 2, duplicates: 0, failed: 0 });
    assert.deepEqual(await into([md]), { added: 0, duplicates: 2, failed: 0 });
    assert.equal((await snapshot(b!, otherToken)).length, 2);
  });

  it('a keyword with a comma is left off and named, through the control socket and the admin API alike', async () => {
    const token = await addUser(b!, 'kit@b.test');
    const file = join(work, 'comma.mbox');
    writeFileSync(file, 'From z Mon Jan  1 00:00:00 2024\nX-Pullmail-Folder: INBOX\nX-Pullmail-Flags: \\Seen a,b $ok\nSubject: comma\nMessage-ID: <comma@z.test>\n\nbody\n\n');
    const md = join(work, 'Maildir-comma');
    mkdirSync(join(md, 'cur'), { recursive: true });
    writeFileSync(join(md, 'dovecot-keywords'), '0 $ok\n1 c,d\n');
    writeFileSync(join(md, 'cur', '1700000001.M1P1.host:2,Sab'), 'From: z@z.test\nSubject: comma md\nMessage-ID: <comma-md@z.test>\n\nbody\n');
    for (const args of [[file], [md], [file, '--url', b!.base], [md, '--url', b!.base]]) {
      const r = await run(['import', 'kit@b.test', ...args], b!.env);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /flags left off \(not IMAP flags\): (a,b|c,d)\n/, args.join(' '));
    }
    const lines = (await snapshot(b!, token)).map((l) => l.split(' | ').slice(0, 2).join(' | '));
    // never the keywords a, b, c or d
    assert.deepEqual(lines, ['INBOX | $ok \\Seen', 'INBOX | $ok \\Seen']);
    // the node reads a comma in ?flags= as the list separator; the SDK refuses such a flag (client.test.ts)
    const res = await fetch(`${b!.base}/api/v1/admin/users/kit@b.test/messages?flags=${encodeURIComponent('\\Seen,a b')}`, {
      method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'message/rfc822' }, body: 'Subject: q\r\nMessage-ID: <q@z.test>\r\n\r\nq\r\n',
    });
    assert.equal(res.status, 201);
    assert.deepEqual(((await res.json()) as { ignored_flags: string[] }).ignored_flags, ['a b']);
  });

  it('malformed input: every good message goes in, every bad one is named, nothing is lost', async () => {
    const token = await addUser(b!, 'mal@b.test');
    const good = (n: number, extra = '') => `From: z@z.test\nSubject: good ${n}\nMessage-ID: <g${n}@z.test>\n${extra}\nbody\n`;
    const file = [
      'this is not an mbox line\n\n',
      `From z Mon Jan  1 00:00:00 2024\n${good(1)}\n`,
      // over the node's 2,000,000-byte limit (PULLMAIL_MAX_MESSAGE_BYTES)
      `From z Mon Jan  1 00:00:00 2024\nSubject: huge\n\n${'y'.repeat(1000).concat('\n').repeat(2100)}\n`,
      `From z Mon Jan  1 00:00:00 2024\nX-Pullmail-Folder: INBOX/child\n${good(2)}\n`,
      `From z Mon Jan  1 00:00:00 2024\nX-Pullmail-Folder: Requests\n${good(3)}\n`,
      // a flag IMAP cannot carry is left off, the message goes in
      `From z Mon Jan  1 00:00:00 2024\nX-Pullmail-Flags: \\Seen \\Bogus\n${good(4)}\n`,
      // mutt's Status field when there is no X-Pullmail-Flags
      `From z Tue Jan  2 00:00:00 2024\n${good(5, 'Status: RO\n')}\n`,
      // cut off at the end of the file: what is there is kept
      `From z Mon Jan  1 00:00:00 2024\n${good(6)}`,
    ].join('');
    const path = join(work, 'bad.mbox');
    writeFileSync(path, file);
    const r = await run(['import', 'mal@b.test', path], b!.env);
    assert.equal(r.code, 1, r.stderr);
    assert.deepEqual(oneJsonLine(r.stdout), { added: 4, duplicates: 0, failed: 4 });
    const failures = r.stderr.split('\n').filter((l) => / at byte \d+: /.test(l) && !/flags left off/.test(l));
    assert.equal(failures.length, 4, r.stderr);
    assert.match(r.stderr, /at byte 0: text before the first "From " line/);
    assert.match(r.stderr, new RegExp(`at byte ${file.indexOf('Subject: huge') - 32}: the message is larger than 2000000 bytes`));
    assert.match(r.stderr, /INBOX or under it/);
    assert.match(r.stderr, /Requests holds first-contact requests only/);
    assert.match(r.stderr, /flags left off \(not IMAP flags\): \\Bogus/);
    const lines = (await snapshot(b!, token)).map((l) => l.split(' | ').slice(0, 3).join(' | '));
    assert.deepEqual(lines, [
      'INBOX | - | 2024-01-01T00:00:00',
      'INBOX | - | 2024-01-01T00:00:00',
      'INBOX | \\Seen | 2024-01-01T00:00:00',
      'INBOX | \\Seen | 2024-01-02T00:00:00',
    ]);
  });

  it('--folder files messages that name no folder', async () => {
    const token = await addUser(b!, 'fia@b.test');
    const file = join(work, 'plain.mbox');
    writeFileSync(file, 'From z Mon Jan  1 00:00:00 2024\nSubject: old\nMessage-ID: <old@z.test>\n\nold mail\n\nFrom z Mon Jan  1 00:00:00 2024\nX-Pullmail-Folder: Sent\nSubject: mine\n\nsent\n\n');
    const r = await run(['import', 'fia@b.test', file, '--folder', 'Old mail/2024'], b!.env);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual((await snapshot(b!, token)).map((l) => l.split(' | ')[0]), ['Old mail/2024', 'Sent']);
  });

  it('an unknown mailbox stops the import with one line', async () => {
    const r = await run(['import', 'nobody@b.test', exportFile], b!.env);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no mailbox nobody@b.test/);
    assert.doesNotMatch(r.stdout, /added/);
    for (const [source, why] of [[join(work, 'missing.mbox'), /missing\.mbox does not exist/], [work, /is a directory but not a Maildir/]] as const) {
      const bad = await run(['import', 'bea@b.test', source], b!.env);
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, why);
      assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
    }
  });
});

describe('export and held requests', () => {
  let nodes: TestNode[] = [];
  after(async () => {
    for (const n of nodes) await n.stop();
  });

  it('a held first-contact request is not exported: it has no body here until it is accepted', async () => {
    nodes = await startNodes([{ domain: 'a.test', https: true }, { domain: 'b.test', https: true }]);
    const [a, b] = nodes;
    const alice = await a.addUser('alice@a.test');
    const bob = await b.addUser('bob@b.test');
    const sent = await a.api('/api/v1/messages', { method: 'POST', token: alice, json: { to: ['bob@b.test'], subject: 'Hello Bob', text: 'first contact' } });
    assert.equal(sent.status, 201);
    await waitFor('the request in Requests', async () => ((await (await b.api('/api/v1/requests', { token: bob })).json()) as { requests: unknown[] }).requests.length === 1 || undefined);
    const own = await b.api('/api/v1/folders/Archive/messages', { method: 'POST', token: bob, headers: { 'content-type': 'message/rfc822' }, body: 'Subject: kept\r\nMessage-ID: <k@b.test>\r\n\r\nmine\r\n' });
    assert.equal(own.status, 201);
    const file = await (await b.api('/api/v1/export', { token: bob })).text();
    assert.equal(file.match(/^From /gm)?.length, 1, file);
    assert.match(file, /X-Pullmail-Folder: Archive\r\n/);
    assert.doesNotMatch(file, /Hello Bob|Requests/);
    // alice's export has what she sent, in Sent
    const hers = await (await a.api('/api/v1/export', { token: alice })).text();
    assert.match(hers, /X-Pullmail-Folder: Sent\r?\nX-Pullmail-Flags: \\Seen/);
    assert.match(hers, /Subject: Hello Bob/);
  });
});
