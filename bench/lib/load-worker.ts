// A load generator on its own thread (own event loop, so it does not share the server's): runs the
// given GET requests with `concurrency` in flight over HTTPS and returns each request's latency.
import { parentPort, workerData } from 'node:worker_threads';
import { Agent, request } from 'undici';

export interface LoadJob {
  base: string;
  ca: string;
  concurrency: number;
  requests: { path: string; headers: Record<string, string> }[];
  /** Requests before timing starts (connections, JIT); taken from the front of `requests`. */
  warmup: number;
}

export interface LoadResult {
  latenciesMs: number[];
  statuses: Record<string, number>;
  seconds: number;
  bytes: number;
}

async function run(job: LoadJob): Promise<LoadResult> {
  const agent = new Agent({ connect: { ca: job.ca }, connections: job.concurrency, keepAliveTimeout: 30_000 });
  const statuses: Record<string, number> = {};
  let bytes = 0;
  const one = async (r: LoadJob['requests'][number]) => {
    const t = performance.now();
    const res = await request(`${job.base}${r.path}`, { headers: r.headers, dispatcher: agent });
    const body = Buffer.from(await res.body.arrayBuffer());
    const ms = performance.now() - t;
    bytes += body.length;
    statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
    return ms;
  };
  const lanes = async (list: LoadJob['requests'], sink?: number[]) => {
    let next = 0;
    await Promise.all(Array.from({ length: job.concurrency }, async () => {
      while (next < list.length) {
        const ms = await one(list[next++]);
        sink?.push(ms);
      }
    }));
  };
  await lanes(job.requests.slice(0, job.warmup));
  for (const k of Object.keys(statuses)) delete statuses[k];
  bytes = 0;
  const latenciesMs: number[] = [];
  const t = performance.now();
  await lanes(job.requests.slice(job.warmup), latenciesMs);
  const seconds = (performance.now() - t) / 1000;
  await agent.close();
  return { latenciesMs, statuses, seconds, bytes };
}

if (parentPort && workerData) parentPort.postMessage(await run(workerData as LoadJob));
