// Prints the top self-time functions of a V8 .cpuprofile (from `node --cpu-prof`), with file:line.
// Usage: node bench/lib/profile-top.ts <file.cpuprofile> [top=30]
import { readFileSync } from 'node:fs';

interface CpuNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number }; hitCount?: number; children?: number[] }
interface CpuProfile { nodes: CpuNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number }

export interface TopEntry { fn: string; where: string; selfMs: number; selfPct: number; totalMs: number }

/** Self time per function (summed over every call site), and inclusive time (counted once per sample). */
export function profileTop(path: string, top = 30): { totalMs: number; entries: TopEntry[] } {
  const p = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfUs = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) selfUs.set(p.samples[i], (selfUs.get(p.samples[i]) ?? 0) + (p.timeDeltas[i] ?? 0));
  const keyOf = (n: CpuNode) => {
    const f = n.callFrame;
    const url = f.url.replace(/^file:\/\//, '').replace(/^.*\/work\/main\//, '');
    return `${f.functionName || '(anonymous)'}\t${url ? `${url}:${f.lineNumber + 1}` : ''}`;
  };
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const n = byId.get(id)!;
    self.set(keyOf(n), (self.get(keyOf(n)) ?? 0) + us);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const k = keyOf(byId.get(cur)!);
      if (seen.has(k)) continue;
      seen.add(k);
      total.set(k, (total.get(k) ?? 0) + us);
    }
  }
  const totalUs = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const entries = [...self]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([k, us]) => {
      const [fn, where] = k.split('\t');
      return { fn, where, selfMs: us / 1000, selfPct: (100 * us) / totalUs, totalMs: (total.get(k) ?? 0) / 1000 };
    });
  return { totalMs: totalUs / 1000, entries };
}

/** Inclusive time of functions whose file matches `pattern` (e.g. our own source), top first. */
export function profileInclusive(path: string, pattern: RegExp, top = 30): TopEntry[] {
  const p = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const total = new Map<string, number>();
  let totalUs = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const us = p.timeDeltas[i] ?? 0;
    totalUs += us;
    const seen = new Set<string>();
    for (let cur: number | undefined = p.samples[i]; cur !== undefined; cur = parent.get(cur)) {
      const f = byId.get(cur)!.callFrame;
      if (!pattern.test(f.url)) continue;
      const k = `${f.functionName || '(anonymous)'}\t${f.url.replace(/^file:\/\//, '').replace(/^.*\/work\/main\//, '')}:${f.lineNumber + 1}`;
      if (seen.has(k)) continue;
      seen.add(k);
      total.set(k, (total.get(k) ?? 0) + us);
    }
  }
  return [...total].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, us]) => {
    const [fn, where] = k.split('\t');
    return { fn, where, selfMs: 0, selfPct: (100 * us) / totalUs, totalMs: us / 1000 };
  });
}

/** Self time grouped by where the code lives: a node_modules package, our packages/, node internals, native. */
export function profileByPackage(path: string): { group: string; ms: number; pct: number }[] {
  const p = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const groups = new Map<string, number>();
  let totalUs = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const us = p.timeDeltas[i] ?? 0;
    totalUs += us;
    const f = byId.get(p.samples[i])!.callFrame;
    const url = f.url;
    let g: string;
    if (!url) g = f.functionName.startsWith('(') ? f.functionName : `native ${f.functionName}`;
    else if (url.includes('/node_modules/')) g = `npm ${/\/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)![1]}`;
    else if (url.includes('/packages/')) g = `ours ${/\/packages\/([^/]+\/src\/[^/]+)/.exec(url)?.[1] ?? url}`;
    else if (url.startsWith('node:')) g = `node ${url.replace(/^node:(internal\/)?/, '').split('/')[0]}`;
    else g = url.replace(/^.*\/work\/main\//, '');
    groups.set(g, (groups.get(g) ?? 0) + us);
  }
  return [...groups].sort((a, b) => b[1] - a[1]).map(([group, us]) => ({ group, ms: us / 1000, pct: (100 * us) / totalUs }));
}

if (import.meta.main) {
  const [file, n, mode] = process.argv.slice(2);
  if (!file) {
    console.error('usage: node bench/lib/profile-top.ts <file.cpuprofile> [top] [--inclusive]');
    process.exit(64);
  }
  if (mode === '--by-package') {
    for (const g of profileByPackage(file).slice(0, Number(n ?? 30))) console.log(`${g.pct.toFixed(1).padStart(5)}%  ${g.ms.toFixed(0).padStart(7)} ms  ${g.group}`);
  } else if (mode === '--inclusive') {
    for (const e of profileInclusive(file, /\/packages\//, Number(n ?? 40))) console.log(`${e.selfPct.toFixed(1).padStart(5)}%  ${e.totalMs.toFixed(0).padStart(7)} ms  ${e.fn}  ${e.where}`);
  } else {
    const { totalMs, entries } = profileTop(file, Number(n ?? 30));
    console.log(`total sampled ${totalMs.toFixed(0)} ms; self time, top ${entries.length}:`);
    for (const e of entries) console.log(`${e.selfPct.toFixed(1).padStart(5)}%  ${e.selfMs.toFixed(0).padStart(7)} ms self  ${e.totalMs.toFixed(0).padStart(7)} ms incl  ${e.fn}  ${e.where}`);
  }
}
