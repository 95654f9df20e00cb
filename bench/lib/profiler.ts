// CPU profile of one phase of a bench (node:inspector, main thread only), written as a .cpuprofile
// when PM_BENCH_PROFILE=<dir> is set; a no-op otherwise. Read it with bench/lib/profile-top.ts.
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';

/** `opts.dir` profiles even without PM_BENCH_PROFILE (the per-stage breakdown of pm1-delivery). */
export async function profilePhase<T>(name: string, fn: () => Promise<T>, opts: { dir?: string; intervalUs?: number } = {}): Promise<T> {
  const dir = process.env.PM_BENCH_PROFILE || opts.dir;
  if (!dir) return fn();
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: opts.intervalUs ?? 500 });
  await session.post('Profiler.start');
  try {
    return await fn();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `${name}.cpuprofile`);
    writeFileSync(file, JSON.stringify(profile));
    session.disconnect();
    if (process.env.PM_BENCH_PROFILE) console.error(`profile of ${name}: ${file}`);
  }
}
