// Shared bench helpers: the PostgreSQL default, figures and their printing, percentiles, /proc memory
// readings, throw-away databases and node processes started through the real CLI.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { postgresClient } from '../../packages/server/src/store/db.ts';
import { Agent, fetch } from 'undici';
import { ADMIN_TOKEN, freePort } from '../../test/harness/node.ts';
import { testDatabase, type TestDatabase } from '../../test/harness/database.ts';
import { testPki } from '../../test/harness/tls.ts';

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test';

/** Benches measure PostgreSQL: without DATABASE_URL the harness would fall back to in-memory PGlite. */
export function ensureDatabaseUrl(): string {
  process.env.DATABASE_URL ||= DEFAULT_DATABASE_URL;
  return process.env.DATABASE_URL;
}

/** One printed figure: what, how much, and how it was measured (one line). */
export interface Figure {
  name: string;
  value: string;
  method: string;
  /** The headline number for the summary table (defaults to `value`). */
  short?: string;
}

export function printFigure(f: Figure): void {
  console.log(`${f.name}: ${f.value}\n    method: ${f.method}`);
}

export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

export const mb = (kb: number) => `${(kb / 1024).toFixed(1)} MB`;

/** VmRSS and VmHWM (peak RSS) of a process, in kB, from /proc/<pid>/status. */
export function memoryOf(pid: number): { rssKb: number; hwmKb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssKb: kb('VmRSS'), hwmKb: kb('VmHWM') };
}

export async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

/** A fresh PostgreSQL database (pm_t_*) that `drop()` removes; an admin connection to it for bulk SQL. */
export async function benchDatabase(): Promise<TestDatabase & { url: string }> {
  ensureDatabaseUrl();
  const db = await testDatabase();
  return { ...db, url: db.env.DATABASE_URL };
}

export function sqlClient(url: string) {
  return postgresClient(url, { max: 1, onnotice: () => {} });
}

const CLI = fileURLToPath(new URL('../../packages/server/src/cli.ts', import.meta.url));

export interface NodeProcess {
  child: ChildProcess;
  pid: number;
  url: string;
  port: number;
  domain: string;
  env: Record<string, string>;
  dispatcher: Agent;
  api(path: string, init?: { method?: string; token?: string; json?: unknown; body?: Buffer | string; headers?: Record<string, string> }): Promise<{ status: number; text(): Promise<string>; json(): Promise<any>; arrayBuffer(): Promise<ArrayBuffer> }>;
  addUser(address: string): Promise<string>;
  stop(): Promise<void>;
}

/**
 * Starts `pullmail-server start` as its own process (so its memory can be read alone) on HTTPS with
 * the test CA, against `databaseUrl`. `peers` is a PULLMAIL_PEERS value.
 */
export async function startNodeProcess(opts: { domain: string; databaseUrl: string; port?: number; peers?: string; env?: Record<string, string>; nodeArgs?: string[] }): Promise<NodeProcess> {
  const pki = testPki();
  const port = opts.port ?? (await freePort());
  const url = `https://127.0.0.1:${port}`;
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/root',
    DATABASE_URL: opts.databaseUrl,
    PULLMAIL_DOMAINS: opts.domain,
    PULLMAIL_HTTP_PORT: String(port),
    PULLMAIL_PUBLIC_URL: url,
    PULLMAIL_ADMIN_TOKEN: ADMIN_TOKEN,
    PULLMAIL_ALLOW_PRIVATE_PEERS: '1',
    PULLMAIL_LOG_LEVEL: 'warn',
    PULLMAIL_SMTP_PORT: '0',
    PULLMAIL_SUBMISSION_PORT: '0',
    PULLMAIL_IMAP_PORT: '0',
    PULLMAIL_TLS_CERT: pki.certPath,
    PULLMAIL_TLS_KEY: pki.keyPath,
    PULLMAIL_TRUST_CA: pki.caPath,
    ...(opts.peers ? { PULLMAIL_PEERS: opts.peers } : {}),
    ...opts.env,
  };
  // what-if experiments (bench/lib/experiments.ts) apply to node processes too
  const experiments = process.env.PM_BENCH_EXPERIMENT ? ['--import', fileURLToPath(new URL('./experiments.ts', import.meta.url))] : [];
  if (process.env.PM_BENCH_EXPERIMENT) env.PM_BENCH_EXPERIMENT = process.env.PM_BENCH_EXPERIMENT;
  const child = spawn(process.execPath, [...experiments, ...(opts.nodeArgs ?? []), CLI, 'start'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    if (stderr.length > 100_000) stderr = stderr.slice(-50_000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const dispatcher = new Agent({ connect: { ca: pki.ca }, connections: 64 });
  const api: NodeProcess['api'] = async (path, init = {}) => {
    const headers: Record<string, string> = { ...init.headers };
    if (init.token) headers.authorization = `Bearer ${init.token}`;
    let body = init.body;
    if (init.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(init.json);
    }
    return fetch(`${url}${path}`, { method: init.method ?? 'GET', headers, body, dispatcher }) as never;
  };
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`node ${opts.domain} exited (${child.exitCode}): ${stderr.slice(-2000)}`);
    try {
      const res = await api('/healthz');
      await res.text();
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (i > 600) throw new Error(`node ${opts.domain} did not start: ${stderr.slice(-2000)}`);
    await sleep(100);
  }
  let stopped = false;
  return {
    child,
    pid: child.pid!,
    url,
    port,
    domain: opts.domain,
    env,
    dispatcher,
    api,
    async addUser(address) {
      const res = await api('/api/v1/admin/users', { method: 'POST', token: ADMIN_TOKEN, json: { address } });
      if (res.status !== 201) throw new Error(`addUser ${address}: ${res.status} ${await res.text()}`);
      return ((await res.json()) as { token: string }).token;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      if (child.exitCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
      await dispatcher.close();
    },
  };
}

/** Runs `fn`, always dropping the databases and stopping the processes registered with `cleanup`. */
export async function withCleanup<T>(fn: (cleanup: (f: () => Promise<unknown>) => void) => Promise<T>): Promise<T> {
  const tasks: (() => Promise<unknown>)[] = [];
  try {
    return await fn((f) => tasks.push(f));
  } finally {
    for (const t of tasks.reverse()) {
      try {
        await t();
      } catch (err) {
        console.error(`cleanup failed: ${(err as Error).message}`);
      }
    }
  }
}

/** CPU time (ms) used so far by each PostgreSQL backend serving `databases`, from /proc/<pid>/stat. */
export async function pgBackendCpu(databases: string[]): Promise<Map<number, number>> {
  const admin = sqlClient(ensureDatabaseUrl());
  try {
    const rows = await admin<{ pid: number }[]>`select pid from pg_stat_activity where datname = any(${databases})`;
    const out = new Map<number, number>();
    for (const { pid } of rows) {
      try {
        const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
        out.set(pid, ((Number(f[11]) + Number(f[12])) * 1000) / 100); // utime + stime, USER_HZ = 100
      } catch {
        // gone meanwhile
      }
    }
    return out;
  } finally {
    await admin.end();
  }
}

/** CPU ms the backends used between two pgBackendCpu snapshots (new backends count in full). */
export function pgCpuDelta(before: Map<number, number>, after: Map<number, number>): number {
  let ms = 0;
  for (const [pid, v] of after) ms += v - (before.get(pid) ?? 0);
  return ms;
}

/** CPU ms used so far by this process's main thread (not worker threads), from /proc/self/task. */
export function mainThreadCpuMs(): number {
  const f = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
}
