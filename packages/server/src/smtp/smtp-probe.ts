// One polite address probe at another mail server (sender callout, docs/cri.md): EHLO, MAIL FROM:<>,
// RCPT TO:<address>, then RSET and QUIT whatever the answer, and never DATA. A plain socket: the probe
// sends five fixed commands and reads their replies (RFC 5321 §4.2), nothing a mail library adds helps.
import { connect, isIP, type Socket } from 'node:net';
import { guardedLookup, isPrivateAddress } from '../peers/address-guard.ts';

export interface ProbeResult {
  /** `exists` (2xx to RCPT), `refused` (5xx to RCPT) or `unknown` (anything else). */
  verdict: 'exists' | 'refused' | 'unknown';
  /** The reply that decided, or what went wrong. */
  detail: string;
}

/** A connection failure, as opposed to an answer: the caller may try the next MX host. */
export class ProbeUnreachable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProbeUnreachable';
  }
}

/**
 * Asks `host`:`port` whether it takes mail for `address`.
 * @throws ProbeUnreachable when no SMTP conversation could start (refused, timeout before the greeting).
 */
export async function probeAddress(host: string, port: number, address: string, opts: { ehloName: string; timeoutMs: number; allowPrivate?: boolean }): Promise<ProbeResult> {
  // the sender's domain names the host: never one of ours or our LAN (the one SSRF guard, peers/address-guard.ts)
  const bare = host.replace(/^\[|\]$/g, '');
  if (!opts.allowPrivate && isIP(bare) && isPrivateAddress(bare)) throw new ProbeUnreachable(`${host}:${port}: refusing private address`);
  const socket = connect({ host: bare, port, ...(opts.allowPrivate ? {} : { lookup: guardedLookup as never }) });
  const conn = replyReader(socket, opts.timeoutMs);
  // the whole conversation, not only each step, has to fit: a client is waiting at RCPT meanwhile
  const deadline = setTimeout(() => socket.destroy(new Error('timed out')), opts.timeoutMs);
  try {
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  } catch (err) {
    clearTimeout(deadline);
    socket.destroy();
    throw new ProbeUnreachable(`${host}:${port}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let inTransaction = false;
  try {
    const greeting = await conn.next().catch((err: Error) => {
      throw new ProbeUnreachable(`${host}:${port}: ${err.message}`);
    });
    if (greeting.code !== 220) return { verdict: 'unknown', detail: `greeting ${greeting.text}` };
    // RFC 5321 §4.1.3: a name that is an IP address goes as an address literal
    const name = isIP(opts.ehloName) === 4 ? `[${opts.ehloName}]` : isIP(opts.ehloName) === 6 ? `[IPv6:${opts.ehloName}]` : opts.ehloName;
    let hello = await conn.send(`EHLO ${name}`);
    if (hello.code >= 500) hello = await conn.send(`HELO ${name}`);
    if (hello.code !== 250) return { verdict: 'unknown', detail: `hello ${hello.text}` };
    const mail = await conn.send('MAIL FROM:<>');
    if (mail.code !== 250) return { verdict: 'unknown', detail: `null sender ${mail.text}` };
    inTransaction = true;
    const rcpt = await conn.send(`RCPT TO:<${address}>`);
    const verdict = rcpt.code >= 200 && rcpt.code < 300 ? 'exists' : rcpt.code >= 500 ? 'refused' : 'unknown';
    return { verdict, detail: rcpt.text };
  } catch (err) {
    if (err instanceof ProbeUnreachable) throw err;
    return { verdict: 'unknown', detail: (err as Error).message };
  } finally {
    // the callout debate's manners: end the transaction and say goodbye, never just hang up
    await (inTransaction ? conn.send('RSET') : Promise.resolve()).then(() => conn.send('QUIT')).catch(() => undefined);
    clearTimeout(deadline);
    socket.destroy();
  }
}

interface Reply {
  code: number;
  /** The whole reply on one line, e.g. `550 5.1.1 no such user`. */
  text: string;
}

function replyReader(socket: Socket, timeoutMs: number) {
  let buffered = '';
  let lines: string[] = [];
  const ready: Reply[] = [];
  let waiting: { resolve: (r: Reply) => void; reject: (e: Error) => void } | undefined;
  let failure: Error | undefined;
  const fail = (err: Error) => {
    failure ??= err;
    waiting?.reject(failure);
    waiting = undefined;
  };
  socket.setEncoding('latin1');
  socket.setTimeout(timeoutMs, () => fail(new Error('timed out')));
  socket.on('error', (err) => fail(err));
  socket.on('close', () => fail(new Error('connection closed')));
  socket.on('data', (chunk: string) => {
    buffered += chunk;
    if (buffered.length > 64 * 1024) return fail(new Error('reply too long'));
    for (let i; (i = buffered.indexOf('\n')) >= 0; ) {
      const line = buffered.slice(0, i).replace(/\r$/, '');
      buffered = buffered.slice(i + 1);
      lines.push(line);
      // the last line of a reply has a space (or nothing) after the code
      if (/^\d{3}(?: |$)/.test(line)) {
        const reply = { code: Number(line.slice(0, 3)), text: lines.join(' / ').slice(0, 300) };
        lines = [];
        if (waiting) {
          waiting.resolve(reply);
          waiting = undefined;
        } else ready.push(reply);
      } else if (!/^\d{3}-/.test(line)) return fail(new Error('not an SMTP reply'));
    }
  });
  const next = (): Promise<Reply> => {
    const r = ready.shift();
    if (r) return Promise.resolve(r);
    if (failure) return Promise.reject(failure);
    return new Promise((resolve, reject) => (waiting = { resolve, reject }));
  };
  return {
    next,
    send(command: string): Promise<Reply> {
      if (failure) return Promise.reject(failure);
      socket.write(`${command}\r\n`);
      return next();
    },
  };
}
