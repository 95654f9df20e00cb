// The IMAP TCP listener (node:net, node:tls): frames each connection's bytes with reader.ts, hands
// commands to a session, writes its responses with backpressure, and enforces the connection caps
// and the 30-minute inactivity timeout (RFC 3501 §5.4; a client re-issuing IDLE refreshes it,
// RFC 2177). STARTTLS (RFC 3501 §6.2.1) or implicit TLS (RFC 8314) when given a certificate.
// Not wired into server.ts until the mailbox model's backend exists (docs/imap.md).
import { createServer, type Socket } from 'node:net';
import { createSecureContext, createServer as createTlsServer, TLSSocket } from 'node:tls';
import { once } from 'node:events';
import type { MailBackend } from './backend.ts';
import type { OutPart } from './encode.ts';
import { createCommandReader, type ReaderEvent } from './reader.ts';
import { createSession, type SessionLogin } from './session.ts';

export interface ImapListenerOptions {
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  backend: MailBackend;
  /** Checks a login; resolves to what it granted (the backend user, whether it still holds), or undefined to refuse. Throttling is its job. */
  login(user: string, password: string, client: { address: string }): Promise<SessionLogin | undefined>;
  log?: { info(obj: object, msg: string): void; error(obj: object, msg: string): void };
  maxConnections?: number;
  maxConnectionsPerAddress?: number;
  /** Longest command line outside literals, in octets. */
  maxLineBytes?: number;
  /** Largest literal (an APPENDed message), in octets. */
  maxLiteralBytes?: number;
  /** Time without anything from the client before the connection is closed, in ms. */
  idleTimeoutMs?: number;
  /** PEM certificate and key: STARTTLS is offered, or with `implicitTls` every connection starts in TLS. */
  tls?: { cert: string; key: string };
  implicitTls?: boolean;
  /** Refuse logins before TLS (LOGINDISABLED); for listeners that are not on loopback. */
  loginNeedsTls?: boolean;
}

export interface ImapListener {
  port: number;
  /** Says BYE to every connection and stops listening. */
  close(): Promise<void>;
}

const MAX_QUEUED_EVENTS = 64;

