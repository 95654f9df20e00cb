// Fetch latency (protocol §4): GET /pm/v1/messages/:id with a capability and a fresh PM-Proof each,
// 50 in flight, against a node holding messages. Node a.test (sender, on PostgreSQL) holds M sent
// messages of ~5 KB for bob@b.test; b.test exists so that a can resolve b's proof keys (cached after
// the warm-up). Capabilities (a's key) and proofs (b's key) are signed beforehand; the load runs on a
// worker thread with its own event loop and HTTPS connection pool, the node on the main thread.
// Usage: node bench/fetch-latency.ts [requests=4000] [concurrency=50] [messages=200]
import { Worker } from 'node:worker_threads';
import { AUTH_SCHEME_CAP, HEADER_PROOF } from '@pullmail/client/wire';
import { issueCapability } from '../packages/server/src/protocol/capability.ts';
import { createProof } from '../packages/server/src/protocol/proof.ts';
import { startNodes } from '../test/harness/node.ts';
import { testPki } from '../test/harness/tls.ts';
import { ensureDatabaseUrl, mainThreadCpuMs, percentile, pgBackendCpu, pgCpuDelta, printFigure, type Figure } from './lib/common.ts';
import './lib/db-instrument.ts';
import { profilePhase } from './lib/profiler.ts';
import type { LoadJob, LoadResult } from './lib/load-worker.ts';

const nowS = () => Math.floor(Date.now() / 1000);

function runLoad(job: LoadJob): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL('./lib/load-worker.ts', import.meta.url), { workerData: job });
    w.once('message', resolve);
    w.once('error', reject);
  });
}

export interface FetchLatencyResult {
  requests: number;
  concurrency: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  perSecond: number;
  statuses: Record<string, number>;
  single: { p50: number; p99: number };
  /** CPU per fetch: the node's event loop (main thread; the client runs on a worker) and PostgreSQL. */
  cpuMsPerFetch: { node: number; postgres: number };
}

export async function benchFetchLatency(total = 4000, concurrency = 50, messages = 200): Promise<FetchLatencyResult> {
  ensureDatabaseUrl();
  const env = { PULLMAIL_RATE_DOMAIN: '1000000/60', PULLMAIL_RATE_SENDER: '1000000/60', PULLMAIL_SEND_LIMIT: '1000000/60' };
  const [a, b] = await startNodes([{ domain: 'a.test', https: true, env }, { domain: 'b.test', https: true, env }]);
  try {
    const alice = await a.addUser('alice@a.test');
    await b.addUser('bob@b.test'); // no rule: b holds alice's mail, so b itself never fetches during the run
    const text = 'Lorem ipsum dolor sit amet, consectetur adipiscing elit. '.repeat(90);
    const ids: string[] = [];
    for (let i = 0; i < messages; i++) {
      const res = await a.api('/api/v1/messages', { method: 'POST', token: alice, json: { to: ['bob@b.test'], subject: `fetch bench ${i}`, text } });
      if (res.status !== 201) throw new Error(`send: ${res.status} ${await res.text()}`);
      ids.push(((await res.json()) as { id: string }).id);
    }
    const caps = await Promise.all(ids.map((id) => issueCapability(a.server.ctx.keys, { iss: 'a.test', aud: 'b.test', sub: id, rcpt: 'bob@b.test', exp: nowS() + 86_400 }, nowS())));
    // a fresh proof per request (proof jti is single-use), signed now: valid for ±120 s
    const build = async (count: number, offset: number) => Promise.all(Array.from({ length: count }, async (_, i) => {
      const k = (i + offset) % ids.length;
      const path = `/pm/v1/messages/${ids[k]}`;
      const proof = await createProof(b.server.ctx.keys, { iss: 'b.test', url: `${a.url}${path}`, cap: caps[k] }, nowS());
      return { path, headers: { authorization: `${AUTH_SCHEME_CAP} ${caps[k]}`, [HEADER_PROOF.toLowerCase()]: proof, accept: 'message/rfc822' } };
    }));
    const ca = testPki().ca;
    // one request at a time first: the latency without queueing
    const single = await runLoad({ base: a.url, ca, concurrency: 1, requests: await build(300, 0), warmup: 100 });
    const warmup = 500;
    const requests = await build(total + warmup, 7);
    const dbNames = [a.env.DATABASE_URL, b.env.DATABASE_URL].map((u) => new URL(u).pathname.slice(1));
    const pg0 = await pgBackendCpu(dbNames);
    const cpu0 = mainThreadCpuMs();
    const loaded = await profilePhase('fetch-load', () => runLoad({ base: a.url, ca, concurrency, requests, warmup }));
    const nodeMs = mainThreadCpuMs() - cpu0;
    const pgMs = pgCpuDelta(pg0, await pgBackendCpu(dbNames));
    const s = [...loaded.latenciesMs].sort((x, y) => x - y);
    const s1 = [...single.latenciesMs].sort((x, y) => x - y);
    return {
      requests: total,
      concurrency,
      p50: percentile(s, 50),
      p90: percentile(s, 90),
      p99: percentile(s, 99),
      max: s[s.length - 1],
      perSecond: total / loaded.seconds,
      statuses: loaded.statuses,
      single: { p50: percentile(s1, 50), p99: percentile(s1, 99) },
      // warm-up requests ran inside the measured window too
      cpuMsPerFetch: { node: nodeMs / (total + warmup), postgres: pgMs / (total + warmup) },
    };
  } finally {
    await a.stop();
    await b.stop();
  }
}

export function fetchLatencyFigures(r: FetchLatencyResult): Figure[] {
  return [{
    name: `fetch latency at ${r.concurrency} concurrent`,
    short: `p50 ${r.p50.toFixed(0)} ms / p99 ${r.p99.toFixed(0)} ms (${r.perSecond.toFixed(0)} fetches/s)`,
    value: `p50 ${r.p50.toFixed(1)} ms, p90 ${r.p90.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, max ${r.max.toFixed(0)} ms; ${r.perSecond.toFixed(0)} fetches/s (statuses ${JSON.stringify(r.statuses)}); one at a time: p50 ${r.single.p50.toFixed(1)} ms, p99 ${r.single.p99.toFixed(1)} ms; CPU per fetch ${r.cpuMsPerFetch.node.toFixed(2)} ms node event loop + ${r.cpuMsPerFetch.postgres.toFixed(2)} ms PostgreSQL`,
    method: `${r.requests} GET /pm/v1/messages/:id (~5 KB, capability + fresh PM-Proof each, pre-signed) from a worker-thread client with ${r.concurrency} keep-alive HTTPS connections against an in-process node on PostgreSQL, after 500 warm-up requests; latency = request start to last body byte`,
  }];
}

if (import.meta.main) {
  const r = await benchFetchLatency(Number(process.argv[2] ?? 4000), Number(process.argv[3] ?? 50), Number(process.argv[4] ?? 200));
  for (const f of fetchLatencyFigures(r)) printFigure(f);
}
