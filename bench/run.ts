// `npm run bench`: every figure of issue 7, one bench module after the other, each printed with its
// method as soon as it is measured, then a summary table. Figures are printed, never asserted.
// PostgreSQL: DATABASE_URL, or postgres://postgres@127.0.0.1:5432/test when unset. Every bench
// database (pm_t_*) and node process a bench creates is removed when it ends.
// Usage: node bench/run.ts [--only name,name]   (names: pm1, verify, fetch, rss, large, scaling, smtp, imap, import, web, processes)
import { loadavg, cpus } from 'node:os';
import { ensureDatabaseUrl, printFigure, sqlClient, type Figure } from './lib/common.ts';
import { benchFetchLatency, fetchLatencyFigures } from './fetch-latency.ts';
import { benchImap, imapFigures } from './imap.ts';
import { benchImport, importFigures } from './import.ts';
import { benchLargeMessage, largeMessageFigures } from './large-message.ts';
import { benchNotifyVerify } from './notify-verify.ts';
import { benchPm1Delivery, pm1DeliveryFigures } from './pm1-delivery.ts';
import { benchProcesses, processesFigures } from './processes.ts';
import { benchRssStored, rssStoredFigures } from './rss-stored.ts';
import { benchSmtpIngest, smtpGatewayMissing, smtpIngestFigures } from './smtp-ingest.ts';
import { benchStoredScaling, storedScalingFigures } from './stored-scaling.ts';
import { benchWeb, webFigures } from './web.ts';

interface Step {
  key: string;
  title: string;
  run: () => Promise<Figure[]>;
  /** Longer than STEP_TIMEOUT_MS for a step that needs it. */
  timeoutMs?: number;
}

const STEPS: Step[] = [
  { key: 'pm1', title: '1. pm1 delivery node→node (PostgreSQL, 5 KB, N = 5,000)', run: async () => pm1DeliveryFigures(await benchPm1Delivery(5000)) },
  { key: 'verify', title: '2. notify verification rate and batch notify handling', run: () => benchNotifyVerify(5000, 2000) },
  { key: 'fetch', title: '3. fetch latency at 50 concurrent', run: async () => fetchLatencyFigures(await benchFetchLatency(4000, 50, 200)) },
  { key: 'rss', title: '4. RSS of a node holding 100k stored messages', run: async () => rssStoredFigures(await benchRssStored(100_000)) },
  { key: 'large', title: '5. peak RSS for one 25 MB message node→node (and a 100 MB one: streamed bodies do not grow with size)', run: async () => largeMessageFigures(await benchLargeMessage(25_000_000), await benchLargeMessage(100_000_000)) },
  { key: 'scaling', title: '6. delivery throughput with 1k vs 100k stored', run: async () => storedScalingFigures(await benchStoredScaling(1500, 1000, 100_000)) },
  {
    key: 'smtp',
    title: '7. SMTP MX ingest with smtp-source at concurrency 1/10/50 (and Postfix on loopback)',
    run: async () => {
      const missing = smtpGatewayMissing();
      if (missing) return [{ name: 'SMTP ingest', value: `skipped (${missing})`, method: 'needs packages/server/src/smtp/ with an MX listener wired in extensions.ts, and smtp-source', short: 'skipped' }];
      return smtpIngestFigures(await benchSmtpIngest());
    },
  },
  // 1,000 IMAP logins are 1,000 scrypt checks (before round 5 the 10k-header FETCH also read message by message):
  // 8.5 minutes on PGlite with the machine's load average at 5-8
  { key: 'imap', title: '8. IMAP: FETCH of 10k headers, full-body sync of 1k × 5 KB, IDLE store→EXISTS, RSS per idle connection', run: async () => imapFigures(await benchImap(10_000, 1000, 200, 1000)), timeoutMs: 900_000 },
  { key: 'import', title: '9. peak RSS of pullmail-server import for a 200 MB mbox (and a 20 MB one), and of the node exporting it', run: async () => importFigures(await benchImport(200_000_000, 20_000_000)), timeoutMs: 600_000 },
  { key: 'web', title: '10. web UI server time: Inbox, a deep page, searches and a message page with 10k in the inbox', run: async () => webFigures(await benchWeb(10_000, 200)) },
  { key: 'processes', title: '11. pm1 delivery with each node as one process and as two on one PostgreSQL (does it scale past one process?)', run: async () => processesFigures(await benchProcesses(2000, 2)), timeoutMs: 900_000 },
];

const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');
const STEP_TIMEOUT_MS = 240_000;

let failStep: ((err: unknown) => void) | undefined;
// a crash outside any promise chain (a library callback on a connection someone else dropped, say)
// fails the step that is running; after it, it is only reported: the run goes on either way
process.on('uncaughtException', (err) => {
  if (failStep) failStep(err);
  else console.error(`(error after its step ended, ignored: ${(err as Error).message})`);
});

/** Runs one step; a crash outside its promise chain or a step past its time limit (STEP_TIMEOUT_MS by default) fails that step only. */
function guarded<T>(run: () => Promise<T>, timeoutMs = STEP_TIMEOUT_MS): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    failStep = reject;
    const timer = setTimeout(() => reject(new Error(`step still running after ${timeoutMs / 1000} s`)), timeoutMs);
    run().then(resolve, reject).finally(() => clearTimeout(timer));
  }).finally(() => {
    failStep = undefined;
  });
}

async function main(): Promise<void> {
  const only = process.argv.includes('--only') ? new Set(process.argv[process.argv.indexOf('--only') + 1].split(',')) : undefined;
  const url = ensureDatabaseUrl();
  const admin = sqlClient(url);
  const [{ version }] = await admin<{ version: string }[]>`select current_setting('server_version') as version`;
  await admin.end();
  const started = performance.now();
  console.log(`pullmail bench — node ${process.version}, PostgreSQL ${version} at ${new URL(url).host}, ${cpus().length} CPUs (${cpus()[0]?.model.trim()}), load average ${load()}`);
  console.log('Figures are single runs on a shared machine: compare them with the load average printed per step.\n');
  const summary: { step: string; figure: Figure; seconds: number }[] = [];
  for (const step of STEPS) {
    if (only && !only.has(step.key)) continue;
    console.log(`== ${step.title}  [load ${load()}]`);
    const t = performance.now();
    let figures: Figure[];
    try {
      figures = await guarded(step.run, step.timeoutMs);
    } catch (err) {
      process.exitCode = 1;
      figures = [{ name: step.title.replace(/^\d+\. /, ''), value: `FAILED: ${(err as Error).stack ?? err}`, method: '(the bench itself failed; see the error)', short: 'FAILED' }];
    }
    const seconds = (performance.now() - t) / 1000;
    for (const f of figures) {
      printFigure(f);
      summary.push({ step: step.key, figure: f, seconds });
    }
    console.log(`   (${seconds.toFixed(0)} s)\n`);
  }
  const total = (performance.now() - started) / 1000;
  console.log(`== Summary (${total.toFixed(0)} s in all, load average now ${load()})`);
  const w = Math.max(...summary.map((s) => s.figure.name.length));
  console.log(`${'figure'.padEnd(w)} | result`);
  console.log(`${'-'.repeat(w)}-+-${'-'.repeat(60)}`);
  for (const s of summary) console.log(`${s.figure.name.padEnd(w)} | ${s.figure.short ?? s.figure.value}`);
}

await main();
// a failed step may leave sockets or timers behind: do not wait for them
process.exit(process.exitCode ?? 0);