export async function startImapListener(opts: ImapListenerOptions): Promise<ImapListener> {
  const maxConnections = opts.maxConnections ?? 1000;
  const maxPerAddress = opts.maxConnectionsPerAddress ?? 20;
  const idleTimeoutMs = opts.idleTimeoutMs ?? 30 * 60_000;
  const limits = { maxLineBytes: opts.maxLineBytes ?? 64 * 1024, maxLiteralBytes: opts.maxLiteralBytes ?? 25 * 1024 * 1024 };
  // each connection by its TCP socket, with the socket it speaks on now (the TLS one after STARTTLS)
  const sockets = new Map<Socket, () => Socket>();
  const perAddress = new Map<string, number>();
  const secureContext = opts.tls && createSecureContext({ cert: opts.tls.cert, key: opts.tls.key, minVersion: 'TLSv1.2' });
  if (opts.implicitTls && !secureContext) throw new Error('implicitTls needs tls');

  function serve(raw: Socket) {
    let socket = raw;
    const address = socket.remoteAddress ?? 'unknown';
    const fromHere = perAddress.get(address) ?? 0;
    if (sockets.size >= maxConnections || fromHere >= maxPerAddress) {
      raw.end('* BYE Too many connections, try again later\r\n');
      raw.on('error', () => {});
      return;
    }
    sockets.set(raw, () => socket);
    perAddress.set(address, fromHere + 1);
    raw.setNoDelay(true);
    let closed = false;

    const send = async (data: Buffer) => {
      if (!socket.write(data)) await Promise.race([once(socket, 'drain'), once(socket, 'close')]);
    };
    const write = async (parts: OutPart[]) => {
      try {
        await writeParts(parts);
      } finally {
        // a stream not read to its end (connection gone) still holds its source open
        for (const p of parts) if (typeof p === 'object' && !Buffer.isBuffer(p) && !p.stream.readableEnded) p.stream.destroy();
      }
    };
    const writeParts = async (parts: OutPart[]) => {
      // one socket write per response, not one per piece: with Nagle off each write is a packet
      let pending: Buffer[] = [];
      for (const part of parts) {
        if (closed || socket.destroyed) return;
        if (typeof part === 'string' || Buffer.isBuffer(part)) {
          pending.push(typeof part === 'string' ? Buffer.from(part, 'utf8') : part);
          continue;
        }
        if (pending.length) await send(Buffer.concat(pending));
        pending = [];
        // a literal announced with its size: the stream must deliver exactly that many bytes
        let sent = 0;
        for await (const chunk of part.stream as AsyncIterable<Buffer>) {
          if (closed || socket.destroyed) return;
          sent += chunk.length;
          await send(chunk);
        }
        if (sent !== part.size) throw new Error(`message stream gave ${sent} bytes, ${part.size} announced`);
      }
      if (pending.length && !closed && !socket.destroyed) await send(pending.length === 1 ? pending[0] : Buffer.concat(pending));
    };
    const close = () => {
      closed = true;
      socket.end();
    };

    let reader = createCommandReader(limits);
    // bumped by STARTTLS: events read before the upgrade but not yet handled are dropped
    let generation = 0;
    let upgrading = false; // a STARTTLS is queued: the clear-text socket stays paused

    async function startTls() {
      generation++;
      reader = createCommandReader(limits);
      raw.removeListener('data', onData);
      const secure = new TLSSocket(raw, { isServer: true, secureContext });
      socket = secure;
      secure.on('data', onData);
      secure.on('error', () => {});
      secure.on('close', onClose);
      await once(secure, 'secure');
    }

    const session = createSession({
      backend: opts.backend,
      login: (user, password) => opts.login(user, password, { address }),
      write,
      close,
      log: opts.log,
      secure: !!opts.implicitTls,
      startTls: secureContext && !opts.implicitTls ? startTls : undefined,
      loginNeedsTls: opts.loginNeedsTls,
    });

    let timer = setTimeout(onTimeout, idleTimeoutMs);
    function onTimeout() {
      socket.end('* BYE Idle for too long\r\n');
      closed = true;
    }

    let chain: Promise<void> = session.start();
    let queued = 0;
    const handle = (ev: ReaderEvent): Promise<void> => {
      switch (ev.kind) {
        case 'command':
          return session.receive(ev.bytes);
        case 'continue':
          return session.continueLiteral();
        case 'reject':
          return session.reject(ev.tag, ev.text);
        case 'fatal':
          closed = true;
          socket.end(`* BYE ${ev.text}\r\n`);
          return Promise.resolve();
      }
    };
    const fail = (err: unknown) => {
      opts.log?.error({ err, client: address }, 'imap connection failed');
      closed = true;
      socket.destroy();
    };

    function onData(chunk: Buffer) {
      clearTimeout(timer);
      timer = setTimeout(onTimeout, idleTimeoutMs);
      const gen = generation;
      for (const ev of reader.push(chunk)) {
        // after STARTTLS nothing more is read in clear text: what followed it in this chunk is an
        // injection attempt (CVE-2011-0411 family) and the next bytes are the TLS handshake
        const isStartTls = ev.kind === 'command' && !!secureContext && socket === raw && /^\S+ STARTTLS$/i.test(ev.bytes.toString('latin1'));
        if (isStartTls) raw.pause();
        queued++;
        chain = chain
          .then(async () => {
            if (gen !== generation) return;
            await handle(ev);
            if (isStartTls && socket === raw) {
              upgrading = false;
              raw.resume(); // refused: go on in clear text
            }
          })
          .finally(() => {
            queued--;
            if (queued < MAX_QUEUED_EVENTS / 2 && socket.isPaused() && !closed && !(socket === raw && upgrading)) socket.resume();
          })
          .catch(fail);
        if (isStartTls) {
          upgrading = true;
          break;
        }
      }
      // a client pipelining faster than we answer waits for us
      if (queued >= MAX_QUEUED_EVENTS) socket.pause();
    }
    let cleaned = false;
    function onClose() {
      if (cleaned) return;
      cleaned = true;
      closed = true;
      clearTimeout(timer);
      session.end();
      sockets.delete(raw);
      const n = (perAddress.get(address) ?? 1) - 1;
      if (n > 0) perAddress.set(address, n);
      else perAddress.delete(address);
    }
    raw.on('data', onData);
    raw.on('error', () => {});
    raw.on('close', onClose);
    chain = chain.catch(fail);
  }

  const server = opts.implicitTls && opts.tls ? createTlsServer({ cert: opts.tls.cert, key: opts.tls.key, minVersion: 'TLSv1.2' }, serve) : createServer(serve);
  server.listen(opts.port, opts.host);
  await once(server, 'listening');
  const addr = server.address();
  return {
    port: typeof addr === 'object' && addr ? addr.port : opts.port,
    async close() {
      const closing = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const current of sockets.values()) current().end('* BYE Server shutting down\r\n');
      const deadline = setTimeout(() => {
        for (const current of sockets.values()) current().destroy();
      }, 2000);
      await closing;
      clearTimeout(deadline);
    },
  };
}
