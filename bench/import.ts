// Memory of `pullmail-server import` and of GET /api/v1/export for large mailboxes (issue 16: "a 1 GB
// mbox in flat memory"). An mbox of the given size is written to a temporary file (messages of
// ~100 KB, every 20th ~1 MB so blobs are read and written too, body lines starting with "From " so
// unquoting is exercised), then imported with the CLI as its own process straight into a fresh
// PostgreSQL database; its peak RSS (VmHWM, polled from /proc every 50 ms) is the figure, next to that
// of a file a tenth the size: streamed reading must not grow with the file. Then a node is started on
// the database and the mailbox is exported over HTTPS to nowhere; the node's peak RSS before and after.
// Usage: node bench/import.ts [bytes=200000000] [small=20000000]
import { once } from 'node:events';
import { spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { loadConfig } from '../packages/server/src/config/config.ts';
import { createAccounts } from '../packages/server/src/accounts/accounts.ts';
import { openMigrated } from '../packages/server/src/server.ts';
import { CLI, childEnv } from '../test/harness/cli-process.ts';
import { benchDatabase, mb, memoryOf, printFigure, startNodeProcess, withCleanup, type Figure } from './lib/common.ts';

export interface ImportResult {
  bytes: number;
  messages: number;
  importSeconds: number;
  importPeakKb: number;
  exportSeconds?: number;
  exportBytes?: number;
  node?: { beforeKb: number; peakKb: number };
}

/** Writes an mbox of about `bytes` bytes; returns how many messages it holds. */
async function writeMbox(path: string, bytes: number): Promise<number> {
  const out = createWriteStream(path);
  const line = `${'lorem ipsum dolor sit amet '.repeat(2)}consectetur adipiscing elit sed do\n`;
  let written = 0;
  let n = 0;
  while (written < bytes) {
    const lines = n % 20 === 19 ? 13_000 : 1300;
    const head = `From bench@a.test Mon Jan  1 00:00:00 2024\nFrom: Bench <bench@a.test>\nTo: bob@b.test\nSubject: bench ${n}\nMessage-ID: <bench-${n}@a.test>\n\n`;
    // quoted as mboxrd writes them: the import takes one '>' off each
    const body = `>From the bench, message ${n}\n>>From quoted\n${line.repeat(lines)}\n`;
    const chunk = head + body;
    written += Buffer.byteLength(chunk);
    n++;
    if (!out.write(chunk)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return n;
}

async function importOnce(bytes: number, withExport: boolean): Promise<ImportResult> {
  return withCleanup(async (cleanup) => {
    const dir = mkdtempSync(join(tmpdir(), 'pm-bench-import-'));
    cleanup(async () => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'big.mbox');
    const messages = await writeMbox(file, bytes);
    const db = await benchDatabase();
    cleanup(() => db.drop());
    const { config } = loadConfig({ DATABASE_URL: db.url, PULLMAIL_DOMAINS: 'b.test', PULLMAIL_LOG_LEVEL: 'silent' });
    const database = await openMigrated(config);
    let token: string;
    try {
      token = (await createAccounts(database.db, config.domains).create('bob@b.test')).token;
    } finally {
      await database.close();
    }
    const t0 = performance.now();
    const child = spawn(process.execPath, [CLI, 'import', 'bob@b.test', file], { env: childEnv({ DATABASE_URL: db.url, PULLMAIL_DOMAINS: 'b.test', PULLMAIL_DATA_DIR: dir }), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    let peakKb = 0;
    const poll = setInterval(() => {
      try {
        peakKb = Math.max(peakKb, memoryOf(child.pid!).hwmKb);
      } catch {
        // exited between two polls
      }
    }, 50);
    const [code] = (await once(child, 'exit')) as [number | null];
    clearInterval(poll);
    const importSeconds = (performance.now() - t0) / 1000;
    if (code !== 0) throw new Error(`import exited with ${code}: ${stderr}`);
    const counts = JSON.parse(stdout.trim().split('\n').at(-1)!) as { added: number; failed: number };
    if (counts.added !== messages) throw new Error(`import added ${counts.added} of ${messages}: ${stderr}`);
    const result: ImportResult = { bytes: statSync(file).size, messages, importSeconds, importPeakKb: peakKb };
    if (!withExport) return result;

    const node = await startNodeProcess({ domain: 'b.test', databaseUrl: db.url });
    cleanup(() => node.stop());
    const before = memoryOf(node.pid);
    const t1 = performance.now();
    const res = await request(`${node.url}/api/v1/export`, { dispatcher: node.dispatcher, headers: { authorization: `Bearer ${token}` } });
    let exportBytes = 0;
    for await (const chunk of res.body) exportBytes += (chunk as Buffer).length;
    result.exportSeconds = (performance.now() - t1) / 1000;
    result.exportBytes = exportBytes;
    result.node = { beforeKb: before.hwmKb, peakKb: memoryOf(node.pid).hwmKb };
    return result;
  });
}

export async function benchImport(bytes = 200_000_000, small = 20_000_000): Promise<{ large: ImportResult; small: ImportResult }> {
  const smallRun = await importOnce(small, false);
  const large = await importOnce(bytes, true);
  return { large, small: smallRun };
}

export function importFigures(r: { large: ImportResult; small: ImportResult }): Figure[] {
  const rate = (x: ImportResult) => `${(x.messages / x.importSeconds).toFixed(0)} msgs/s, ${(x.bytes / 1e6 / x.importSeconds).toFixed(1)} MB/s`;
  const figures: Figure[] = [{
    name: `import peak RSS, ${(r.large.bytes / 1e6).toFixed(0)} MB mbox`,
    value: `${mb(r.large.importPeakKb)} (${(r.small.bytes / 1e6).toFixed(0)} MB mbox: ${mb(r.small.importPeakKb)}); ${r.large.messages} messages in ${r.large.importSeconds.toFixed(1)} s, ${rate(r.large)}`,
    method: 'pullmail-server import <address> <file> as its own process into a fresh PostgreSQL database (no node running); VmHWM polled from /proc every 50 ms; ~100 KB messages, every 20th ~1 MB',
    short: `${mb(r.large.importPeakKb)} for ${(r.large.bytes / 1e6).toFixed(0)} MB (${mb(r.small.importPeakKb)} for ${(r.small.bytes / 1e6).toFixed(0)} MB)`,
  }];
  if (r.large.node && r.large.exportSeconds) {
    figures.push({
      name: 'export: node peak RSS',
      value: `${mb(r.large.node.beforeKb)} before, ${mb(r.large.node.peakKb)} after streaming ${(r.large.exportBytes! / 1e6).toFixed(0)} MB in ${r.large.exportSeconds.toFixed(1)} s (${(r.large.exportBytes! / 1e6 / r.large.exportSeconds).toFixed(1)} MB/s)`,
      method: 'GET /api/v1/export over HTTPS on loopback from a pullmail-server start process on the imported database, the body read and dropped as it arrives; VmHWM of the node before and after',
      short: `${mb(r.large.node.beforeKb)} → ${mb(r.large.node.peakKb)}`,
    });
  }
  return figures;
}

if (import.meta.main) {
  const bytes = Number(process.argv[2] ?? 200_000_000);
  const small = Number(process.argv[3] ?? Math.round(bytes / 10));
  for (const f of importFigures(await benchImport(bytes, small))) printFigure(f);
  process.exit(0);
}
