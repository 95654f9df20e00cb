// SMTP MX ingest (docs/operator.md "SMTP gateway"): Postfix's smtp-source delivers M messages of
// 5 KB (one connection per message, as MX traffic arrives) to the node's MX listener at concurrency
// 1, 10 and 50; msgs/s = M / smtp-source's wall time, every 250 meaning the copy is stored. The node
// (in-process, PostgreSQL) has greylisting off and a fake resolver giving the sender domain an SPF
// record that passes for 127.0.0.1, and bob allows the sender: mail goes straight to the inbox after
// SPF/DKIM/DMARC checks. Reference: the same smtp-source run against a private Postfix instance on
// loopback that relays to smtp-sink (ingest rate, and end-to-end until smtp-sink has them all).
// Usage: node bench/smtp-ingest.ts [messages=c1:200,c10:1500,c50:2000] [--no-postfix]
import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { count, eq } from 'drizzle-orm';
import { createFakeResolver } from '../packages/server/src/peers/fake-resolver.ts';
import { inbound } from '../packages/server/src/store/schema.ts';
import { freePort, startNode } from '../test/harness/node.ts';
import { findBinary } from '../test/harness/smtp-tools.ts';
import { ensureDatabaseUrl, pgBackendCpu, pgCpuDelta, printFigure, type Figure } from './lib/common.ts';
import { printCounts, resetCounts } from './lib/db-instrument.ts';
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
  /** Median connect → 220 greeting at the MX, ms (measured once, idle). */
  greetingMs?: number;
}

export async function benchSmtpIngest(counts: Record<number, number> = DEFAULT_COUNTS, withPostfix = true): Promise<IngestPoint[]> {
  ensureDatabaseUrl();
  const port = await freePort();
  const resolver = createFakeResolver({ txt: { 'legacy.test': [['v=spf1 ip4:127.0.0.1 -all']] } });
  const b = await startNode({
    domain: 'b.test',
    resolver,
    env: { PULLMAIL_SMTP_PORT: String(port), PULLMAIL_GREYLIST_SECONDS: '0', PULLMAIL_RATE_DOMAIN: '1000000/60', PULLMAIL_RATE_SENDER: '1000000/60' },
  });
  const points: IngestPoint[] = [];
  try {
    const bob = await b.addUser('bob@b.test');
    const rule = await b.api('/api/v1/rules', { method: 'POST', token: bob, json: { action: 'allow', pattern: 'alice@legacy.test' } });
    if (rule.status !== 201) throw new Error(`rule: ${rule.status}`);
    const stored = async () => Number((await b.server.ctx.db.select({ n: count() }).from(inbound).where(eq(inbound.state, 'stored')))[0].n);
    const warm = await smtpSource(port, 4, 40);
    if (warm.code !== 0 || (await stored()) < 40) throw new Error(`MX warm-up failed (${await stored()} stored): ${warm.out.slice(-800)}`);
    const greeting = await greetingMs(port);
    for (const c of CONCURRENCY) {
      const m = counts[c] ?? DEFAULT_COUNTS[c];
      resolver.queries.length = 0; // the fake resolver keeps a log of every query
      const before = await stored();
      resetCounts();
      const dbName = new URL(b.env.DATABASE_URL).pathname.slice(1);
      const pg0 = await pgBackendCpu([dbName]);
      const cpu0 = process.cpuUsage();
      const run = await profilePhase(`smtp-ingest-c${c}`, () => smtpSource(port, c, m));
      if (run.code !== 0) throw new Error(`smtp-source exited ${run.code}: ${run.out.slice(-800)}`);
      const cpu = process.cpuUsage(cpu0);
      const pgMs = pgCpuDelta(pg0, await pgBackendCpu([dbName]));
      if (process.env.PM_BENCH_COUNT_QUERIES) printCounts(m, `queries per SMTP message at concurrency ${c}`);
      const got = (await stored()) - before;
      points.push({ concurrency: c, messages: m, seconds: run.seconds, perSecond: m / run.seconds, stored: got, greetingMs: greeting, cpuMsPerMessage: { node: (cpu.user + cpu.system) / 1000 / m, postgres: pgMs / m } });
    }
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
  return points;
}

export function smtpIngestFigures(points: IngestPoint[]): Figure[] {
  return points.map((p) => ({
    name: `SMTP MX ingest, concurrency ${p.concurrency}`,
    short: `${p.perSecond.toFixed(0)} msgs/s` + (p.postfix ? ` (Postfix ${p.postfix.ingestPerSecond.toFixed(0)}, ratio ${(p.perSecond / p.postfix.ingestPerSecond).toFixed(2)})` : ''),
    value: `${p.perSecond.toFixed(0)} msgs/s (${p.stored}/${p.messages} stored; CPU per message ${p.cpuMsPerMessage?.node.toFixed(2)} ms node + ${p.cpuMsPerMessage?.postgres.toFixed(2)} ms PostgreSQL)` +
      (p.concurrency === 1 && p.greetingMs !== undefined ? `; every connection waits ${p.greetingMs.toFixed(0)} ms for the 220 greeting (smtp-server's fixed early-talker pause), so one session at a time tops out near ${(1000 / p.greetingMs).toFixed(0)}/s` : '') +
      (p.postfix
      ? `; Postfix on the same run: ${p.postfix.ingestPerSecond.toFixed(0)} msgs/s accepted, ${p.postfix.endToEndPerSecond.toFixed(0)} msgs/s through to smtp-sink → pullmail/Postfix ratio ${(p.perSecond / p.postfix.ingestPerSecond).toFixed(2)}`
      : '; Postfix reference not measured'),
    method: `smtp-source -s ${p.concurrency} -m ${p.messages} -l 5000 (new connection per message) → MX listener of an in-process node on PostgreSQL (greylisting off, SPF pass via fake DNS, sender allowed → inbox); msgs/s = messages / smtp-source wall time; Postfix: the same smtp-source run against a private Postfix 127.0.0.1 instance relaying to smtp-sink`,
  }));
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
