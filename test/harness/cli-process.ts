// The pullmail-server command in child processes, as an operator runs it: `run` to completion, or a
// node started with `start` that resolves once it logs that it listens.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** What `npx pullmail-server` runs: the launcher that checks the Node version, then src/cli.ts. */
export const CLI = join(ROOT, 'packages/server/bin/pullmail-server.js');

/** The parent's environment without any pullmail setting or DATABASE_URL (PGlite tests), plus `env`. */
export function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PULLMAIL_') && k !== 'DATABASE_URL'));
  return { ...clean, ...env };
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `command args` (node + the CLI by default) to completion; `input` is written to its stdin. */
export function runProcess(command: string, args: string[], env: NodeJS.ProcessEnv, opts: { input?: string; cwd?: string } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: opts.cwd ?? ROOT, env, stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
    if (opts.input !== undefined) child.stdin!.end(opts.input);
  });
}

/** Runs `pullmail-server <args>` to completion. */
export function run(args: string[], env: Record<string, string>, opts: { input?: string } = {}): Promise<RunResult> {
  return runProcess(process.execPath, [CLI, ...args], childEnv(env), opts);
}

export interface RunningNode {
  child: ChildProcess;
  /** Resolves with the exit code once the process has ended. */
  exited: Promise<number | null>;
  stderr(): string;
}

/** Starts `pullmail-server start` (IMAP off unless `env` turns it on: tests start several nodes) and resolves once it logs that it listens. */
export function startNode(env: Record<string, string>): Promise<RunningNode> {
  const child = spawn(process.execPath, [CLI, 'start'], { cwd: ROOT, env: childEnv({ PULLMAIL_LOG_LEVEL: 'info', PULLMAIL_IMAP_PORT: '0', ...env }), stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      let entry: { msg?: string } = {};
      try {
        entry = JSON.parse(line);
      } catch {
        // not a log line
      }
      if (entry.msg === 'pullmail node started') resolve({ child, exited, stderr: () => stderr });
    });
    exited.then((code) => reject(new Error(`pullmail-server start exited with ${code} before it started:\n${stderr}`)));
  });
}

export async function stop(node: RunningNode | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!node || node.child.exitCode !== null || node.child.signalCode !== null) return;
  node.child.kill(signal);
  await node.exited;
}
