// The real process as the CLI's I/O: stdout/stderr, stdin, environment, home directory.
import { homedir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CliIo } from './command.ts';

async function readAll(stream: NodeJS.ReadableStream): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks);
}

export function processIo(): CliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdinIsTTY: !!process.stdin.isTTY,
    readStdin: () => readAll(process.stdin),
    env: process.env,
    cwd: process.cwd(),
    homedir: homedir(),
    platform: process.platform,
    sleep: (ms) => sleep(ms),
  };
}
