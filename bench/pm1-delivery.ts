// pm1 node→node delivery throughput: N messages of ~5 KB from alice@a.test to bob@b.test (allowed),
// timed from the first send until bob's node has stored the last one. Two in-process nodes over
// HTTPS on loopback; PostgreSQL when DATABASE_URL is set (one database per node), else in-memory PGlite.
// `prefill` first stores that many already-delivered messages on both sides (bulk SQL), to see how
// throughput holds up with a full database.
// Usage: node bench/pm1-delivery.ts [N] [prefill]
import { count, eq } from 'drizzle-orm';
import { findMailbox } from '../packages/server/src/store/mailboxes.ts';
import { inbound } from '../packages/server/src/store/schema.ts';
import { startNodes } from '../test/harness/node.ts';
import { prefillInbound, prefillSent } from './lib/bulk-store.ts';
import { pgBackendCpu, pgCpuDelta, sqlClient, type Figure } from './lib/common.ts';
import { printCounts, resetCounts } from './lib/db-instrument.ts';
import { profilePhase } from './lib/profiler.ts';

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
}

export async function benchPm1Delivery(n: number, opts: { prefill?: number } = {}): Promise<Pm1DeliveryResult> {
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
    return await profilePhase(`pm1-delivery-${prefill}`, async () => {
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
    await Promise.all(Array.from({ length: 16 }, lane));
    const sent = performance.now();
    while ((await stored()) < target) await new Promise((r) => setTimeout(r, 100));
    const done = performance.now();
    const cpu = process.cpuUsage(cpuBefore);
    const pgMs = dbNames.length ? pgCpuDelta(pgBefore, await pgBackendCpu(dbNames)) : NaN;
    const totalSeconds = (done - started) / 1000;
    return {
      n, prefill, sendSeconds: (sent - started) / 1000, totalSeconds, perSecond: n / totalSeconds, prefillSeconds, db: process.env.DATABASE_URL ? 'postgres' : 'pglite',
      cpuMsPerMessage: { node: (cpu.user + cpu.system) / 1000 / n, postgres: pgMs / n },
    };
    });
  } finally {
    await a.stop();
    await b.stop();
  }
}

export function pm1DeliveryFigures(r: Pm1DeliveryResult): Figure[] {
  return [{
    name: 'pm1 delivery node→node',
    short: `${r.perSecond.toFixed(0)} msg/s (${r.cpuMsPerMessage.node.toFixed(1)} + ${r.cpuMsPerMessage.postgres.toFixed(1)} ms CPU/msg)`,
    value: `${r.perSecond.toFixed(0)} msg/s (${r.n} messages in ${r.totalSeconds.toFixed(1)} s, sends accepted in ${r.sendSeconds.toFixed(1)} s); CPU per message ${r.cpuMsPerMessage.node.toFixed(2)} ms in the node process (both nodes + client) + ${r.cpuMsPerMessage.postgres.toFixed(2)} ms in PostgreSQL backends`,
    method: `${r.n} messages of ~5 KB alice@a.test → bob@b.test (allowed) POSTed by 16 concurrent API clients; two in-process nodes (one event loop) over HTTPS on loopback, each on its own ${r.db} database; timed from first send until b has stored the last; CPU from process.cpuUsage and /proc/<backend pid>/stat`,
  }];
}

if (import.meta.main) {
  const n = Number(process.argv[2] ?? 1000);
  const prefill = Number(process.argv[3] ?? 0);
  const r = await benchPm1Delivery(n, { prefill });
  const pre = r.prefill ? ` with ${r.prefill} messages already stored (prefilled in ${r.prefillSeconds.toFixed(1)} s)` : '';
  if (process.env.PM_BENCH_COUNT_QUERIES) printCounts(r.n, 'queries of both nodes per delivered message');
  console.log(`pm1 delivery (${r.db})${pre}: ${r.n} messages of ~5 KB in ${r.totalSeconds.toFixed(1)} s = ${r.perSecond.toFixed(0)} msg/s (sends accepted in ${r.sendSeconds.toFixed(1)} s); CPU per message: ${r.cpuMsPerMessage.node.toFixed(2)} ms node process + ${r.cpuMsPerMessage.postgres.toFixed(2)} ms PostgreSQL`);
}
