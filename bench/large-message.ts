// Peak memory for one 25 MB message node→node: two `pullmail-server start` processes (a.test,
// b.test) on their own PostgreSQL databases, HTTPS on loopback, knowing each other through
// PULLMAIL_PEERS. alice@a.test POSTs a 25,000,000-byte RFC 5322 message (base64 attachment) as
// message/rfc822; b.test (bob allows @a.test) is notified, fetches and stores it. Peak RSS (VmHWM)
// of each process is read from /proc when bob's inbox shows it, against each process's RSS before.
// Usage: node bench/large-message.ts [bytes=25000000] [larger bytes, e.g. 100000000: memory should not grow with it]
import { randomBytes } from 'node:crypto';
import { benchDatabase, mb, memoryOf, sleep, startNodeProcess, withCleanup, printFigure, type Figure } from './lib/common.ts';
import { freePort } from '../test/harness/node.ts';

export interface LargeMessageResult {
  bytes: number;
  sendMs: number;
  deliverMs: number;
  sender: { beforeKb: number; peakKb: number };
  recipient: { beforeKb: number; peakKb: number };
  storedSize: number;
}

/** A message of exactly `bytes` bytes: headers, a short text part, and a base64 attachment of random data. */
export function bigMessage(bytes: number): Buffer {
  const boundary = 'bench-boundary-0123456789';
  const head =
    'From: alice@a.test\r\nTo: bob@b.test\r\nSubject: 25 MB bench\r\nMIME-Version: 1.0\r\n' +
    `Content-Type: multipart/mixed; boundary="${boundary}"\r\n\r\n` +
    `--${boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nA large attachment follows.\r\n` +
    `--${boundary}\r\nContent-Type: application/octet-stream; name="big.bin"\r\nContent-Transfer-Encoding: base64\r\n` +
    'Content-Disposition: attachment; filename="big.bin"\r\n\r\n';
  const tail = `\r\n--${boundary}--\r\n`;
  const room = bytes - head.length - tail.length;
  // base64 lines of 76 characters + CRLF
  const lines = Math.floor(room / 78);
  const b64 = randomBytes(Math.ceil((lines * 76 * 3) / 4)).toString('base64').slice(0, lines * 76);
  let body = b64.replace(/(.{76})/g, '$1\r\n');
  body += 'A'.repeat(Math.max(0, room - body.length)); // pad to the exact size (still base64 alphabet)
  return Buffer.from(head + body + tail, 'latin1');
}

export async function benchLargeMessage(bytes = 25_000_000): Promise<LargeMessageResult> {
  return withCleanup(async (cleanup) => {
    const [dbA, dbB] = [await benchDatabase(), await benchDatabase()];
    cleanup(() => dbA.drop());
    cleanup(() => dbB.drop());
    const [portA, portB] = [await freePort(), await freePort()];
    const peers = `a.test=https://127.0.0.1:${portA},b.test=https://127.0.0.1:${portB}`;
    // the limit raised for runs with larger messages (the default is 25 MiB)
    const env = { PULLMAIL_QUEUE_POLL_MS: '200', PULLMAIL_MAX_MESSAGE_BYTES: String(Math.max(26_214_400, bytes + 1_000_000)) };
    const a = await startNodeProcess({ domain: 'a.test', databaseUrl: dbA.url, port: portA, peers, env });
    cleanup(() => a.stop());
    const b = await startNodeProcess({ domain: 'b.test', databaseUrl: dbB.url, port: portB, peers, env });
    cleanup(() => b.stop());
    const alice = await a.addUser('alice@a.test');
    const bob = await b.addUser('bob@b.test');
    await (await b.api('/api/v1/rules', { method: 'POST', token: bob, json: { action: 'allow', pattern: '@a.test' } })).text();
    // warm both paths with a small message first (discovery, keys, connections, lazy modules)
    await (await a.api('/api/v1/messages', { method: 'POST', token: alice, json: { to: ['bob@b.test'], subject: 'warm-up', text: 'hi' } })).text();
    for (let i = 0; ; i++) {
      const list = (await (await b.api('/api/v1/inbox', { token: bob })).json()) as { total: number };
      if (list.total >= 1) break;
      if (i > 300) throw new Error('warm-up message never arrived');
      await sleep(100);
    }
    await sleep(1000);
    const before = { a: memoryOf(a.pid), b: memoryOf(b.pid) };
    const raw = bigMessage(bytes);
    const t0 = performance.now();
    const res = await a.api('/api/v1/messages', { method: 'POST', token: alice, body: raw, headers: { 'content-type': 'message/rfc822' } });
    const sent = (await res.json()) as { id?: string };
    if (res.status !== 201) throw new Error(`send: ${res.status} ${JSON.stringify(sent)}`);
    const sendMs = performance.now() - t0;
    let storedSize = 0;
    for (let i = 0; ; i++) {
      const list = (await (await b.api('/api/v1/inbox', { token: bob })).json()) as { total: number; messages: { size: number; subject: string }[] };
      const big = list.messages.find((m) => m.subject === '25 MB bench');
      if (big) {
        storedSize = big.size;
        break;
      }
      if (i > 1200) throw new Error('the 25 MB message never arrived');
      await sleep(100);
    }
    const deliverMs = performance.now() - t0;
    const after = { a: memoryOf(a.pid), b: memoryOf(b.pid) };
    return {
      bytes: raw.length,
      sendMs,
      deliverMs,
      sender: { beforeKb: before.a.rssKb, peakKb: after.a.hwmKb },
      recipient: { beforeKb: before.b.rssKb, peakKb: after.b.hwmKb },
      storedSize,
    };
  });
}

