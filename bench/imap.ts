// IMAP on one node (issue 13): a `pullmail-server start` process with PULLMAIL_IMAP_PORT on loopback,
// driven over raw sockets so the client's parser is not what is measured.
//   1. UID FETCH 1:* (BODY.PEEK[HEADER]) over a folder of 10,000 messages: ms to the tagged OK;
//   2. FETCH 1:* (BODY.PEEK[]) over 1,000 messages of 5 KB: msgs/s;
//   3. IDLE latency: from just before a REST append (POST /api/v1/folders/INBOX/messages) to the
//      untagged EXISTS on a connection idling on that INBOX, p50/p99 over 200 appends one at a time;
//   4. memory per idle connection: VmRSS of the node before and after 1,000 connections logged in,
//      INBOX selected and in IDLE, divided by 1,000.
// Each figure has its own user (own INBOX). The 10k and 1k folders are filled in bulk SQL before the
// node starts (one INSERT … generate_series per folder, in this process): the REST append manages
// about 90 msgs/s here (PGlite, 8 in flight), nearly two minutes for 10k. The IDLE step stores through
// the REST append. PostgreSQL with DATABASE_URL (a pm_t_* database dropped at the end), else PGlite in
// a temporary data directory (removed at the end), opened by the node process.
// Usage: node bench/imap.ts [headers=10000] [bodies=1000] [idles=200] [connections=1000]
// PM_BENCH_PROFILE=<dir> writes a .cpuprofile of the node process when it stops.
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { createAccounts } from '../packages/server/src/accounts/accounts.ts';
import { loadConfig } from '../packages/server/src/config/config.ts';
import { openMigrated } from '../packages/server/src/server.ts';
import { findMailbox } from '../packages/server/src/store/mailboxes.ts';
import { freePort } from '../test/harness/node.ts';
import { testDatabase } from '../test/harness/database.ts';
import { memoryOf, percentile, printFigure, sleep, startNodeProcess, withCleanup, mb, type Figure, type NodeProcess } from './lib/common.ts';

export interface ImapBenchResult {
  db: 'postgres' | 'pglite';
  fillSeconds: number;
  headers: { n: number; ms: number; bytes: number };
  bodies: { n: number; ms: number; bytes: number; size: number };
  idle: { n: number; p50: number; p99: number; max: number };
  connections: { n: number; beforeKb: number; afterKb: number; openSeconds: number };
}

const PASSWORD = 'bench-imap-password';
/** ~5 KB of body: 80 lines of 64 characters. */
const BODY_5K = Array.from({ length: 80 }, (_, i) => `${String(i).padStart(4, '0')} ${'abcdefghijklmnopqrstuvwxyz0123456789'.repeat(2).slice(0, 59)}`).join('\r\n');

const HEAD = (i: string, date: string, id: string) =>
  `From: Alice <alice@a.test>\r\nTo: Bob <bob@b.test>\r\nSubject: bench message ${i}\r\nDate: ${date}\r\n` +
  `Message-ID: <bench-${id}@a.test>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n`;

function message(i: number, body: string): Buffer {
  return Buffer.from(`${HEAD(String(i), new Date().toUTCString().replace('GMT', '+0000'), `${i}-${Math.random().toString(36).slice(2)}`)}${body}\r\n`);
}

type Db = Awaited<ReturnType<typeof openMigrated>>['db'];

