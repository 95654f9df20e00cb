// A private Postfix on loopback for reference figures (its own config, queue and data directories under
// /tmp, listening on a free port, never 25), Postfix's smtp-source to load it and smtp-sink to count
// what it relays. Used by smtp-ingest.ts (MX ingest) and pm1-delivery.ts (relay end to end).
import { spawn, execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../test/harness/node.ts';
import { findBinary } from '../../test/harness/smtp-tools.ts';
import { sleep } from './common.ts';

export interface SourceRun {
  seconds: number;
  code: number | null;
  out: string;
}

export function smtpSource(port: number, sessions: number, messages: number, extra: string[] = []): Promise<SourceRun> {
  return new Promise((resolve, reject) => {
    const args = ['-s', String(sessions), '-m', String(messages), '-l', '5000', '-f', 'alice@legacy.test', '-t', 'bob@b.test', '-S', 'smtp-source bench', '-M', 'legacy.test', ...extra, `127.0.0.1:${port}`];
    const t = performance.now();
    const child = spawn(findBinary('smtp-source')!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.once('error', reject);
    child.once('close', (code) => resolve({ seconds: (performance.now() - t) / 1000, code, out }));
  });
}

/** smtp-sink counting what it receives (-c prints counters on stdout). */
export async function startCountingSink(): Promise<{ port: number; received(): number; stop(): Promise<void> }> {
  const port = await freePort();
  const asRoot = process.getuid?.() === 0 ? ['-u', 'nobody'] : [];
  const child = spawn(findBinary('smtp-sink')!, [...asRoot, '-c', `127.0.0.1:${port}`, '256'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let last = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (last = (last + d).slice(-200)));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  await sleep(300);
  return {
    port,
    // the counter line is "<sessions> <quits> <messages>" rewritten with \r; messages is the last field
    received: () => Number(/(\d+)\s*\r?$/.exec(last.split('\r').filter(Boolean).pop() ?? '')?.[1] ?? 0),
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** A throw-away Postfix instance (own config, queue and data directories) relaying everything to `relayPort`. */
export async function startPostfix(relayPort: number): Promise<{ port: number; stop(): Promise<void> }> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'pm-postfix-'));
  chmodSync(dir, 0o755);
  const conf = join(dir, 'conf');
  for (const d of ['conf', 'queue', 'data']) mkdirSync(join(dir, d));
  execFileSync('chown', ['postfix', join(dir, 'data')]);
  const master = readFileSync('/etc/postfix/master.cf', 'utf8')
    .split('\n')
    .map((line) => {
      if (/^\s*#/.test(line) || !line.trim() || /^\s/.test(line)) return line;
      const f = line.split(/\s+/);
      if (f.length < 8) return line;
      if (f[0] === 'smtp' && f[1] === 'inet') f[0] = `127.0.0.1:${port}`;
      else if (f[1] === 'inet') return `#${line}`; // no other listeners (submission, smtps…)
      f[4] = 'n'; // no chroot: the queue is not under /var/spool/postfix
      return f.join(' ');
    })
    .join('\n');
  writeFileSync(join(conf, 'master.cf'), master);
  writeFileSync(join(conf, 'main.cf'), [
    'compatibility_level = 3.6',
    `queue_directory = ${dir}/queue`,
    `data_directory = ${dir}/data`,
    'mail_owner = postfix',
    'setgid_group = postdrop',
    'inet_interfaces = 127.0.0.1',
    'inet_protocols = ipv4',
    'myhostname = postfix-bench.localhost',
    'mydomain = localhost',
    'mydestination =',
    'local_recipient_maps =',
    'alias_maps =',
    'alias_database =',
    'mynetworks = 127.0.0.0/8',
    'smtpd_relay_restrictions = permit_mynetworks, reject',
    `relayhost = [127.0.0.1]:${relayPort}`,
    'smtp_tls_security_level = none',
    'smtpd_tls_security_level = none',
    'default_process_limit = 200',
    'smtpd_client_connection_count_limit = 0',
    'smtpd_client_connection_rate_limit = 0',
    'smtpd_client_message_rate_limit = 0',
    'anvil_rate_time_unit = 60s',
    'default_destination_concurrency_limit = 50',
    'default_destination_rate_delay = 0',
    'in_flow_delay = 0',
    `maillog_file_prefixes = ${tmpdir()}`,
    `maillog_file = ${dir}/maillog`,
    'biff = no',
  ].join('\n') + '\n');
  const pf = (cmd: string) => execFileSync(findBinary('postfix')!, ['-c', conf, cmd], { stdio: 'pipe', env: { ...process.env, PATH: `/usr/sbin:/usr/bin:/sbin:/bin:${process.env.PATH}` } });
  try {
    pf('start');
  } catch (err) {
    const log = existsSync(join(dir, 'maillog')) ? readFileSync(join(dir, 'maillog'), 'utf8').slice(-1000) : '';
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`postfix start failed: ${(err as Error).message} ${log}`);
  }
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (ok) break;
    await sleep(100);
  }
  return {
    port,
    async stop() {
      try {
        pf('stop');
      } catch {
        // already stopped
      }
      await sleep(500);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** What the private Postfix did with one smtp-source run: accepted (ingest) and through to smtp-sink (relay, end to end). */
export interface PostfixRun {
  ingestPerSecond: number;
  endToEndPerSecond: number;
  sunk: number;
}

/**
 * The Postfix reference: smtp-source → a private Postfix on loopback (queue fsynced, as Postfix always
 * does) → smtp-sink, `messages` of 5 KB over `sessions` concurrent sessions, after a 20-message warm-up.
 */
export async function postfixPoint(sessions: number, messages: number): Promise<PostfixRun> {
  const sink = await startCountingSink();
  let postfix: Awaited<ReturnType<typeof startPostfix>> | undefined;
  try {
    postfix = await startPostfix(sink.port);
    await smtpSource(postfix.port, Math.min(sessions, 10), 20); // warm-up: processes spawned, queue files
    for (let i = 0; i < 200 && sink.received() < 20; i++) await sleep(100);
    const base = sink.received();
    const t = performance.now();
    const run = await smtpSource(postfix.port, sessions, messages);
    if (run.code !== 0) throw new Error(`smtp-source → postfix exited ${run.code}: ${run.out.slice(-500)}`);
    for (let i = 0; i < 1200 && sink.received() - base < messages; i++) await sleep(50);
    const e2e = (performance.now() - t) / 1000;
    return { ingestPerSecond: messages / run.seconds, endToEndPerSecond: messages / e2e, sunk: sink.received() - base };
  } finally {
    await postfix?.stop();
    await sink.stop();
  }
}

