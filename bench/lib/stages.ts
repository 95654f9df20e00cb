// Where a delivered message's CPU goes, stage by stage (issue 15): the benches run both nodes in one
// process, so a CPU profile of the measured phase is split by the code each sample is in, and each SQL
// statement is put on the stage that issued it (its async stack trace). Stages are recognised by our
// own function and file names; library time that no stage frame is on (the database driver building
// and parsing queries in microtasks, TLS and HTTP parsing, garbage collection) is shown by itself.
import { readFileSync } from 'node:fs';

interface Frame { functionName: string; url: string }

/** In order: the first rule that any frame of a stack matches names its stage. */
const RULES: [RegExp, RegExp | undefined, string][] = [
  // [function name, file, stage]
  [/^createProof$/, undefined, 'fetch store (b)'],
  [/^(issueCapability|signNotification)$/, undefined, 'sign (a)'],
  [/^verifyNotification$/, undefined, 'verify (b)'],
  [/./, /mail\/compose\.ts/, 'compose (a)'],
  [/./, /delivery\/serve-fetch\.ts|http\/routes\/fetch\.ts|protocol\/(capability|proof)\.ts/, 'fetch serve (a)'],
  [/./, /queue\/fetch-worker\.ts|peers\/fetch-client\.ts/, 'fetch store (b)'],
  [/./, /delivery\/(receive|recipient-policy)\.ts|policy\/decide\.ts/, 'policy + persist (b)'],
  [/./, /http\/routes\/notify\.ts/, 'notify route (b)'],
  [/./, /peers\/notify-client\.ts|queue\/(notify-worker|delivery-updates)\.ts/, 'notify POST + record (a)'],
  [/./, /http\/middleware\/auth\.ts|policy\/login-throttle\.ts|accounts\//, 'API auth (a)'],
  [/./, /delivery\/send\.ts|http\/routes\/messages\.ts|mailbox\/file-sent\.ts/, 'API send (a)'],
  [/./, /\/bench\//, 'bench client'],
];

export function stageOf(frames: Frame[]): string | undefined {
  for (const [fn, file, stage] of RULES) {
    if (frames.some((f) => fn.test(f.functionName) && (!file || file.test(f.url)))) return stage;
  }
  return undefined;
}

function libraryBucket(leaf: Frame): string {
  const url = leaf.url;
  if (!url) return leaf.functionName === '(garbage collector)' ? 'GC' : leaf.functionName === '(idle)' ? 'idle' : leaf.functionName === 'writeBuffer' || leaf.functionName === 'writev' ? 'socket writes' : 'native other';
  if (/node_modules\/(drizzle-orm|postgres)\//.test(url)) return 'database driver';
  if (/node_modules\/(undici|hono|@hono)\/|node:(_http|https|http|_tls|tls|net|internal\/(http|tls|net|streams|webstreams|stream_base))/.test(url) || /undici/.test(url)) return 'HTTP/TLS';
  return 'other';
}

interface CpuNode { id: number; callFrame: Frame; children?: number[] }
interface CpuProfile { nodes: CpuNode[]; samples: number[]; timeDeltas: number[] }

/** ms of samples per stage (or library bucket when no stage frame is on the stack). */
export function profileStages(path: string): Map<string, number> {
  const p = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const cache = new Map<number, string>();
  const out = new Map<string, number>();
  for (let i = 0; i < p.samples.length; i++) {
    const id = p.samples[i];
    let stage = cache.get(id);
    if (!stage) {
      const frames: Frame[] = [];
      for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) frames.push(byId.get(cur)!.callFrame);
      stage = stageOf(frames) ?? libraryBucket(frames[0]);
      cache.set(id, stage);
    }
    out.set(stage, (out.get(stage) ?? 0) + (p.timeDeltas[i] ?? 0) / 1000);
  }
  return out;
}

/** The stage of the code running now, from its (async) stack trace; for statements. */
export function currentStage(): string {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 60;
  const stack = new Error().stack ?? '';
  Error.stackTraceLimit = limit;
  const frames: Frame[] = [];
  for (const line of stack.split('\n').slice(1)) {
    const m = /at (?:async )?(?:(\S+) \()?(.*?):\d+:\d+\)?$/.exec(line.trim());
    if (m) frames.push({ functionName: (m[1] ?? '').replace(/^.*\./, ''), url: m[2] });
  }
  return stageOf(frames.filter((f) => !/bench\/lib\//.test(f.url))) ?? 'other';
}

/** One row per stage, heaviest first: CPU ms per unit in the node process, statements per unit. */
export function stageTable(cpuMs: Map<string, number>, statements: Map<string, number>, units: number, totalStatements?: number): string[] {
  if (totalStatements !== undefined) {
    // sampled 1 in 4, and built statements that never ran: the rest is shown as the difference
    const counted = [...statements.values()].reduce((a, b) => a + b, 0);
    statements = new Map(statements);
    statements.set('(sampling difference)', totalStatements - counted);
  }
  const names = [...new Set([...cpuMs.keys(), ...statements.keys()])].filter((s) => s !== 'idle');
  names.sort((a, b) => (cpuMs.get(b) ?? 0) - (cpuMs.get(a) ?? 0));
  return names.map((s) => `${s.padEnd(26)} ${((cpuMs.get(s) ?? 0) / units).toFixed(2).padStart(6)} ms CPU ${((statements.get(s) ?? 0) / units).toFixed(1).padStart(5)} statements`);
}
