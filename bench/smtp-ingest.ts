// SMTP MX ingest (docs/operator.md "SMTP gateway"): Postfix's smtp-source delivers M messages of
// 5 KB (one connection per message, as MX traffic arrives) to the node's MX listener at concurrency
// 1, 10 and 50; msgs/s = M / smtp-source's wall time, every 250 meaning the copy is stored. The node
// (in-process, PostgreSQL) has greylisting off and a fake resolver giving the sender domain an SPF
// record that passes for 127.0.0.1, and bob allows the sender: mail goes straight to the inbox after
// SPF/DKIM/DMARC checks. Reference: the same smtp-source run against a private Postfix instance on
// loopback that relays to smtp-sink (ingest rate, and end-to-end until smtp-sink has them all).
// Also measured: the same "from outside" (a `pullmail-server start` process with its default limits,
// greylisting and DNS, smtp-source at concurrency 10, one sender, one recipient), and a per-message
// breakdown: database statements and round trips per message in each run, and CPU ms per stage (each
// stage of onData run alone over the same 5 KB message after the runs; the rest is smtp-server's
// protocol handling, the sockets and logging).
// Usage: node bench/smtp-ingest.ts [messages=c1:200,c10:1500,c50:2000] [--no-postfix]
import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { Readable } from 'node:stream';
import { count, eq } from 'drizzle-orm';
import type { AppContext } from '../packages/server/src/context.ts';
import { findRcpt } from '../packages/server/src/delivery/recipient-policy.ts';
import { createFakeResolver } from '../packages/server/src/peers/fake-resolver.ts';
import { storeAccepted } from '../packages/server/src/smtp/accept-inbound.ts';
import { decodedHeader, headerValue, splitHeaders, withTraceHeaders } from '../packages/server/src/smtp/headers.ts';
import { readMessage } from '../packages/server/src/smtp/read-message.ts';
import { checkSenderAuth } from '../packages/server/src/smtp/sender-auth.ts';
import { findMailbox } from '../packages/server/src/store/mailboxes.ts';
import { inbound } from '../packages/server/src/store/schema.ts';
import { freePort, startNode } from '../test/harness/node.ts';
import { findBinary } from '../test/harness/smtp-tools.ts';
import { benchDatabase, ensureDatabaseUrl, pgBackendCpu, pgCpuDelta, sleep, printFigure, sqlClient, startNodeProcess, type Figure } from './lib/common.ts';
import { countQueries, countTotals, printCounts, resetCounts } from './lib/db-instrument.ts';
import { postfixPoint, smtpSource } from './lib/postfix.ts';
import { profilePhase } from './lib/profiler.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const CONCURRENCY = [1, 10, 50];
const DEFAULT_COUNTS: Record<number, number> = { 1: 200, 10: 1500, 50: 2000 };

/** Why the bench cannot run, or undefined: the gateway must be in the tree and wired in. */
export function smtpGatewayMissing(): string | undefined {
  const mx = join(ROOT, 'packages/server/src/smtp/mx-listener.ts');
  const ext = join(ROOT, 'packages/server/src/extensions.ts');
  if (!existsSync(mx)) return 'gateway not built (packages/server/src/smtp/mx-listener.ts missing)';
  if (!/smtpGateway|startMxListener/.test(readFileSync(ext, 'utf8'))) return 'gateway not built (no MX listener wired in extensions.ts)';
  if (!findBinary('smtp-source')) return 'smtp-source not installed (apt-get install -y postfix)';
  return undefined;
}

/** Median time from TCP connect to the 220 greeting, over `n` connections. */
async function greetingMs(port: number, n = 10): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    times.push(await new Promise<number>((resolve, reject) => {
      const s = connect(port, '127.0.0.1');
      let t = 0;
      s.once('connect', () => (t = performance.now()));
      s.once('data', () => {
        const ms = performance.now() - t;
        s.end('QUIT\r\n');
        resolve(ms);
      });
      s.once('error', reject);
    }));
  }
  return times.sort((a, b) => a - b)[Math.floor(n / 2)];
}

