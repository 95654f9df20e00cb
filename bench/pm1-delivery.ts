// pm1 node→node delivery throughput: N messages of ~5 KB from alice@a.test to bob@b.test (allowed),
// timed from the first send until bob's node has stored the last one. Two in-process nodes over
// HTTPS on loopback; PostgreSQL when DATABASE_URL is set (one database per node), else in-memory PGlite.
// `prefill` first stores that many already-delivered messages on both sides (bulk SQL), to see how
// throughput holds up with a full database.
// Reference in the same run (issue 15): Postfix relaying the same number of 5 KB messages at the same
// concurrency, smtp-source → a private Postfix (queue fsynced) → smtp-sink, end to end.
// The CPU of the measured phase is split by stage (lib/stages.ts: a CPU profile at 1 ms, statements
// put on the stage whose async stack issued them).
// Usage: node bench/pm1-delivery.ts [N] [prefill] [--no-postfix]
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { count, eq } from 'drizzle-orm';
import { findMailbox } from '../packages/server/src/store/mailboxes.ts';
import { inbound } from '../packages/server/src/store/schema.ts';
import { startNodes } from '../test/harness/node.ts';
import { prefillInbound, prefillSent } from './lib/bulk-store.ts';
import { pgBackendCpu, pgCpuDelta, printFigure, sqlClient, type Figure } from './lib/common.ts';
import { countQueries, printCounts, resetCounts, stageCounts, countTotals } from './lib/db-instrument.ts';
import { postfixPoint, type PostfixRun } from './lib/postfix.ts';
import { profilePhase } from './lib/profiler.ts';
import { profileStages, stageTable } from './lib/stages.ts';
import { findBinary } from '../test/harness/smtp-tools.ts';

/** API clients sending at once, and smtp-source sessions for the Postfix reference. */
export const PM1_CONCURRENCY = 10;

// the bench measures throughput, not the per-sender limits a real node keeps
const BENCH_ENV = { PULLMAIL_QUEUE_POLL_MS: '100', PULLMAIL_RATE_DOMAIN: '1000000/60', PULLMAIL_RATE_SENDER: '1000000/60', PULLMAIL_SEND_LIMIT: '1000000/60' };

export interface Pm1DeliveryResult {
  n: number;
  prefill: number;
  sendSeconds: number;
  totalSeconds: number;
  perSecond: number;
  prefillSeconds: number;
  db: string;
  /** CPU per delivered message: this process (both nodes and the sending client), and PostgreSQL's backends. */
  cpuMsPerMessage: { node: number; postgres: number };
  /** SQL statements and BEGIN/COMMIT pairs per message, both nodes. */
  perMessage: { statements: number; transactions: number };
  /** Lines of the per-stage table (CPU ms and statements per message). */
  stages: string[];
  load: { before: string; after: string };
  postfix?: PostfixRun;
}

const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');

export async function benchPm1Delivery(n: number, opts: { prefill?: number; postfix?: boolean } = {}): Promise<Pm1DeliveryResult> {
  // PM_BENCH_STAGES=0: no stage profile and no statement stacks, to see what the breakdown itself costs
  countQueries({ byStage: process.env.PM_BENCH_STAGES !== '0' });
  const r = await pm1Run(n, opts);
  if (opts.postfix !== false && findBinary('postfix') && findBinary('smtp-source')) {
    try {
      r.postfix = await postfixPoint(PM1_CONCURRENCY, n);
    } catch (err) {
      console.error(`postfix relay reference failed: ${(err as Error).message}`);
    }
  }
  r.load.after = load();
  return r;
}

