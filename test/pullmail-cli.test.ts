// The `pullmail` command as a user runs it: the real CLI in a child process against two real nodes over
// HTTPS (the test CA reaches the CLI through NODE_EXTRA_CA_CERTS), every command, its --json shapes and
// its exit codes. A stand-in node for c.test answers every notification with a human challenge, so a
// `challenged` delivery with its challenge URL stays put long enough to be looked at.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer as httpsServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { fetch as undiciFetch } from 'undici';
import { PullmailClient, type FetchLike } from '../packages/client/src/index.ts';
import { freePort, startNode, type TestNode } from './harness/node.ts';
import { peerMetadata } from './harness/peer-server.ts';
import { testPki } from './harness/tls.ts';
import { waitFor } from './harness/wait.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'packages/client/src/cli/main.ts');
type Json = Record<string, any>;

interface Run {
  code: number | null;
  stdout: string;
  stdoutBytes: Buffer;
  stderr: string;
}

const home = mkdtempSync(join(tmpdir(), 'pm-cli-home-'));

/** The parent's environment without pullmail settings or colour forcing, in a home of its own. */
function childEnv(extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PULLMAIL_') && !['FORCE_COLOR', 'NO_COLOR', 'NODE_EXTRA_CA_CERTS'].includes(k)));
  const env: NodeJS.ProcessEnv = { ...clean, HOME: home, XDG_CONFIG_HOME: join(home, 'config'), NODE_EXTRA_CA_CERTS: testPki().caPath };
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/** Runs `pullmail <args>` to completion, with `input` on stdin. */
function pm(args: string[], opts: { env?: Record<string, string | undefined>; input?: string } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: home, env: childEnv(opts.env ?? {}), stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('error', reject);
    child.once('close', (code) => {
      const stdoutBytes = Buffer.concat(out);
      resolve({ code, stdout: stdoutBytes.toString('utf8'), stdoutBytes, stderr });
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** Runs with --json, expects exit 0, and parses stdout. */
async function pmJson(args: string[], opts: { env?: Record<string, string | undefined>; input?: string } = {}): Promise<Json> {
  const r = await pm([...args, '--json'], opts);
  assert.equal(r.code, 0, `pullmail ${args.join(' ')}: exit ${r.code}\n${r.stderr}`);
  return JSON.parse(r.stdout);
}

const keys = (o: object) => Object.keys(o).sort();

/** A c.test node that answers every notification with a human challenge and never fetches. */
async function startChallengingPeer(): Promise<{ url: string; challengeUrl: string; close(): Promise<void> }> {
  const pki = testPki();
  let base = '';
  const server: Server = httpsServer({ cert: readFileSync(pki.certPath), key: readFileSync(pki.keyPath) }, (req, res) => {
    const path = new URL(req.url ?? '/', 'https://x').pathname;
    let body = '';
    req.on('data', (d) => (body += d)).on('end', () => {
      const answer = { decision: 'challenge', reason: 'first_contact', challenge: { type: 'human', url: `${base}/challenge/cli-test` } };
      const reply = (status: number, value: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
      if (path === '/.well-known/pullmail') return reply(200, peerMetadata(base, ['c.test']));
      if (path === '/pm/v1/notify') return reply(200, answer);
      if (path === '/pm/v1/notify/batch') return reply(200, { results: (JSON.parse(body).notifications as unknown[]).map(() => answer) });
      reply(404, { error: 'not_found', detail: path });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `https://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    url: base,
    challengeUrl: `${base}/challenge/cli-test`,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

describe('the pullmail command against two nodes over HTTPS', () => {
  let a: TestNode;
  let b: TestNode;
  let c: Awaited<ReturnType<typeof startChallengingPeer>>;
  const tokens: Record<string, string> = {};

  /** Environment that makes the CLI act as `address`. */
  const as = (address: string) => ({ env: { PULLMAIL_URL: (address.endsWith('@a.test') ? a : b).url, PULLMAIL_TOKEN: tokens[address] } });
  /** The SDK in-process, for waiting on states without spawning. */
  const sdk = (address: string) => {
    const node = address.endsWith('@a.test') ? a : b;
    return new PullmailClient({ baseUrl: node.url, token: tokens[address], fetch: undiciFetch as unknown as FetchLike, dispatcher: node.server.ctx.fetcher.dispatcher });
  };
  async function user(address: string): Promise<string> {
    tokens[address] ??= await (address.endsWith('@a.test') ? a : b).addUser(address);
    return address;
  }
  async function sendFromAlice(to: string, subject: string, extra: string[] = []): Promise<string> {
    const r = await pmJson(['send', '--to', to, '-s', subject, '-m', `about ${subject}`, ...extra], as('alice@a.test'));
    return r.id;
  }
  const heldRequest = async (address: string, subject: string): Promise<Json> =>
    waitFor(`request "${subject}" for ${address}`, async () => (await sdk(address).requests()).requests.find((r) => r.subject === subject));

  before(async () => {
    c = await startChallengingPeer();
    const [pa, pb] = [await freePort(), await freePort()];
    const peers = `a.test=https://127.0.0.1:${pa},b.test=https://127.0.0.1:${pb},c.test=${c.url}`;
    // the sender asks again about held deliveries every second, so rejections show up quickly
    const env = { PULLMAIL_HELD_RECHECK_SECONDS: '1' };
    a = await startNode({ domain: 'a.test', https: true, port: pa, peers, env });
    b = await startNode({ domain: 'b.test', https: true, port: pb, peers, env });
    for (const address of ['alice@a.test', 'bob@b.test']) await user(address);
  });
  after(async () => {
    await a?.stop();
    await b?.stop();
    await c?.close();
  });

  describe('first contact: send, requests, accept, inbox, read, delete', () => {
    let sentId: string;
    let requestId: string;
    let messageId: string;

    it('send prints the new message with every recipient queued', async () => {
      writeFileSync(join(home, 'notes.txt'), 'the attached notes\n');
      const r = await pmJson(['send', '--to', 'bob@b.test', '--subject', 'First contact', '--attach', 'notes.txt'], { ...as('alice@a.test'), input: 'Hello Bob,\nfrom the CLI.\n' });
      assert.deepEqual(keys(r), ['deliveries', 'id', 'version']);
      assert.equal(r.version, 1);
      assert.deepEqual(r.deliveries, [{ rcpt: 'bob@b.test', state: 'queued' }]);
      sentId = r.id;
    });

    it('status --wait held: the stranger is held', async () => {
      const s = await pmJson(['status', sentId, '--wait', 'held', '--timeout', '20'], as('alice@a.test'));
      assert.deepEqual(keys(s), ['created_at', 'deliveries', 'id', 'subject', 'version']);
      assert.deepEqual([s.id, s.subject, s.version], [sentId, 'First contact', 1]);
      assert.deepEqual(s.deliveries, [{ rcpt: 'bob@b.test', state: 'held' }]);
      const human = await pm(['status', sentId], as('alice@a.test'));
      assert.equal(human.code, 0);
      assert.match(human.stdout, /^First contact\nmessage \S+ · version 1 · sent \d{4}-\d\d-\d\d \d\d:\d\d\n\nRECIPIENT\s+STATE\s+DETAIL\nbob@b\.test\s+held\s+waiting for the recipient to accept you\n$/);
    });

    it('requests lists it for bob, with nothing fetched', async () => {
      const r = await pmJson(['requests'], as('bob@b.test'));
      assert.equal(r.requests.length, 1);
      const [req] = r.requests;
      assert.deepEqual(keys(req), ['from', 'id', 'received_at', 'size', 'subject', 'via']);
      assert.deepEqual([req.from, req.subject, req.via], ['alice@a.test', 'First contact', 'pm1']);
      assert.ok(req.size > 0);
      requestId = req.id;
      const human = await pm(['requests'], as('bob@b.test'));
      assert.match(human.stdout, new RegExp(`${requestId}\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d\\s+alice@a\\.test\\s+First contact\\s+\\d+ B\\s+pm1`));
      assert.match(human.stdout, /decide: pullmail accept <id> \| reject <id> \| block <id>/);
      assert.deepEqual(await pmJson(['inbox'], as('bob@b.test')), { messages: [], total: 0 });
    });

    it('accept fetches it; status shows fetched with the time', async () => {
      assert.deepEqual(await pmJson(['accept', requestId], as('bob@b.test')), { id: requestId, state: 'accepted' });
      const human = await pm(['status', sentId, '--wait', 'fetched', '--timeout', '20'], as('alice@a.test'));
      assert.equal(human.code, 0, human.stderr);
      assert.match(human.stdout, /bob@b\.test\s+fetched\s+fetched \d{4}-\d\d-\d\d \d\d:\d\d/);
      const s = await pmJson(['status', sentId], as('alice@a.test'));
      assert.deepEqual(keys(s.deliveries[0]), ['fetched_at', 'rcpt', 'state']);
    });

    it('inbox lists the message', async () => {
      const list = await pmJson(['inbox'], as('bob@b.test'));
      assert.deepEqual(keys(list), ['messages', 'total']);
      assert.equal(list.total, 1);
      const [m] = list.messages;
      assert.deepEqual(keys(m), ['from', 'id', 'received_at', 'size', 'subject', 'via']);
      assert.deepEqual([m.from, m.subject, m.via], ['alice@a.test', 'First contact', 'pm1']);
      messageId = m.id;
      const human = await pm(['inbox'], as('bob@b.test'));
      assert.match(human.stdout, /^ID\s+RECEIVED\s+FROM\s+SUBJECT\s+SIZE\s+VIA\n/);
      assert.match(human.stdout, new RegExp(`${messageId}\\s+\\S+ \\S+\\s+alice@a\\.test\\s+First contact\\s+\\d+ B\\s+pm1\\n1 shown, 1 in the inbox`));
    });

    it('read shows headers, text and attachments; --json the parsed message', async () => {
      const human = await pm(['read', messageId], as('bob@b.test'));
      assert.equal(human.code, 0, human.stderr);
      assert.match(human.stdout, /^From:    alice@a\.test\nTo:      bob@b\.test\nSubject: First contact\nDate:    .+\n.+via pm1.+\n\nHello Bob,\nfrom the CLI\.\n\nAttachments:\n\s+FILE\s+TYPE\s+SIZE\n\s+notes\.txt\s+text\/plain\s+19 B\n$/);
      const m = await pmJson(['read', messageId], as('bob@b.test'));
      assert.deepEqual(keys(m), ['attachments', 'from', 'headers', 'id', 'received_at', 'size', 'subject', 'text', 'via']);
      assert.equal(m.text, 'Hello Bob,\nfrom the CLI.\n');
      assert.deepEqual(m.attachments, [{ filename: 'notes.txt', contentType: 'text/plain', size: 19 }]);
      assert.ok(m.headers.some((h: Json) => h.name.toLowerCase() === 'subject' && h.value === 'First contact'));
    });

    it('read --raw writes the exact stored bytes', async () => {
      const r = await pm(['read', messageId, '--raw'], as('bob@b.test'));
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(r.stdoutBytes, Buffer.from(await sdk('bob@b.test').readRaw(messageId)));
      assert.match(r.stdout, /^From: alice@a\.test\r\n/m);
    });

    it('delete removes it; reading it again is refused (exit 1)', async () => {
      assert.deepEqual(await pmJson(['delete', messageId], as('bob@b.test')), { id: messageId, deleted: true });
      const again = await pm(['read', messageId], as('bob@b.test'));
      assert.equal(again.code, 1);
      assert.match(again.stderr, /^pullmail: not_found: no such message in your inbox \(HTTP 404\)\n$/);
      assert.equal((await pmJson(['inbox'], as('bob@b.test'))).total, 0);
    });
  });

  describe('after accepting', () => {
    it("the sender's next message is fetched without a request", async () => {
      const id = await sendFromAlice('bob@b.test', 'Second message');
      await pmJson(['status', id, '--wait', 'fetched', '--timeout', '20'], as('alice@a.test'));
      assert.deepEqual(await pmJson(['requests'], as('bob@b.test')), { requests: [] });
      assert.equal((await pm(['requests'], as('bob@b.test'))).stdout, 'No requests waiting.\n');
    });

    it('sent lists newest first, a page at a time', async () => {
      const first = await pmJson(['sent', '--limit', '1'], as('alice@a.test'));
      assert.deepEqual(keys(first), ['cursor', 'messages']);
      assert.deepEqual(keys(first.messages[0]), ['created_at', 'id', 'recipients', 'subject', 'version']);
      assert.deepEqual([first.messages[0].subject, first.messages[0].recipients], ['Second message', ['bob@b.test']]);
      const second = await pmJson(['sent', '--limit', '1', '--cursor', first.cursor], as('alice@a.test'));
      assert.equal(second.messages[0].subject, 'First contact');
      const human = await pm(['sent', '--limit', '1'], as('alice@a.test'));
      assert.match(human.stdout, /^ID\s+SENT\s+TO\s+SUBJECT\n\S+\s+\S+ \S+\s+bob@b\.test\s+Second message\nmore: pullmail sent --limit 1 --cursor \S+\n$/);
    });
  });

  describe('retract and edit', () => {
    it('retract before fetch withdraws the message and the request disappears', async () => {
      await user('carol@b.test');
      const id = await sendFromAlice('carol@b.test', 'Not for carol');
      await pmJson(['status', id, '--wait', 'held', '--timeout', '20'], as('alice@a.test'));
      assert.deepEqual(await pmJson(['retract', id], as('alice@a.test')), { results: [{ rcpt: 'carol@b.test', result: 'retracted' }] });
      assert.equal((await pmJson(['status', id], as('alice@a.test'))).deliveries[0].state, 'retracted');
      await waitFor("carol's request to go", async () => (await sdk('carol@b.test').requests()).requests.length === 0);
      assert.equal((await pmJson(['inbox'], as('carol@b.test'))).total, 0);
    });

    it('retract after fetch says the recipient keeps it', async () => {
      const [m] = (await pmJson(['sent', '--limit', '1', '--cursor', (await pmJson(['sent', '--limit', '2'], as('alice@a.test'))).cursor], as('alice@a.test'))).messages;
      assert.equal(m.subject, 'First contact');
      const r = await pm(['retract', m.id], as('alice@a.test'));
      assert.equal(r.code, 0);
      assert.match(r.stdout, /^RECIPIENT\s+RESULT\nbob@b\.test\s+already fetched \(they keep it\)\n$/);
    });

    it('edit before fetch replaces the held message with version 2', async () => {
      await user('dave@b.test');
      const id = await sendFromAlice('dave@b.test', 'Draft');
      await heldRequest('dave@b.test', 'Draft');
      const r = await pmJson(['edit', id, '--to', 'dave@b.test', '--subject', 'Final', '--text', 'version two'], as('alice@a.test'));
      assert.deepEqual(keys(r), ['deliveries', 'id', 'version']);
      assert.deepEqual([r.id, r.version], [id, 2]);
      await heldRequest('dave@b.test', 'Final');
    });

    it('edit after every recipient fetched is refused with 409 (exit 1)', async () => {
      const id = (await pmJson(['sent', '--limit', '200'], as('alice@a.test'))).messages.find((m: Json) => m.subject === 'Second message').id;
      const r = await pm(['edit', id, '--to', 'bob@b.test', '-m', 'too late', '--json'], as('alice@a.test'));
      assert.equal(r.code, 1);
      assert.equal(r.stdout, '');
      assert.deepEqual(keys(JSON.parse(r.stderr)), ['detail', 'error', 'status']);
      assert.deepEqual([JSON.parse(r.stderr).error, JSON.parse(r.stderr).status], ['conflict', 409]);
    });
  });

  describe('reject, block, rules, settings', () => {
    it('reject drops a request; the sender sees rejected', async () => {
      await user('erin@b.test');
      const id = await sendFromAlice('erin@b.test', 'Reject me');
      const req = await heldRequest('erin@b.test', 'Reject me');
      assert.deepEqual(await pmJson(['reject', req.id], as('erin@b.test')), { id: req.id, state: 'rejected' });
      await pmJson(['status', id, '--wait', 'rejected', '--timeout', '20'], as('alice@a.test'));
    });

    it('block drops a request and adds a block rule for the sender', async () => {
      await user('frank@b.test');
      await sendFromAlice('frank@b.test', 'Block me');
      const req = await heldRequest('frank@b.test', 'Block me');
      const r = await pm(['block', req.id], as('frank@b.test'));
      assert.equal(r.code, 0);
      assert.match(r.stdout, /blocked: the message was dropped and its sender is on your block list/);
      const { rules } = await pmJson(['rules'], as('frank@b.test'));
      assert.deepEqual(rules.map((x: Json) => [x.action, x.pattern]), [['block', 'alice@a.test']]);
    });

    it('rules add, list and remove', async () => {
      const added = await pmJson(['rules', 'add', 'allow', '@c.test'], as('bob@b.test'));
      assert.deepEqual(keys(added), ['action', 'id', 'pattern']);
      assert.deepEqual([added.action, added.pattern], ['allow', '@c.test']);
      const list = await pmJson(['rules', 'list'], as('bob@b.test'));
      assert.deepEqual(keys(list), ['rules']);
      assert.ok(list.rules.some((x: Json) => x.id === added.id));
      assert.match((await pm(['rules'], as('bob@b.test'))).stdout, new RegExp(`${added.id}\\s+allow\\s+@c\\.test`));
      assert.deepEqual(await pmJson(['rules', 'remove', added.id], as('bob@b.test')), { id: added.id, removed: true });
      assert.ok(!(await pmJson(['rules'], as('bob@b.test'))).rules.some((x: Json) => x.id === added.id));
      const again = await pm(['rules', 'remove', added.id], as('bob@b.test'));
      assert.equal(again.code, 1);
      assert.match(again.stderr, /not_found: no such rule/);
    });

    it('settings show and set', async () => {
      assert.deepEqual(await pmJson(['settings'], as('bob@b.test')), { first_contact: 'hold', challenge_question: null });
      assert.equal((await pmJson(['settings', 'set', 'first_contact', 'fetch'], as('bob@b.test'))).first_contact, 'fetch');
      assert.match((await pm(['settings', 'show'], as('bob@b.test'))).stdout, /^first_contact\s+fetch\s+strangers' messages are fetched straight away/);
      const q = await pmJson(['settings', 'set', 'challenge_question', 'Name of my cat?', '--answer', 'Tiger'], as('bob@b.test'));
      assert.deepEqual(q, { first_contact: 'fetch', challenge_question: 'Name of my cat?' });
      assert.equal((await pmJson(['settings', 'set', 'challenge_question', 'none'], as('bob@b.test'))).challenge_question, null);
      assert.equal((await pmJson(['settings', 'set', 'first_contact', 'hold'], as('bob@b.test'))).first_contact, 'hold');
    });
  });

  it('status shows the challenge URL a recipient node asks a human sender to answer', async () => {
    const id = await sendFromAlice('zoe@c.test', 'Are you human?');
    const s = await pmJson(['status', id, '--wait', 'challenged', '--timeout', '20'], as('alice@a.test'));
    assert.deepEqual(s.deliveries, [{ rcpt: 'zoe@c.test', state: 'challenged', challenge_url: c.challengeUrl }]);
    const human = await pm(['status', id], as('alice@a.test'));
    assert.match(human.stdout, new RegExp(`zoe@c\\.test\\s+challenged\\s+answer the challenge at ${c.challengeUrl.replace(/\./g, '\\.')}\\n$`));
  });

  describe('consent tokens', () => {
    let token: Json;

    it('token create prints the token once', async () => {
      await user('greta@b.test');
      token = await pmJson(['token', 'create', '--sender', 'alice@a.test', '--max-uses', '2', '--days', '7'], as('greta@b.test'));
      assert.equal(typeof token.id, 'string');
      assert.match(token.token, /^[\w-]+\.[\w-]+\.[\w-]+$/);
      const human = await pm(['token', 'create', '--sender', '@elsewhere.test'], as('greta@b.test'));
      assert.equal(human.code, 0, human.stderr);
      assert.match(human.stdout, /^✓ consent token \S+ for @elsewhere\.test: 1 use\(s\), 30 day\(s\)\n[\w-]+\.[\w-]+\.[\w-]+\n$/);
      assert.match(human.stderr, /Give it to the sender: pullmail send --consent <token>/);
    });

    it('a message sent with it is fetched without a request', async () => {
      const id = await sendFromAlice('greta@b.test', 'With consent', ['--consent', token.token]);
      await pmJson(['status', id, '--wait', 'fetched', '--timeout', '20'], as('alice@a.test'));
      assert.deepEqual((await pmJson(['requests'], as('greta@b.test'))).requests, []);
    });

    it('token list shows uses; revoke marks it revoked', async () => {
      const { tokens: list } = await pmJson(['token', 'list'], as('greta@b.test'));
      const t = list.find((x: Json) => x.id === token.id);
      assert.deepEqual(keys(t), ['created_at', 'expires_at', 'id', 'max_uses', 'revoked', 'sender', 'uses']);
      assert.deepEqual([t.sender, t.max_uses, t.uses, t.revoked], ['alice@a.test', 2, 1, false]);
      assert.match((await pm(['token', 'list'], as('greta@b.test'))).stdout, new RegExp(`${token.id}\\s+alice@a\\.test\\s+1/2\\s+\\S+ \\S+\\s+active`));
      assert.deepEqual(await pmJson(['token', 'revoke', token.id], as('greta@b.test')), { id: token.id, revoked: true });
      assert.equal((await pmJson(['token'], as('greta@b.test'))).tokens.find((x: Json) => x.id === token.id).revoked, true);
      assert.match((await pm(['token', 'list'], as('greta@b.test'))).stdout, new RegExp(`${token.id}\\s+alice@a\\.test\\s+1/2\\s+\\S+ \\S+\\s+revoked`));
    });
  });

  describe('configuration', () => {
    it('login checks the token and saves URL and token; later commands need no flags', async () => {
      const cfg = mkdtempSync(join(tmpdir(), 'pm-cli-login-'));
      const env = { XDG_CONFIG_HOME: cfg };
      const wrong = await pm(['login', '--url', a.url, '--token', 'pm_wrong'], { env });
      assert.equal(wrong.code, 4);
      assert.throws(() => statSync(join(cfg, 'pullmail', 'config.json')), /ENOENT/, 'nothing saved after a refused login');

      const ok = await pm(['login', '--url', a.url, '--token', tokens['alice@a.test']], { env });
      assert.equal(ok.code, 0, ok.stderr);
      const path = join(cfg, 'pullmail', 'config.json');
      assert.match(ok.stdout, new RegExp(`logged in to ${a.url.replace(/\./g, '\\.')}; saved in ${path}`));
      assert.equal(statSync(path).mode & 0o777, 0o600);
      assert.deepEqual(JSON.parse(readFileSync(path, 'utf8')), { url: a.url, token: tokens['alice@a.test'] });

      assert.equal((await pm(['sent'], { env })).code, 0);
      const shown = await pmJson(['config', 'show'], { env });
      assert.deepEqual(shown, { url: a.url, token: `${tokens['alice@a.test'].slice(0, 6)}…${tokens['alice@a.test'].slice(-2)}`, url_from: path, token_from: path, path });
      assert.equal((await pm(['config', 'path'], { env })).stdout, `${path}\n`);
      // the environment wins over the file
      const envWins = await pmJson(['config', 'show'], { env: { ...env, PULLMAIL_URL: b.url } });
      assert.deepEqual([envWins.url, envWins.url_from], [b.url, 'PULLMAIL_URL']);

      assert.equal((await pm(['config', 'set', 'url', `${b.url}/`], { env })).code, 0);
      assert.equal(JSON.parse(readFileSync(path, 'utf8')).url, b.url);
    });
  });

  describe('errors and exit codes', () => {
    it('a wrong token exits 4 and says what to do', async () => {
      const r = await pm(['inbox'], { env: { PULLMAIL_URL: b.url, PULLMAIL_TOKEN: 'pm_not-a-token' } });
      assert.equal(r.code, 4);
      assert.match(r.stderr, /did not accept your token \(the token from PULLMAIL_TOKEN\): invalid token\n.*pullmail login --url <url> --token <token>/);
      const j = await pm(['inbox', '--json'], { env: { PULLMAIL_URL: b.url, PULLMAIL_TOKEN: 'pm_not-a-token' } });
      assert.equal(j.code, 4);
      assert.deepEqual(JSON.parse(j.stderr), { error: 'unauthorized', detail: 'invalid token', status: 401 });
    });

    it('an unreachable node exits 3', async () => {
      const url = `https://127.0.0.1:${await freePort()}`;
      const r = await pm(['inbox', '--url', url, '--token', 't']);
      assert.equal(r.code, 3);
      assert.match(r.stderr, new RegExp(`cannot reach ${url.replace(/\./g, '\\.')}: connection refused\\n  Is the node running, and is the URL right\\? \\(URL from --url\\)`));
      const j = await pm(['inbox', '--url', url, '--token', 't', '--json']);
      assert.deepEqual(JSON.parse(j.stderr), { error: 'unreachable', reason: 'refused', detail: `cannot reach ${url}: connection refused` });
    });

    it('an untrusted certificate exits 3 with a hint about NODE_EXTRA_CA_CERTS', async () => {
      const r = await pm(['inbox'], { env: { ...as('bob@b.test').env, NODE_EXTRA_CA_CERTS: undefined } });
      assert.equal(r.code, 3);
      assert.match(r.stderr, /TLS failed[\s\S]*NODE_EXTRA_CA_CERTS/);
    });

    it('bad usage exits 2 before any request', async () => {
      const cases: [string[], RegExp][] = [
        [['inbox', '--bogus'], /Unknown option '--bogus'/],
        [['status'], /status needs <id>/],
        [['teleport'], /unknown command "teleport"/],
        [['send', '--to', 'bob@b.test', '-m', 'x', '--url', 'not a url'], /not a URL/],
      ];
      for (const [args, message] of cases) {
        const r = await pm(args, as('alice@a.test'));
        assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
        assert.match(r.stderr, message);
      }
      const none = await pm(['inbox']);
      assert.equal(none.code, 2);
      assert.match(none.stderr, /no node URL/);
    });

    it('--help works on every level', async () => {
      const top = await pm(['--help']);
      assert.equal(top.code, 0);
      assert.match(top.stdout, /^pullmail: the command-line client of a pullmail node/);
      const sub = await pm(['token', 'create', '--help']);
      assert.equal(sub.code, 0);
      assert.match(sub.stdout, /^usage: pullmail token create \[options\]/);
    });
  });

  it('the package bin runs the CLI through its #! line', async () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'packages/client/package.json'), 'utf8'));
    const bin = join(ROOT, 'packages/client', pkg.bin.pullmail);
    // the bin is the launcher that checks the Node version before it loads the TypeScript CLI
    assert.equal(bin, join(ROOT, 'packages/client/bin/pullmail.js'));
    assert.match(readFileSync(bin, 'utf8'), /^#!\/usr\/bin\/env node\n/);
    assert.ok(statSync(bin).mode & 0o100, 'executable');
    const r = await new Promise<{ code: number | null; out: string }>((resolve, reject) => {
      const child = spawn(bin, ['--version'], { env: childEnv({}) });
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
      child.once('error', reject);
      child.once('close', (code) => resolve({ code, out }));
    });
    assert.deepEqual(r, { code: 0, out: `pullmail ${pkg.version}\n` });
  });
});
