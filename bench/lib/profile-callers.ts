// Who calls a hot function: for every sample whose leaf is `name`, the stack above it (top N stacks).
// Usage: node bench/lib/profile-callers.ts <file.cpuprofile> <functionName> [depth=8] [top=10]
import { readFileSync } from 'node:fs';

const [file, name, depthArg, topArg] = process.argv.slice(2);
const depth = Number(depthArg ?? 8);
const p = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map<number, any>(p.nodes.map((n: any) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const stacks = new Map<string, number>();
let all = 0;
for (let i = 0; i < p.samples.length; i++) {
  const leaf = byId.get(p.samples[i]);
  if (leaf.callFrame.functionName !== name) continue;
  const us = p.timeDeltas[i] ?? 0;
  all += us;
  const frames: string[] = [];
  for (let cur = parent.get(leaf.id); cur !== undefined && frames.length < depth; cur = parent.get(cur)) {
    const f = byId.get(cur).callFrame;
    frames.push(`${f.functionName || '(anon)'}@${f.url.replace(/^.*\/(node_modules|packages|bench|test)\//, '$1/').replace(/^node:internal\//, '')}:${f.lineNumber + 1}`);
  }
  const k = frames.join(' < ');
  stacks.set(k, (stacks.get(k) ?? 0) + us);
}
console.log(`${name}: ${(all / 1000).toFixed(0)} ms`);
for (const [k, us] of [...stacks].sort((a, b) => b[1] - a[1]).slice(0, Number(topArg ?? 10))) console.log(`${(us / 1000).toFixed(0).padStart(6)} ms  ${k}`);