export interface IngestPoint {
  concurrency: number;
  messages: number;
  seconds: number;
  perSecond: number;
  stored: number;
  postfix?: { ingestPerSecond: number; endToEndPerSecond: number; sunk: number };
  /** CPU per message: the node process and PostgreSQL. */
  cpuMsPerMessage?: { node: number; postgres: number };
  /** Median connect → 220 greeting at the MX, ms (measured once, idle, from an address already greeted). */
  greetingMs?: number;
  /** Database statements and round trips (statements + BEGIN + COMMIT) per message, background queue polls included. */
  statementsPerMessage?: number;
  roundTripsPerMessage?: number;
  /** Load average (1 min) just before the run: the machine is shared. */
  load?: number;
}

/** CPU ms per message of each stage of onData, measured alone over the same message. */
export interface StageCost {
  stage: string;
  ms: number;
}

/** The smtp-source run from outside: a node process with default settings. */
export interface OutsidePoint {
  concurrency: number;
  messages: number;
  perSecond: number;
  /** Rows stored or held for bob. */
  kept: number;
  /** Cores busy on average during the run: the node process and its PostgreSQL backends. */
  cores: { node: number; postgres: number };
  load: number;
  postfixPerSecond?: number;
}

const load1 = () => loadavg()[0];

export async function benchSmtpIngest(counts: Record<number, number> = DEFAULT_COUNTS, withPostfix = true): Promise<{ points: IngestPoint[]; stages: StageCost[]; outside?: OutsidePoint }> {
  ensureDatabaseUrl();
  const port = await freePort();
  const resolver = createFakeResolver({ txt: { 'legacy.test': [['v=spf1 ip4:127.0.0.1 -all']] } });
  const b = await startNode({
    domain: 'b.test',
    resolver,
    env: { PULLMAIL_SMTP_PORT: String(port), PULLMAIL_GREYLIST_SECONDS: '0', PULLMAIL_RATE_DOMAIN: '1000000/60', PULLMAIL_RATE_SENDER: '1000000/60', PULLMAIL_SMTP_MAX_CLIENTS_PER_IP: '200' },
  });
  const points: IngestPoint[] = [];
  let stages: StageCost[] = [];
  try {
    const bob = await b.addUser('bob@b.test');
    const rule = await b.api('/api/v1/rules', { method: 'POST', token: bob, json: { action: 'allow', pattern: 'alice@legacy.test' } });
    if (rule.status !== 201) throw new Error(`rule: ${rule.status}`);
    const stored = async () => Number((await b.server.ctx.db.select({ n: count() }).from(inbound).where(eq(inbound.state, 'stored')))[0].n);
    const warm = await smtpSource(port, 4, 40);
    if (warm.code !== 0 || (await stored()) < 40) throw new Error(`MX warm-up failed (${await stored()} stored): ${warm.out.slice(-800)}`);
    const greeting = await greetingMs(port);
    countQueries();
    for (const c of CONCURRENCY) {
      const m = counts[c] ?? DEFAULT_COUNTS[c];
      resolver.queries.length = 0; // the fake resolver keeps a log of every query
      const before = await stored();
      const load = load1();
      resetCounts();
      const dbName = new URL(b.env.DATABASE_URL).pathname.slice(1);
      const pg0 = await pgBackendCpu([dbName]);
      const cpu0 = process.cpuUsage();
      const run = await profilePhase(`smtp-ingest-c${c}`, () => smtpSource(port, c, m));
      if (run.code !== 0) throw new Error(`smtp-source exited ${run.code}: ${run.out.slice(-800)}`);
      const cpu = process.cpuUsage(cpu0);
      const pgMs = pgCpuDelta(pg0, await pgBackendCpu([dbName]));
      if (process.env.PM_BENCH_COUNT_QUERIES) printCounts(m, `queries per SMTP message at concurrency ${c}`);
      const q = countTotals();
      const got = (await stored()) - before;
      points.push({
        concurrency: c, messages: m, seconds: run.seconds, perSecond: m / run.seconds, stored: got, greetingMs: greeting, load,
        cpuMsPerMessage: { node: (cpu.user + cpu.system) / 1000 / m, postgres: pgMs / m },
        statementsPerMessage: q.statements / m, roundTripsPerMessage: (q.statements + 2 * q.transactions) / m,
      });
    }
    stages = await stageCosts(b.server.ctx);
  } finally {
    await b.stop();
  }
  if (withPostfix && findBinary('postfix')) {
    for (const p of points) {
      try {
        p.postfix = await postfixPoint(p.concurrency, p.messages);
      } catch (err) {
        console.error(`postfix reference at concurrency ${p.concurrency} failed: ${(err as Error).message}`);
      }
    }
  }
  let outside: OutsidePoint | undefined;
  try {
    outside = await benchOutside(10, OUTSIDE_MESSAGES);
    outside.postfixPerSecond = points.find((p) => p.concurrency === 10)?.postfix?.ingestPerSecond;
  } catch (err) {
    console.error(`SMTP ingest from outside failed: ${(err as Error).message}`);
  }
  return { points, stages, outside };
}

