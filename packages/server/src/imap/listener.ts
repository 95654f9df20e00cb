// The IMAP TCP listener (node:net): frames each connection's bytes with reader.ts, hands commands
// to a session, writes its responses with backpressure, and enforces the connection caps and the
// 30-minute inactivity timeout (RFC 3501 §5.4; a client re-issuing IDLE refreshes it, RFC 2177).
// Not wired into server.ts until the mailbox model's backend exists (docs/imap.md).
import { createServer, type Socket } from 'node:net';
import { once } from 'node:events';
import type { MailBackend } from './backend.ts';
import type { OutPart } from './encode.ts';
import { createCommandReader, type ReaderEvent } from './reader.ts';
import { createSession } from './session.ts';

export interface ImapListenerOptions {
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  backend: MailBackend;
  /** Checks a login; resolves to the backend user, or undefined to refuse. Throttling is its job. */
  login(user: string, password: string, client: { address: string }): Promise<string | undefined>;
  log?: { info(obj: object, msg: string): void; error(obj: object, msg: string): void };
  maxConnections?: number;
  maxConnectionsPerAddress?: number;
  /** Longest command line outside literals, in octets. */
  maxLineBytes?: number;
  /** Largest literal (an APPENDed message), in octets. */
  maxLiteralBytes?: number;
  /** Time without anything from the client before the connection is closed, in ms. */
  idleTimeoutMs?: number;
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
  const sockets = new Set<Socket>();
  const perAddress = new Map<string, number>();

  function serve(socket: Socket) {
    const address = socket.remoteAddress ?? 'unknown';
    const fromHere = perAddress.get(address) ?? 0;
    if (sockets.size >= maxConnections || fromHere >= maxPerAddress) {
      socket.end('* BYE Too many connections, try again later\r\n');
      socket.on('error', () => {});
      return;
    }
    sockets.add(socket);
    perAddress.set(address, fromHere + 1);
    socket.setNoDelay(true);
    let closed = false;

    const write = async (parts: OutPart[]) => {
      for (const part of parts) {
        if (closed || socket.destroyed) return;
        if (typeof part === 'string' || Buffer.isBuffer(part)) {
          if (!socket.write(part)) await Promise.race([once(socket, 'drain'), once(socket, 'close')]);
          continue;
        }
        // a literal announced with its size: the stream must deliver exactly that many bytes
        let sent = 0;
        for await (const chunk of part.stream as AsyncIterable<Buffer>) {
          if (closed || socket.destroyed) return;
          sent += chunk.length;
          if (!socket.write(chunk)) await Promise.race([once(socket, 'drain'), once(socket, 'close')]);
        }
        if (sent !== part.size) throw new Error(`message stream gave ${sent} bytes, ${part.size} announced`);
      }
    };
    const close = () => {
      closed = true;
      socket.end();
    };

    const session = createSession({ backend: opts.backend, login: (user, password) => opts.login(user, password, { address }), write, close, log: opts.log });
    const reader = createCommandReader(limits);

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

    socket.on('data', (chunk: Buffer) => {
      clearTimeout(timer);
      timer = setTimeout(onTimeout, idleTimeoutMs);
      for (const ev of reader.push(chunk)) {
        queued++;
        chain = chain
          .then(() => handle(ev))
          .finally(() => {
            queued--;
            if (queued < MAX_QUEUED_EVENTS / 2 && socket.isPaused() && !closed) socket.resume();
          })
          .catch(fail);
      }
      // a client pipelining faster than we answer waits for us
      if (queued >= MAX_QUEUED_EVENTS) socket.pause();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      closed = true;
      clearTimeout(timer);
      session.end();
      sockets.delete(socket);
      const n = (perAddress.get(address) ?? 1) - 1;
      if (n > 0) perAddress.set(address, n);
      else perAddress.delete(address);
    });
    chain = chain.catch(fail);
  }

  const server = createServer(serve);
  server.listen(opts.port, opts.host);
  await once(server, 'listening');
  const addr = server.address();
  return {
    port: typeof addr === 'object' && addr ? addr.port : opts.port,
    async close() {
      const closing = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.end('* BYE Server shutting down\r\n');
      const deadline = setTimeout(() => {
        for (const s of sockets) s.destroy();
      }, 2000);
      await closing;
      clearTimeout(deadline);
    },
  };
}