/** `n` messages in the INBOX of `address`, uids 1..n, one INSERT (the same shape a REST append files). */
async function bulkInbox(db: Db, address: string, n: number, body: string): Promise<number> {
  const mailbox = (await findMailbox(db, address))!;
  // the message text with the number spliced in three times (Subject, Message-ID), as in message()
  const [a, b, c] = HEAD('\u0000', 'Thu, 01 Jan 2026 00:00:00 +0000', '\u0000').split('\u0000');
  const tail = `${body}\r\n`;
  await db.execute(sql`
    insert into folder_messages (mailbox_id, folder_id, uid, modseq, flags, internal_date, size, sender, subject, message_id_header, raw, sha256)
    select f.mailbox_id, f.id, g, 1, '[]'::jsonb, now() - (${n}::int - g) * interval '1 second', octet_length(m.raw), 'alice@a.test',
           'bench message ' || g, '<bench-' || g || '@a.test>', m.raw, encode(sha256(m.raw), 'base64')
    from folders f, generate_series(1, ${n}::int) g,
         lateral (select convert_to(${a}::text || g || ${b}::text || g || ${c}::text || ${tail}::text, 'UTF8') as raw) m
    where f.mailbox_id = ${mailbox.id}::uuid and f.role = 'inbox'`);
  await db.execute(sql`update folders set uid_next = ${n + 1}::int, highest_modseq = greatest(highest_modseq, 1) where mailbox_id = ${mailbox.id}::uuid and role = 'inbox'`);
  await db.execute(sql`analyze folder_messages`);
  return Buffer.byteLength(a + n + b + n + c + tail);
}

/** One raw IMAP connection: lines out, and a wait for a pattern in what came back since the last wait. */
class RawImap {
  readonly socket: Socket;
  #pending = '';
  bytes = 0;
  #waiter?: { re: RegExp; resolve: (text: string) => void };
  #tag = 0;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      this.bytes += d.length;
      this.#pending += d;
      this.#check();
    });
    socket.on('error', () => {});
  }

  #check() {
    const w = this.#waiter;
    // only the tail is searched: a 10k-message answer is not scanned again on every chunk
    if (w && w.re.test(this.#pending.slice(-4096))) {
      const text = this.#pending;
      this.#pending = '';
      this.#waiter = undefined;
      w.resolve(text);
    }
  }

  static async open(port: number): Promise<RawImap> {
    const socket = connect({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const c = new RawImap(socket);
    const greeting = await c.until(/\r\n$/);
    if (!greeting.startsWith('* OK')) throw new Error(`IMAP greeting: ${greeting.trim()}`);
    return c;
  }

  until(re: RegExp, timeoutMs = 60_000): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`IMAP: no ${re} within ${timeoutMs} ms; got ${JSON.stringify(this.#pending.slice(-300))}`)), timeoutMs);
      this.#waiter = { re, resolve: (t) => (clearTimeout(timer), resolve(t)) };
      this.#check();
    });
  }

  /** Sends a tagged command and resolves with everything up to its tagged OK (throws on NO/BAD). */
  async command(line: string, timeoutMs?: number): Promise<string> {
    const tag = `t${++this.#tag}`;
    this.socket.write(`${tag} ${line}\r\n`);
    const text = await this.until(new RegExp(`(^|\\r\\n)${tag} (OK|NO|BAD)[^\\r\\n]*\\r\\n$`), timeoutMs);
    const status = text.slice(text.lastIndexOf(`${tag} `));
    if (!status.startsWith(`${tag} OK`)) throw new Error(`IMAP ${line.split(' ')[0]}: ${status.trim()}`);
    return text;
  }

  async login(user: string): Promise<void> {
    await this.command(`LOGIN "${user}" "${PASSWORD}"`);
  }

  async idle(): Promise<void> {
    this.socket.write(`t${++this.#tag} IDLE\r\n`);
    await this.until(/(^|\r\n)\+ [^\r\n]*\r\n$/);
  }

  close(): void {
    this.socket.destroy();
  }
}

async function append(node: NodeProcess, token: string, raw: Buffer): Promise<void> {
  const res = await node.api('/api/v1/folders/INBOX/messages', { method: 'POST', token, body: raw, headers: { 'content-type': 'message/rfc822' } });
  const text = await res.text();
  if (res.status !== 201) throw new Error(`append: ${res.status} ${text}`);
}

/** Times one FETCH over the whole INBOX of `user`; checks that every message came back. */
async function timeFetch(port: number, user: string, n: number, command: string): Promise<{ ms: number; bytes: number }> {
  const c = await RawImap.open(port);
  try {
    await c.login(user);
    const selected = await c.command('SELECT INBOX');
    const exists = Number(/\* (\d+) EXISTS/.exec(selected)?.[1]);
    if (exists !== n) throw new Error(`INBOX of ${user} holds ${exists} messages, expected ${n}`);
    const before = c.bytes;
    const t = performance.now();
    const text = await c.command(command, 600_000);
    const ms = performance.now() - t;
    const answers = text.match(/(^|\r\n)\* \d+ FETCH /g)?.length ?? 0;
    if (answers !== n) throw new Error(`${command}: ${answers} FETCH responses, expected ${n}`);
    return { ms, bytes: c.bytes - before };
  } finally {
    c.close();
  }
}

