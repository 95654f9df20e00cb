// Real SMTP peers for the gateway tests: swaks (Debian `swaks`) as the client, Postfix's smtp-sink
// (Debian `postfix`) as the next hop, and a raw socket for byte-exact sessions. Nothing here speaks
// SMTP by itself except `rawSmtp`, which only writes what the test gives it and reads replies.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, chmodSync, constants, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { freePort } from './node.ts';

/** Absolute path of an executable on PATH (or in /usr/sbin, where Debian puts smtp-sink), or undefined. */
export function findBinary(name: string): string | undefined {
  for (const dir of [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/bin']) {
    const p = join(dir, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // next
    }
  }
  return undefined;
}

/**
 * Throws, naming what is missing and how to get it, unless swaks and smtp-sink (and python3 with
 * `python`) are installed. SMTP suites call it in their first `before`: a missing tool fails the
 * run, never skips it, so CI cannot go green without the SMTP tests.
 */
export function requireSmtpTools(opts: { python?: boolean } = {}): void {
  const missing = ['swaks', 'smtp-sink', ...(opts.python ? ['python3'] : [])].filter((b) => !findBinary(b));
  if (missing.length) {
    throw new Error(`${missing.join(', ')} not installed: the SMTP tests drive these real peers (Debian packages swaks, postfix${opts.python ? ', python3' : ''}; .ci/run installs them)`);
  }
}

export interface SwaksResult {
  code: number | null;
  /** The transcript swaks prints (client lines ` -> `, server lines `<- ` / `<** `). */
  out: string;
  /** Server replies, in order, e.g. `250 Accepted`, `550 5.1.1 No such user here`. */
  replies: string[];
}

/** Runs swaks against 127.0.0.1:`port` with the given arguments; never throws on SMTP errors. */
export function swaks(port: number, args: string[], input?: string | Buffer): Promise<SwaksResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(findBinary('swaks')!, ['--server', `127.0.0.1:${port}`, '--timeout', '20', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.once('error', reject);
    child.once('close', (code) => {
      const replies = out
        .split('\n')
        .filter((l) => /^<(-|\*\*) +\d{3}[ ]/.test(l))
        .map((l) => l.replace(/^<(-|\*\*) +/, '').trim());
      resolve({ code, out, replies });
    });
    child.stdin.end(input);
  });
}

export interface SmtpSink {
  port: number;
  /** Messages captured so far, as written by smtp-sink -d (its own X-* and Received lines first). */
  messages(): string[];
  stop(): Promise<void>;
}

/**
 * Starts Postfix's smtp-sink on 127.0.0.1 capturing each message to a file. `options` are extra
 * smtp-sink flags, e.g. ['-r', 'RCPT'] (450 to RCPT) or ['-f', 'RCPT'] (500 to RCPT).
 */
export async function startSmtpSink(options: string[] = [], port?: number): Promise<SmtpSink> {
  const at = port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'pm-sink-'));
  // smtp-sink drops root privileges before writing: the capture directory must be writable for it
  chmodSync(dir, 0o777);
  const asRoot = process.getuid?.() === 0 ? ['-u', 'nobody'] : [];
  const child: ChildProcess = spawn(findBinary('smtp-sink')!, [...asRoot, '-d', `${dir}/%H%M%S.`, ...options, `127.0.0.1:${at}`, '20'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  for (let i = 0; ; i++) {
    if (await canConnect(at)) break;
    if (child.exitCode !== null || i > 100) throw new Error(`smtp-sink did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port: at,
    messages: () => readdirSync(dir).sort().map((f) => readFileSync(join(dir, f), 'latin1')),
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Strips smtp-sink's own capture lines (X-Client-*, X-Helo/Mail/Rcpt-Args, its Received) and restores CRLF. */
export function sinkMessage(capture: string): Buffer {
  const lines = capture.split('\n');
  let i = 0;
  while (/^X-(Client-Addr|Client-Proto|Helo-Args|Mail-Args|Rcpt-Args): /.test(lines[i])) i++;
  if (/^Received: /.test(lines[i])) {
    i++;
    while (/^[ \t]/.test(lines[i])) i++;
  }
  return Buffer.from(lines.slice(i).join('\r\n'), 'latin1');
}

/**
 * A byte-exact SMTP session: each step writes its bytes and waits for one complete reply (multi-line
 * replies joined). Returns the replies in order, the greeting first.
 */
export async function rawSmtp(port: number, steps: (string | Buffer)[]): Promise<string[]> {
  const socket = connect(port, '127.0.0.1');
  let buffered = '';
  const waiting: ((reply: string) => void)[] = [];
  const replies: string[] = [];
  socket.setEncoding('latin1');
  socket.on('data', (d: string) => {
    buffered += d;
    // a reply ends with a line "NNN text" (no dash after the code)
    for (let m; (m = /^((?:\d{3}-[^\n]*\n)*\d{3}(?: [^\n]*)?)\r?\n/.exec(buffered)); ) {
      buffered = buffered.slice(m[0].length);
      const reply = m[1].replace(/\r/g, '');
      const w = waiting.shift();
      if (w) w(reply);
      else replies.push(reply);
    }
  });
  const next = () => new Promise<string>((resolve, reject) => {
    const queued = replies.shift();
    if (queued !== undefined) return resolve(queued);
    const timer = setTimeout(() => reject(new Error(`no SMTP reply; buffered ${JSON.stringify(buffered)}`)), 15_000);
    waiting.push((r) => {
      clearTimeout(timer);
      resolve(r);
    });
  });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const out = [await next()];
  for (const step of steps) {
    socket.write(step);
    out.push(await next());
  }
  socket.end();
  // anything the server said without being asked (it would be a smuggled command's answer) comes
  // before it closes its side of the connection
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 5000);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  socket.destroy();
  return [...out, ...replies];
}

export interface SmtplibSession {
  /** [code, text] of each reply; `data` only when some recipient was accepted. */
  ehlo: [number, string];
  mail: [number, string];
  rcpt: [number, string][];
  data?: [number, string];
}

const SMTPLIB_CLIENT = `
import json, smtplib, sys
req = json.load(sys.stdin)
dec = lambda r: [r[0], r[1].decode("latin1")]
s = smtplib.SMTP("127.0.0.1", req["port"], local_hostname="client.test", timeout=20)
out = {"ehlo": dec(s.ehlo())}
out["mail"] = dec(s.mail(req["from"]))
out["rcpt"] = [dec(s.rcpt(r["to"], r.get("options", []))) for r in req["rcpts"]]
if req.get("data") is not None and any(200 <= c < 300 for c, _ in out["rcpt"]):
    out["data"] = dec(s.data(req["data"].encode("latin1")))
s.quit()
print(json.dumps(out))
`;

/**
 * One SMTP session with Python's smtplib, the client that can send RCPT TO parameters
 * (`options`, e.g. CRI-TOKEN) and that nobody on the team wrote. `from` '' is the null sender.
 */
export function smtplib(port: number, req: { from: string; rcpts: { to: string; options?: string[] }[]; data?: string }): Promise<SmtplibSession> {
  return new Promise((resolve, reject) => {
    const child = spawn(findBinary('python3')!, ['-c', SMTPLIB_CLIENT], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.once('error', reject);
    child.once('close', (code) => {
      if (code !== 0) return reject(new Error(`smtplib exited ${code}: ${err}`));
      resolve(JSON.parse(out) as SmtplibSession);
    });
    child.stdin.end(JSON.stringify({ port, ...req }));
  });
}