async function pm1Run(n: number, opts: { prefill?: number }): Promise<Pm1DeliveryResult> {
  const [a, b] = await startNodes([
    { domain: 'a.test', https: true, env: BENCH_ENV },
    { domain: 'b.test', https: true, env: BENCH_ENV },
  ]);
  try {
    const alice = await a.addUser('alice@a.test');
    const bob = await b.addUser('bob@b.test');
    await b.api('/api/v1/rules', { method: 'POST', token: bob, json: { action: 'allow', pattern: '@a.test' } });
    const prefill = opts.prefill ?? 0;
    let prefillSeconds = 0;
    if (prefill > 0) {
      if (!a.env.DATABASE_URL || !b.env.DATABASE_URL) throw new Error('prefill needs DATABASE_URL (PostgreSQL)');
      const t0 = performance.now();
      const sa = sqlClient(a.env.DATABASE_URL);
      const sb = sqlClient(b.env.DATABASE_URL);
      try {
        const ma = (await findMailbox(a.server.ctx.db, 'alice@a.test'))!;
        const mb = (await findMailbox(b.server.ctx.db, 'bob@b.test'))!;
        await Promise.all([
          prefillSent(sa, { mailboxId: ma.id, sender: 'alice@a.test', rcpt: 'bob@b.test', count: prefill }),
          prefillInbound(sb, { mailboxId: mb.id, rcpt: 'bob@b.test', sender: 'alice@a.test', iss: 'a.test', count: prefill }),
        ]);
      } finally {
        await sa.end();
        await sb.end();
      }
      prefillSeconds = (performance.now() - t0) / 1000;
    }
    const stored = async () => Number((await b.server.ctx.db.select({ n: count() }).from(inbound).where(eq(inbound.state, 'stored')))[0].n);
    const target = (await stored()) + n;
    resetCounts();
    const text = 'Lorem ipsum dolor sit amet, consectetur adipiscing elit. '.repeat(90); // ~5 KB
    const dbNames = [a.env.DATABASE_URL, b.env.DATABASE_URL].filter(Boolean).map((u) => new URL(u).pathname.slice(1));
    const pgBefore = dbNames.length ? await pgBackendCpu(dbNames) : new Map<number, number>();
    const profDir = mkdtempSync(join(tmpdir(), 'pm-stages-'));
    const loadBefore = load();
    try {
    const measured = await profilePhase(`pm1-delivery-${prefill}`, async () => {
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    let next = 0;
    const lane = async () => {
      while (next < n) {
        const i = next++;
        const res = await a.api('/api/v1/messages', { method: 'POST', token: alice, json: { to: ['bob@b.test'], subject: `bench ${i}`, text } });
        if (res.status !== 201) throw new Error(`send ${i}: ${res.status} ${await res.text()}`);
        await res.arrayBuffer();
      }
    };
    await Promise.all(Array.from({ length: PM1_CONCURRENCY }, lane));
    const sent = performance.now();
    while ((await stored()) < target) await new Promise((r) => setTimeout(r, 100));
    const done = performance.now();
    const cpu = process.cpuUsage(cpuBefore);
    const pgMs = dbNames.length ? pgCpuDelta(pgBefore, await pgBackendCpu(dbNames)) : NaN;
    const totalSeconds = (done - started) / 1000;
    const { statements, transactions } = countTotals();
    return {
      n, prefill, sendSeconds: (sent - started) / 1000, totalSeconds, perSecond: n / totalSeconds, prefillSeconds, db: process.env.DATABASE_URL ? 'postgres' : 'pglite',
      cpuMsPerMessage: { node: (cpu.user + cpu.system) / 1000 / n, postgres: pgMs / n },
      perMessage: { statements: statements / n, transactions: transactions / n },
      stages: [] as string[],
      load: { before: loadBefore, after: '' },
    };
    }, process.env.PM_BENCH_STAGES === '0' ? {} : { dir: profDir, intervalUs: 1000 });
    if (process.env.PM_BENCH_STAGES !== '0') measured.stages = stageTable(profileStages(join(profDir, `pm1-delivery-${prefill}.cpuprofile`)), stageCounts, n, (measured.perMessage.statements + 2 * measured.perMessage.transactions) * n);
    return measured;
    } finally {
      rmSync(profDir, { recursive: true, force: true });
    }
  } finally {
    await a.stop();
    await b.stop();
  }
}

export function pm1DeliveryFigures(r: Pm1DeliveryResult): Figure[] {
  const pf = r.postfix;
  const ratio = pf ? ` = ${(r.perSecond / pf.endToEndPerSecond).toFixed(2)}× Postfix relay (${pf.endToEndPerSecond.toFixed(0)} msg/s)` : ' (Postfix relay not measured)';
  return [{
    name: 'pm1 delivery node→node',
    short: `${r.perSecond.toFixed(0)} msg/s${pf ? `, ${(r.perSecond / pf.endToEndPerSecond).toFixed(2)}× Postfix relay ${pf.endToEndPerSecond.toFixed(0)}` : ''} (${r.cpuMsPerMessage.node.toFixed(1)} + ${r.cpuMsPerMessage.postgres.toFixed(1)} ms CPU/msg)`,
    value: `${r.perSecond.toFixed(0)} msg/s${ratio} (${r.n} messages in ${r.totalSeconds.toFixed(1)} s, sends accepted in ${r.sendSeconds.toFixed(1)} s); CPU per message ${r.cpuMsPerMessage.node.toFixed(2)} ms in the node process (both nodes + client) + ${r.cpuMsPerMessage.postgres.toFixed(2)} ms in PostgreSQL backends; ` +
      `${r.perMessage.statements.toFixed(1)} SQL statements + ${r.perMessage.transactions.toFixed(2)} transactions per message = ${(r.perMessage.statements + 2 * r.perMessage.transactions).toFixed(1)} round trips (statements are prepared: one each; BEGIN and COMMIT one each), load average ${r.load.before} → ${r.load.after}` +
      (pf ? `; Postfix accepted ${pf.ingestPerSecond.toFixed(0)} msg/s from smtp-source` : '') +
      `\n    per message by stage (node process CPU from a 1 ms profile; statements by the stage whose async stack issued them):\n      ${r.stages.join('\n      ')}`,
    method: `${r.n} messages of ~5 KB alice@a.test → bob@b.test (allowed) POSTed by ${PM1_CONCURRENCY} concurrent API clients; two in-process nodes (one event loop) over HTTPS on loopback, each on its own ${r.db} database; timed from first send until b has stored the last; CPU from process.cpuUsage and /proc/<backend pid>/stat. Postfix: smtp-source -s ${PM1_CONCURRENCY} -m ${r.n} -l 5000 → private Postfix on loopback → smtp-sink, until smtp-sink has them all`,
  }];
}

if (import.meta.main) {
  const n = Number(process.argv[2] ?? 1000);
  const prefill = Number(process.argv[3] ?? 0);
  const r = await benchPm1Delivery(n, { prefill, postfix: !process.argv.includes('--no-postfix') });
  const pre = r.prefill ? ` with ${r.prefill} messages already stored (prefilled in ${r.prefillSeconds.toFixed(1)} s)` : '';
  if (process.env.PM_BENCH_COUNT_QUERIES) printCounts(r.n, 'queries of both nodes per delivered message');
  console.log(`pm1 delivery (${r.db})${pre}:`);
  for (const f of pm1DeliveryFigures(r)) printFigure(f);
}