export async function benchImap(headers = 10_000, bodies = 1000, idles = 200, connections = 1000): Promise<ImapBenchResult> {
  return withCleanup(async (cleanup) => {
    let dbEnv: Record<string, string>;
    if (process.env.DATABASE_URL) {
      const db = await testDatabase();
      cleanup(() => db.drop());
      dbEnv = db.env;
    } else {
      const dir = mkdtempSync(join(tmpdir(), 'pm-bench-imap-'));
      cleanup(async () => rmSync(dir, { recursive: true, force: true }));
      dbEnv = { PULLMAIL_DATA_DIR: dir };
    }
    // users and the two big folders, before the node opens the database
    const fillStarted = performance.now();
    const { config } = loadConfig({ ...dbEnv, PULLMAIL_DOMAINS: 'b.test', PULLMAIL_LOG_LEVEL: 'silent' });
    const database = await openMigrated(config);
    let idleToken: string;
    let bodySize: number;
    try {
      const accounts = createAccounts(database.db, config.domains);
      for (const user of ['headers', 'bodies']) await accounts.create(`${user}@b.test`, PASSWORD);
      idleToken = (await accounts.create('idle@b.test', PASSWORD)).token;
      await bulkInbox(database.db, 'headers@b.test', headers, 'short body');
      bodySize = await bulkInbox(database.db, 'bodies@b.test', bodies, BODY_5K);
    } finally {
      await database.close();
    }
    const fillSeconds = (performance.now() - fillStarted) / 1000;

    const imapPort = await freePort();
    const cap = String(connections + 50);
    const node = await startNodeProcess({
      domain: 'b.test',
      databaseUrl: dbEnv.DATABASE_URL ?? '',
      env: { ...dbEnv, PULLMAIL_IMAP_PORT: String(imapPort), PULLMAIL_IMAP_MAX_CLIENTS: cap, PULLMAIL_IMAP_MAX_CLIENTS_PER_IP: cap },
      // PM_BENCH_PROFILE=<dir>: a .cpuprofile of the whole node process, written when it stops
      nodeArgs: process.env.PM_BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.PM_BENCH_PROFILE}`] : [],
    });
    cleanup(() => node.stop());

    // 1. headers of 10k messages
    const hdr = await timeFetch(imapPort, 'headers@b.test', headers, 'UID FETCH 1:* (BODY.PEEK[HEADER])');
    // 2. full bodies of 1k messages of 5 KB
    const full = await timeFetch(imapPort, 'bodies@b.test', bodies, 'FETCH 1:* (BODY.PEEK[])');

    // 3. store → EXISTS on an idling connection, one append at a time
    const watcher = await RawImap.open(imapPort);
    cleanup(async () => watcher.close());
    await watcher.login('idle@b.test');
    await watcher.command('SELECT INBOX');
    await watcher.idle();
    const latencies: number[] = [];
    for (let i = 0; i < idles; i++) {
      const raw = message(i, BODY_5K);
      const seen = watcher.until(new RegExp(`(^|\\r\\n)\\* ${i + 1} EXISTS\\r\\n`), 30_000);
      const t = performance.now();
      const [, ms] = await Promise.all([append(node, idleToken, raw), seen.then(() => performance.now() - t)]);
      latencies.push(ms);
    }
    watcher.close();
    latencies.sort((a, b) => a - b);

    // 4. RSS per idle connection: 1,000 logged in, INBOX (200 messages) selected, in IDLE
    await sleep(2000);
    const beforeKb = memoryOf(node.pid).rssKb;
    const open: RawImap[] = [];
    cleanup(async () => {
      for (const c of open) c.close();
    });
    const t = performance.now();
    let started = 0;
    await Promise.all(Array.from({ length: 20 }, async () => {
      while (started < connections) {
        started++;
        const c = await RawImap.open(imapPort);
        open.push(c);
        await c.login('idle@b.test');
        await c.command('SELECT INBOX');
        await c.idle();
      }
    }));
    const openSeconds = (performance.now() - t) / 1000;
    await sleep(2000);
    const afterKb = memoryOf(node.pid).rssKb;

    return {
      db: dbEnv.DATABASE_URL ? 'postgres' : 'pglite',
      fillSeconds,
      headers: { n: headers, ...hdr },
      bodies: { n: bodies, ...full, size: bodySize },
      idle: { n: idles, p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: latencies[latencies.length - 1] },
      connections: { n: open.length, beforeKb, afterKb, openSeconds },
    };
  });
}

export function imapFigures(r: ImapBenchResult): Figure[] {
  const db = r.db === 'postgres' ? 'PostgreSQL' : 'PGlite (data directory) in the node process';
  const perConnKb = (r.connections.afterKb - r.connections.beforeKb) / r.connections.n;
  return [
    {
      name: `IMAP FETCH of ${r.headers.n.toLocaleString('en')} headers`,
      short: `${r.headers.ms.toFixed(0)} ms`,
      value: `${r.headers.ms.toFixed(0)} ms (${(r.headers.bytes / 1e6).toFixed(1)} MB answered, ${((r.headers.n / r.headers.ms) * 1000).toFixed(0)} msgs/s)`,
      method: `UID FETCH 1:* (BODY.PEEK[HEADER]) on a raw loopback socket, from the command to the tagged OK, INBOX of ${r.headers.n} messages (bulk SQL fill with the 1k below: ${r.fillSeconds.toFixed(1)} s); ${db}`,
    },
    {
      name: `IMAP full-body sync of ${r.bodies.n.toLocaleString('en')} × 5 KB`,
      short: `${((r.bodies.n / r.bodies.ms) * 1000).toFixed(0)} msgs/s`,
      value: `${((r.bodies.n / r.bodies.ms) * 1000).toFixed(0)} msgs/s (${r.bodies.ms.toFixed(0)} ms, ${((r.bodies.bytes / 1e6) / (r.bodies.ms / 1000)).toFixed(1)} MB/s)`,
      method: `FETCH 1:* (BODY.PEEK[]) on a raw loopback socket to the tagged OK, INBOX of ${r.bodies.n} messages of ${r.bodies.size} bytes; ${db}`,
    },
    {
      name: 'IMAP IDLE latency, store → EXISTS',
      short: `p50 ${r.idle.p50.toFixed(1)} ms, p99 ${r.idle.p99.toFixed(1)} ms`,
      value: `p50 ${r.idle.p50.toFixed(1)} ms, p99 ${r.idle.p99.toFixed(1)} ms, max ${r.idle.max.toFixed(1)} ms`,
      method: `${r.idle.n} REST appends (POST /api/v1/folders/INBOX/messages, ~5.4 KB) one at a time, each timed from just before the request to the untagged EXISTS on a connection idling on that INBOX; ${db}`,
    },
    {
      name: 'IMAP memory per idle connection',
      short: `${perConnKb.toFixed(1)} kB`,
      value: `${perConnKb.toFixed(1)} kB (node RSS ${mb(r.connections.beforeKb)} → ${mb(r.connections.afterKb)} with ${r.connections.n} connections)`,
      method: `VmRSS of the pullmail-server start process 2 s before and 2 s after ${r.connections.n} loopback connections each LOGIN, SELECT INBOX (${r.idle.n} messages), IDLE (opened 20 at a time in ${r.connections.openSeconds.toFixed(1)} s, scrypt logins included); difference / ${r.connections.n}; ${db}`,
    },
  ];
}

if (import.meta.main) {
  const [h, b, i, c] = process.argv.slice(2).map(Number);
  const r = await benchImap(h || undefined, b || undefined, i || undefined, c || undefined);
  for (const f of imapFigures(r)) printFigure(f);
  process.exit(0);
}
