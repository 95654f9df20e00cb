// Backup and restore as docs/operator.md "Backup and restore" tells an operator to do it: a node run
// as a process gets users, mail sent and received (a large body kept as a blob), flags, a folder, a
// held request, rules and a consent token; it is stopped, backed up with the documented commands
// (a tar of the PGlite directory; pg_dump of PostgreSQL), wiped, restored into a fresh data directory
// or database, started again, and must show exactly the same: every listing, every body byte, the
// same node keys (JWKS) and DKIM key, and tokens issued before the backup still work.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ImapFlow } from 'imapflow';
import postgres from 'postgres';
import { postgresClient } from '../packages/server/src/store/db.ts';
import { childEnv, run, runProcess, startNode, stop, type RunningNode } from './harness/cli-process.ts';
import { freePort } from './harness/node.ts';
import { postgresSkipReason } from './harness/postgres.ts';
import { waitFor } from './harness/wait.ts';

type Json = Record<string, any>;
const ADMIN = 'backup-admin-token-0123456789';

/** Runs one documented shell line (docs/operator.md) with `env`; fails the test when it fails. */
async function sh(line: string, env: Record<string, string>): Promise<void> {
  const r = await runProcess('sh', ['-ec', line], childEnv(env));
  assert.equal(r.code, 0, `${line}\n${r.stderr}`);
}

