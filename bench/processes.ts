// Does pullmail scale past one process? pm1 delivery a.test → b.test with each node run as 1 and then
// as P processes (`pullmail-server start`) sharing that node's one PostgreSQL database, as behind a
// balancer (issue 15). The API clients spread their sends over a's processes; every process drains the
// shared queues (notify on a, fetch on b). Peers reach a node at its first process's URL, so fetch
// serving on a and notification handling on b stay on one process each: that is the part that does not
// spread without a real balancer, and the figure says so.
// Usage: node bench/processes.ts [N] [P]
import { loadavg } from 'node:os';
import { benchDatabase, printFigure, startNodeProcess, withCleanup, type Figure, type NodeProcess } from './lib/common.ts';
import { freePort } from '../test/harness/node.ts';
import { PM1_CONCURRENCY } from './pm1-delivery.ts';

const BENCH_ENV = { PULLMAIL_QUEUE_POLL_MS: '100', PULLMAIL_RATE_DOMAIN: '1000000/60', PULLMAIL_RATE_SENDER: '1000000/60', PULLMAIL_SEND_LIMIT: '1000000/60' };

export interface ProcessesRun {
  processes: number;
  n: number;
  perSecond: number;
  sendSeconds: number;
  totalSeconds: number;
  load: string;
}

const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');

/** One node (`domain`) as `count` processes on one database; the first one's URL is the node's public URL. */
async function startNode(domain: string, count: number, peers: string, ports: number[], cleanup: (f: () => Promise<unknown>) => void): Promise<NodeProcess[]> {
  const db = await benchDatabase();
  cleanup(() => db.drop());
  const publicUrl = `https://127.0.0.1:${ports[0]}`;
  // one process migrates first; the others start on a migrated database
  const out: NodeProcess[] = [];
  for (let i = 0; i < count; i++) {
    const p = await startNodeProcess({ domain, databaseUrl: db.url, port: ports[i], peers, env: { ...BENCH_ENV, PULLMAIL_PUBLIC_URL: publicUrl } });
    cleanup(() => p.stop());
    out.push(p);
  }
  return out;
}

async function run(n: number, processes: number): Promise<ProcessesRun> {
  return withCleanup(async (cleanup) => {
    const aPorts = await Promise.all(Array.from({ length: processes }, () => freePort()));
    const bPorts = await Promise.all(Array.from({ length: processes }, () => freePort()));
    const peers = `a.test=https://127.0.0.1:${aPorts[0]},b.test=https://127.0.0.1:${bPorts[0]}`;
    const b = await startNode('b.test', processes, peers, bPorts, cleanup);
    const a = await startNode('a.test', processes, peers, aPorts, cleanup);
    const alice = await a[0].addUser('alice@a.test');
    const bob = await b[0].addUser('bob@b.test');
    const rule = await b[0].api('/api/v1/rules', { method: 'POST', token: bob, json: { action: 'allow', pattern: '@a.test' } });
    if (rule.status !== 201) throw new Error(`allow rule: ${rule.status} ${await rule.text()}`);
    const stored = async () => ((await (await b[0].api('/api/v1/inbox?limit=1', { token: bob })).json()) as { total: number }).total;
    const text = 'Lorem ipsum dolor sit amet, consectetur adipiscing elit. '.repeat(90); // ~5 KB
    const loadBefore = load();
    const started = performance.now();
    let next = 0;
    const lane = async (lane: number) => {
      while (next < n) {
        const i = next++;
        const res = await a[lane % processes].api('/api/v1/messages', { method: 'POST', token: alice, json: { to: ['bob@b.test'], subject: `bench ${i}`, text } });
        if (res.status !== 201) throw new Error(`send ${i}: ${res.status} ${await res.text()}`);
        await res.arrayBuffer();
      }
    };
    await Promise.all(Array.from({ length: PM1_CONCURRENCY }, (_, i) => lane(i)));
    const sent = performance.now();
    const deadline = sent + 600_000;
    while ((await stored()) < n) {
      if (performance.now() > deadline) throw new Error(`only ${await stored()} of ${n} stored after 10 minutes`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const totalSeconds = (performance.now() - started) / 1000;
    return { processes, n, perSecond: n / totalSeconds, sendSeconds: (sent - started) / 1000, totalSeconds, load: `${loadBefore} → ${load()}` };
  });
}

/** The same delivery with each node as one process, then as `processes`. */
export async function benchProcesses(n: number, processes = 2): Promise<ProcessesRun[]> {
  return [await run(n, 1), await run(n, processes)];
}

export function processesFigures(runs: ProcessesRun[]): Figure[] {
  const [one, many] = runs;
  const gain = many.perSecond / one.perSecond;
  return [{
    name: `pm1 delivery, ${many.processes} processes per node`,
    short: `${one.perSecond.toFixed(0)} → ${many.perSecond.toFixed(0)} msg/s (${gain.toFixed(2)}×)`,
    value: runs.map((r) => `${r.processes} process${r.processes > 1 ? 'es' : ''} per node: ${r.perSecond.toFixed(0)} msg/s (${r.n} in ${r.totalSeconds.toFixed(1)} s, sends accepted in ${r.sendSeconds.toFixed(1)} s, load ${r.load})`).join('; ') +
      `; ${many.processes} processes give ${gain.toFixed(2)}× one`,
    method: `${one.n} messages of ~5 KB alice@a.test → bob@b.test (allowed) POSTed by ${PM1_CONCURRENCY} API clients spread over a's processes; each node's processes share one PostgreSQL database (pm_t_*); peers reach each node at its first process (no balancer), so fetch serving on a and notification handling on b run there; timed from the first send until b's inbox holds all`,
  }];
}

if (import.meta.main) {
  const n = Number(process.argv[2] ?? 1000);
  const p = Number(process.argv[3] ?? 2);
  for (const f of processesFigures(await benchProcesses(n, p))) printFigure(f);
}