/** Stays under the default PULLMAIL_RATE_SENDER (300/60) the outside node keeps. */
const OUTSIDE_MESSAGES = 250;

/** A message like smtp-source's: a few header fields and 5,000 bytes of body lines. */
function sampleMessage(): Buffer {
  const body = ('La La La La La La La La La La La La La La La La La La La La La La La La La La\r\n').repeat(Math.ceil(5000 / 78)).slice(0, 5000);
  return Buffer.from(`From: <alice@legacy.test>\r\nTo: <bob@b.test>\r\nDate: ${new Date().toUTCString()}\r\nMessage-Id: <bench.${Date.now()}@legacy.test>\r\nSubject: smtp-source bench\r\n\r\n${body}\r\n`, 'latin1');
}

/** Runs `fn` n times one after the other; CPU ms (this process, user + system) per call. */
async function cpuPerCall(n: number, fn: () => Promise<unknown> | unknown): Promise<number> {
  await fn(); // warm
  const t = process.cpuUsage();
  for (let i = 0; i < n; i++) await fn();
  const d = process.cpuUsage(t);
  return (d.user + d.system) / 1000 / n;
}

/** CPU per message of each stage the MX runs, alone and in sequence, on the node's own context. */
async function stageCosts(ctx: AppContext, n = 300): Promise<StageCost[]> {
  const raw = sampleMessage();
  const mailbox = (await findMailbox(ctx.db, 'bob@b.test'))!;
  const out: StageCost[] = [];
  const add = async (stage: string, fn: () => Promise<unknown> | unknown) => out.push({ stage, ms: await cpuPerCall(n, fn) });
  await add('MAIL: rate limits (reserved points)', () => ctx.rateLimits.take('alice@legacy.test'));
  await add('RCPT: mailbox + rules + correspondent (1 query)', () => findRcpt(ctx, 'bob@b.test', 'alice@legacy.test'));
  await add('DATA: read + smuggling guard', () => readMessage(Readable.from([raw.subarray(0, 4096), raw.subarray(4096)]), ctx.config.maxMessageBytes));
  await add('DATA: header split + Subject and Date', () => {
    const { fields } = splitHeaders(raw);
    return [decodedHeader(fields, 'subject'), new Date(headerValue(fields, 'date') ?? '')];
  });
  await add('DATA: SPF + DKIM + DMARC (mailauth, fake DNS)', () => checkSenderAuth(raw, { ip: '127.0.0.1', helo: 'localhost', sender: 'alice@legacy.test', authservId: 'b.test', resolver: ctx.resolver }));
  await add('DATA: trace fields', () => withTraceHeaders(raw, ['Return-Path: <alice@legacy.test>', 'Received: from localhost by b.test'], 'b.test'));
  const mark = `stage-${Date.now()}`;
  // what RCPT read, as the MX passes it on: the INSERT checks the rules still hold
  const { facts } = (await findRcpt(ctx, 'bob@b.test', 'alice@legacy.test'))!;
  const seen = { sender: 'alice@legacy.test', byRcpt: new Map([['bob@b.test', facts]]) };
  await add('DATA: policy + guarded INSERT (storeAccepted)', () => storeAccepted(ctx, { raw, tooLarge: false, sender: 'alice@legacy.test', senderVerified: true, quarantine: false, subject: mark }, new Map([['bob@b.test', mailbox]]), new Map(), { seen }));
  await ctx.db.delete(inbound).where(eq(inbound.subject, mark));
  return out;
}