class Api {
  readonly base: string;
  constructor(base: string) {
    this.base = base;
  }
  async call(token: string | undefined, method: string, path: string, body?: unknown, type = 'application/json'): Promise<{ status: number; body: any }> {
    const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
    if (body !== undefined) headers['content-type'] = type;
    const res = await fetch(this.base + path, { method, headers, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
    const ct = res.headers.get('content-type') ?? '';
    if (ct.startsWith('application/json')) return { status: res.status, body: await res.json() };
    // bodies are compared by digest: a blob restored byte for byte
    return { status: res.status, body: createHash('sha256').update(Buffer.from(await res.arrayBuffer())).digest('hex') };
  }
  async get(token: string | undefined, path: string): Promise<any> {
    const r = await this.call(token, 'GET', path);
    assert.equal(r.status, 200, `GET ${path}: ${JSON.stringify(r.body)}`);
    return r.body;
  }
}

/** Everything a user and a peer can see of the node, for a before/after comparison. */
async function snapshot(api: Api, tokens: Record<string, string>): Promise<Json> {
  const s: Json = { jwks: await api.get(undefined, '/.well-known/pullmail/jwks.json'), users: await api.get(ADMIN, '/api/v1/admin/users') };
  for (const [who, token] of Object.entries(tokens)) {
    for (const path of ['/api/v1/me', '/api/v1/sent', '/api/v1/inbox', '/api/v1/requests', '/api/v1/rules', '/api/v1/settings', '/api/v1/consent-tokens', '/api/v1/changes']) {
      s[`${who} ${path}`] = await api.get(token, path);
    }
    const { folders } = await api.get(token, '/api/v1/folders');
    s[`${who} folders`] = folders;
    for (const f of folders as Json[]) {
      const list = await api.get(token, `/api/v1/folders/${encodeURIComponent(f.name)}/messages`);
      s[`${who} ${f.name}`] = list;
      if (f.role === 'requests') continue; // a held request has no body yet
      for (const m of list.messages) s[`${who} ${m.id} raw`] = await api.get(token, `/api/v1/mail/${m.id}/raw?peek=1`);
    }
  }
  return s;
}

interface Backend {
  name: string;
  /** The env a node runs with on a fresh, empty store. */
  fresh(): Promise<Record<string, string>>;
  /** The documented backup commands, with the node stopped; `file` is the backup to write. */
  backup(env: Record<string, string>, file: string): Promise<void>;
  /** Wipes the store the way a lost disk would. */
  wipe(env: Record<string, string>): Promise<void>;
  /** The documented restore into `into` (a fresh store). */
  restore(into: Record<string, string>, file: string): Promise<void>;
}

const dirs: string[] = [];
const tempDir = (prefix: string) => {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
};
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const pglite: Backend = {
  name: 'PGlite',
  fresh: async () => ({ PULLMAIL_DATA_DIR: join(tempDir('pm-backup-'), 'data') }),
  backup: (env, file) => sh('tar -C "$PULLMAIL_DATA_DIR" -czf "$BACKUP" pglite', { ...env, BACKUP: file }),
  wipe: async (env) => rmSync(env.PULLMAIL_DATA_DIR, { recursive: true, force: true }),
  restore: (into, file) => sh('mkdir -p "$PULLMAIL_DATA_DIR" && tar -C "$PULLMAIL_DATA_DIR" -xzf "$BACKUP"', { ...into, BACKUP: file }),
};

function postgresBackend(serverUrl: string): Backend {
  const created: string[] = [];
  const admin = () => postgresClient(serverUrl, { max: 1, onnotice: () => {} });
  after(async () => {
    const sql = admin();
    for (const name of created) await sql.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await sql.end();
  });
  const database = async () => {
    const name = `pm_t_${randomBytes(6).toString('hex')}`;
    const sql = admin();
    await sql.unsafe(`CREATE DATABASE "${name}"`);
    await sql.end();
    created.push(name);
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    return url.href;
  };
  return {
    name: 'PostgreSQL',
    fresh: async () => ({ DATABASE_URL: await database(), PULLMAIL_DATA_DIR: join(tempDir('pm-backup-'), 'data') }),
    backup: (env, file) => sh('pg_dump --format=custom --no-owner --file="$BACKUP" "$DATABASE_URL"', { ...env, BACKUP: file }),
    async wipe(env) {
      const sql = admin();
      await sql.unsafe(`DROP DATABASE "${new URL(env.DATABASE_URL).pathname.slice(1)}" WITH (FORCE)`);
      await sql.end();
      rmSync(env.PULLMAIL_DATA_DIR, { recursive: true, force: true });
    },
    restore: (into, file) => sh('pg_restore --no-owner --exit-on-error --dbname="$DATABASE_URL" "$BACKUP"', { ...into, BACKUP: file }),
  };
}

function roundTrip(b: Backend): void {
  let node: RunningNode | undefined;
  after(() => stop(node));

  it('restores users, mail, flags, folders, requests, rules, tokens, node keys and the DKIM key', async () => {
    const [port, imapPort] = [await freePort(), await freePort()];
    const common = { PULLMAIL_DOMAINS: 'a.test', PULLMAIL_HTTP_PORT: String(port), PULLMAIL_IMAP_PORT: String(imapPort), PULLMAIL_PUBLIC_URL: `http://127.0.0.1:${port}`, PULLMAIL_ADMIN_TOKEN: ADMIN, PULLMAIL_SMTP_PORT: '0', PULLMAIL_SUBMISSION_PORT: '0' };
    const env = { ...common, ...(await b.fresh()) };
    const api = new Api(`http://127.0.0.1:${port}`);
    node = await startNode(env);

    const added = async (address: string) => {
      const r = await run(['user', 'add', address, '--password', `${address} pass`], env);
      assert.equal(r.code, 0, r.stderr);
      return (JSON.parse(r.stdout) as { token: string }).token;
    };
    const tokens = { alice: await added('alice@a.test'), bob: await added('bob@a.test'), carol: await added('carol@a.test') };
    const fetched = (token: string, id: string) => waitFor(`message ${id} fetched`, async () => {
      const s = await api.get(token, `/api/v1/messages/${id}`);
      return s.deliveries.every((d: Json) => d.state === 'fetched') && s;
    });

    // bob lets everyone in; carol keeps the default (first contacts held) and gives alice a consent token
    assert.equal((await api.call(tokens.bob, 'PUT', '/api/v1/settings', { first_contact: 'fetch' })).status, 200);
    assert.equal((await api.call(tokens.bob, 'POST', '/api/v1/rules', { action: 'block', pattern: '@spam.test' })).status, 201);
    const consent = await api.call(tokens.carol, 'POST', '/api/v1/consent-tokens', { sender: 'alice@a.test', max_uses: 5, expires_in_days: 30 });
    assert.equal(consent.status, 201);
    const toBob = await api.call(tokens.alice, 'POST', '/api/v1/messages', { to: ['bob@a.test'], subject: 'before the backup', text: 'hello bob' });
    assert.equal(toBob.status, 201);
    await fetched(tokens.alice, toBob.body.id);
    assert.equal((await api.call(tokens.alice, 'POST', '/api/v1/messages', { to: ['carol@a.test'], subject: 'may I?', text: 'first contact' })).status, 201);
    await waitFor('carol\'s held request', async () => (await api.get(tokens.carol, '/api/v1/requests')).requests.length === 1);

    // bob flags the message, files it in a folder of his own and keeps a large message (a blob) in Archive
    const [inboxed] = (await api.get(tokens.bob, '/api/v1/folders/INBOX/messages')).messages;
    assert.equal((await api.call(tokens.bob, 'PATCH', `/api/v1/mail/${inboxed.id}`, { add_flags: ['\\Seen', '\\Flagged', '$Important'] })).status, 200);
    assert.equal((await api.call(tokens.bob, 'POST', '/api/v1/folders', { name: 'Projects' })).status, 201);
    assert.equal((await api.call(tokens.bob, 'POST', `/api/v1/mail/${inboxed.id}/copy`, { folder: 'Projects' })).status, 201);
    const large = `From: bob@a.test\r\nTo: bob@a.test\r\nSubject: large\r\nMessage-ID: <large@a.test>\r\n\r\n${'0123456789abcdef'.repeat(40_000).replace(/(.{76})/g, '$1\r\n')}\r\n`;
    assert.equal((await api.call(tokens.bob, 'POST', '/api/v1/folders/Archive/messages?flags=%5CSeen', large, 'message/rfc822')).status, 201);

    const before = await snapshot(api, tokens);
    await stop(node);
    const dkim = await run(['dkim', 'show', 'a.test'], env);
    assert.equal(dkim.code, 0, dkim.stderr);

    const file = join(tempDir('pm-backup-file-'), 'pullmail.backup');
    await b.backup(env, file);
    await b.wipe(env);
    const restored = { ...common, ...(await b.fresh()) };
    await b.restore(restored, file);

    // the DKIM key is the one DNS already publishes: the same TXT record
    const dkimAfter = await run(['dkim', 'show', 'a.test'], restored);
    assert.equal(dkimAfter.code, 0, dkimAfter.stderr);
    assert.equal(dkimAfter.stdout, dkim.stdout);

    node = await startNode(restored);
    const restoredView = await snapshot(api, tokens);
    assert.deepEqual(restoredView, before);
    assert.ok(before.jwks.keys.length >= 1);

    // the restored node works on: passwords (an IMAP login sees the flags), a consent token issued
    // before the backup, new mail
    const imap = new ImapFlow({ host: '127.0.0.1', port: imapPort, secure: false, auth: { user: 'bob@a.test', pass: 'bob@a.test pass' }, logger: false, disableAutoIdle: true });
    await imap.connect();
    try {
      await imap.mailboxOpen('Projects', { readOnly: true });
      const seen = await imap.fetchOne('1', { flags: true, envelope: true });
      assert.ok(seen);
      assert.equal(seen.envelope?.subject, 'before the backup');
      assert.deepEqual([...(seen.flags ?? [])].sort(), ['$Important', '\\Flagged', '\\Seen']);
    } finally {
      await imap.logout();
    }
    const withConsent = await api.call(tokens.alice, 'POST', '/api/v1/messages', { to: ['carol@a.test'], subject: 'with consent', text: 'let in', consent: [consent.body.token] });
    assert.equal(withConsent.status, 201);
    await fetched(tokens.alice, withConsent.body.id);
    const later = await api.call(tokens.alice, 'POST', '/api/v1/messages', { to: ['bob@a.test'], subject: 'after the restore', text: 'still here' });
    await fetched(tokens.alice, later.body.id);
    const inbox = await api.get(tokens.bob, '/api/v1/inbox');
    assert.deepEqual(inbox.messages.map((m: Json) => m.subject), ['after the restore', 'before the backup']);
  });
}

describe('backup and restore on PGlite: a copy of the data directory while the node is stopped', { timeout: 180_000 }, () => {
  roundTrip(pglite);
});

describe('backup and restore on PostgreSQL: pg_dump and pg_restore', { timeout: 180_000, skip: await postgresSkipReason(process.env.DATABASE_URL, 'pg_dump of a node\'s database') }, () => {
  roundTrip(postgresBackend(process.env.DATABASE_URL!));
});