/** Figures for one run, or for a run and a larger one (the second shows whether memory grows with size). */
export function largeMessageFigures(r: LargeMessageResult, larger?: LargeMessageResult): Figure[] {
  const grow = (x: LargeMessageResult) => ({ a: x.sender.peakKb - x.sender.beforeKb, b: x.recipient.peakKb - x.recipient.beforeKb });
  const times = (kb: number, x: LargeMessageResult) => ((kb * 1024) / x.bytes).toFixed(1);
  const g = grow(r);
  const figures: Figure[] = [{
    name: `peak RSS for one ${(r.bytes / 1e6).toFixed(0)} MB message`,
    short: `sender ${mb(r.sender.peakKb)} (+${mb(g.a)}), recipient ${mb(r.recipient.peakKb)} (+${mb(g.b)}); streamed`,
    value: `sender node ${mb(r.sender.peakKb)} (+${mb(g.a)} = ${times(g.a, r)}× the message), recipient node ${mb(r.recipient.peakKb)} (+${mb(g.b)} = ${times(g.b, r)}×); send answered in ${(r.sendMs / 1000).toFixed(1)} s, stored at b after ${(r.deliverMs / 1000).toFixed(1)} s (${r.storedSize} bytes). Bodies are streamed in 256 KiB chunks (upload → blob rows → fetch response → blob rows); the growth is garbage from chunk encoding not yet collected, not the message held whole`,
    method: `two pullmail-server processes on PostgreSQL over HTTPS; POST /api/v1/messages with a ${r.bytes}-byte message/rfc822 (base64 attachment), notify → fetch → store at b; VmHWM (peak RSS) of each process from /proc/<pid>/status after delivery vs VmRSS before the send (after a warm-up message)`,
  }];
  if (larger) {
    const l = grow(larger);
    figures.push({
      name: `peak RSS growth, ${(r.bytes / 1e6).toFixed(0)} MB vs ${(larger.bytes / 1e6).toFixed(0)} MB message`,
      short: `sender +${mb(g.a)} → +${mb(l.a)}, recipient +${mb(g.b)} → +${mb(l.b)} for ${(larger.bytes / r.bytes).toFixed(0)}× the bytes`,
      value: `sender +${mb(g.a)} → +${mb(l.a)}, recipient +${mb(g.b)} → +${mb(l.b)} for ${(larger.bytes / r.bytes).toFixed(0)}× the bytes (a buffered body would grow ${(larger.bytes / r.bytes).toFixed(0)}×); the ${(larger.bytes / 1e6).toFixed(0)} MB one stored at b after ${(larger.deliverMs / 1000).toFixed(1)} s`,
      method: `the same run with a ${larger.bytes}-byte message (PULLMAIL_MAX_MESSAGE_BYTES raised for it) on fresh processes and databases`,
    });
  }
  return figures;
}

if (import.meta.main) {
  const r = await benchLargeMessage(Number(process.argv[2] ?? 25_000_000));
  const larger = process.argv[3] ? await benchLargeMessage(Number(process.argv[3])) : undefined;
  for (const f of largeMessageFigures(r, larger)) printFigure(f);
}