/** CPU ms used so far by process `pid` (all threads), from /proc/<pid>/stat. */
function processCpuMs(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
}

/**
 * From outside: a `pullmail-server start` process (its own event loop, system DNS, default greylisting,
 * rate limits and greeting pause), bob allowing alice; smtp-source at `concurrency` with a new
 * connection per message, one sender and one recipient. Without SPF for legacy.test the mail is held
 * (an allowed address whose domain does not verify it): still stored before the 250.
 */
async function benchOutside(concurrency: number, messages: number): Promise<OutsidePoint> {
  const database = await benchDatabase();
  const smtpPort = await freePort();
  const node = await startNodeProcess({ domain: 'b.test', databaseUrl: database.url, env: { PULLMAIL_SMTP_PORT: String(smtpPort) } }).catch(async (err) => {
    await database.drop();
    throw err;
  });
  const sql = sqlClient(database.url);
  try {
    const bob = await node.addUser('bob@b.test');
    const rule = await node.api('/api/v1/rules', { method: 'POST', token: bob, json: { action: 'allow', pattern: 'alice@legacy.test' } });
    if (rule.status !== 201) throw new Error(`rule: ${rule.status}`);
    const kept = async () => Number((await sql<{ n: string }[]>`select count(*) as n from inbound where state in ('stored', 'held')`)[0].n);
    const warm = await smtpSource(smtpPort, 2, 10);
    if (warm.code !== 0) throw new Error(`warm-up: ${warm.out.slice(-500)}`);
    const before = await kept();
    const dbName = new URL(database.url).pathname.slice(1);
    const load = load1();
    const pg0 = await pgBackendCpu([dbName]);
    const cpu0 = processCpuMs(node.pid);
    const run = await smtpSource(smtpPort, concurrency, messages);
    if (run.code !== 0) throw new Error(`smtp-source exited ${run.code}: ${run.out.slice(-500)}`);
    const nodeMs = processCpuMs(node.pid) - cpu0;
    const pgMs = pgCpuDelta(pg0, await pgBackendCpu([dbName]));
    const wallMs = run.seconds * 1000;
    return { concurrency, messages, perSecond: messages / run.seconds, kept: (await kept()) - before, cores: { node: nodeMs / wallMs, postgres: pgMs / wallMs }, load };
  } finally {
    await sql.end();
    await node.stop();
    await database.drop();
  }
}

const ratio = (ours: number, postfix?: number) => (postfix ? ` (Postfix ${postfix.toFixed(0)} msgs/s in the same run → ${(ours / postfix).toFixed(2)}×)` : ' (Postfix not measured)');

export function smtpIngestFigures(r: { points: IngestPoint[]; stages: StageCost[]; outside?: OutsidePoint }): Figure[] {
  const figures: Figure[] = r.points.map((p) => ({
    name: `SMTP MX ingest, concurrency ${p.concurrency}`,
    short: `${p.perSecond.toFixed(0)} msgs/s` + (p.postfix ? ` (Postfix ${p.postfix.ingestPerSecond.toFixed(0)}, ${(p.perSecond / p.postfix.ingestPerSecond).toFixed(2)}×)` : ''),
    value: `${p.perSecond.toFixed(0)} msgs/s${ratio(p.perSecond, p.postfix?.ingestPerSecond)}; ${p.stored}/${p.messages} stored; per message: CPU ${p.cpuMsPerMessage?.node.toFixed(2)} ms node + ${p.cpuMsPerMessage?.postgres.toFixed(2)} ms PostgreSQL, ` +
      `${p.statementsPerMessage?.toFixed(2)} statements, ${p.roundTripsPerMessage?.toFixed(2)} database round trips; load average ${p.load?.toFixed(2)} before the run` +
      (p.concurrency === 1 && p.greetingMs !== undefined ? `; 220 greeting after ${p.greetingMs.toFixed(1)} ms for an address already greeted (the pause is for unknown addresses only)` : '') +
      (p.postfix ? `; Postfix through to smtp-sink ${p.postfix.endToEndPerSecond.toFixed(0)} msgs/s` : ''),
    method: `smtp-source -s ${p.concurrency} -m ${p.messages} -l 5000 (new connection per message) → MX listener of an in-process node on PostgreSQL (greylisting off, SPF pass via fake DNS, sender allowed → inbox, 250 after the INSERT committed); msgs/s = messages / smtp-source wall time; Postfix: the same smtp-source run against a private Postfix 127.0.0.1 instance relaying to smtp-sink (its queue file fsynced before 250)`,
  }));
  if (r.stages.length) {
    const total = r.stages.reduce((a, s) => a + s.ms, 0);
    const at10 = r.points.find((p) => p.concurrency === 10)?.cpuMsPerMessage?.node;
    figures.push({
      name: 'SMTP ingest, CPU per message by stage',
      short: `${total.toFixed(2)} ms in onData's stages`,
      value: r.stages.map((s) => `${s.stage} ${s.ms.toFixed(3)} ms`).join('; ') + `; sum ${total.toFixed(2)} ms` +
        (at10 !== undefined ? ` of the ${at10.toFixed(2)} ms node CPU per message at concurrency 10 (the rest: smtp-server's protocol handling, the sockets, logging, event loop)` : ''),
      method: 'each stage alone, 300 times in sequence on the bench node\'s own context (same PostgreSQL), over a 5 KB message like smtp-source\'s; process CPU (user + system) per call',
    });
  }
  const o = r.outside;
  if (o) {
    figures.push({
      name: `SMTP ingest from outside, concurrency ${o.concurrency}`,
      short: `${o.perSecond.toFixed(0)} msgs/s` + (o.postfixPerSecond ? ` (Postfix ${o.postfixPerSecond.toFixed(0)}, ${(o.perSecond / o.postfixPerSecond).toFixed(2)}×)` : ''),
      value: `${o.perSecond.toFixed(0)} msgs/s${ratio(o.perSecond, o.postfixPerSecond)}; ${o.kept}/${o.messages} kept; cores busy ${o.cores.node.toFixed(2)} node + ${o.cores.postgres.toFixed(2)} PostgreSQL of 2; load average ${o.load.toFixed(2)} before the run`,
      method: `a pullmail-server start process with default settings (greylisting, rate limits, greeting pause, system DNS) on PostgreSQL, bob allowing alice@legacy.test; smtp-source -s ${o.concurrency} -m ${o.messages} -l 5000 (one sender, one recipient, new connection per message; ${o.messages} stays under the default sender limit of 300/60) after 10 warm-up messages; SPF finds no record, so the mail is held for bob (stored before the 250); Postfix: the concurrency 10 figure above`,
    });
  }
  return figures;
}

if (import.meta.main) {
  const missing = smtpGatewayMissing();
  if (missing) {
    console.log(`SMTP ingest: skipped (${missing})`);
  } else {
    const counts = { ...DEFAULT_COUNTS };
    for (const part of (process.argv[2] ?? '').split(',').filter(Boolean)) {
      const [c, m] = part.replace(/^c/, '').split(':').map(Number);
      counts[c] = m;
    }
    for (const f of smtpIngestFigures(await benchSmtpIngest(counts, process.argv[3] !== '--no-postfix'))) printFigure(f);
  }
}
