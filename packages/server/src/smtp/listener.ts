// Starting and stopping one smtp-server listener, with the options both gateway roles share.
import { isIP, type Socket } from 'node:net';
import { LRUCache } from 'lru-cache';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import type { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import type { SMTPServerSession } from 'smtp-server';
import type { AppContext } from '../context.ts';
import { smtpReply } from '../events.ts';
import type { Logger } from '../log.ts';
import { smtpServerResolver } from './dns.ts';
import { isSmtpReply, replies, type SmtpReply } from './replies.ts';

export interface SmtpListener {
  port: number;
  close(): Promise<void>;
}

/** The name we greet with and put in trace fields: the host of the node's public URL. */
export const serverName = (ctx: AppContext): string => new URL(ctx.publicUrl).hostname;

export const isLoopback = (host: string): boolean => host === 'localhost' || /^127\./.test(host) || host === '::1' || (isIP(host) === 0 && host.endsWith('.localhost'));

type Callback = (err?: Error | null, msg?: string) => void;

/**
 * Runs a session handler (MAIL, RCPT, DATA) and answers with its outcome: success as 250 (with the
 * handler's text, if any), a refusal as `toReply` maps it, anything unexpected as 451 and logged
 * once here. Every reply is counted by code (`pullmail_smtp_replies_total`).
 */
export function sessionAnswerer(ctx: AppContext, listener: 'mx' | 'submission', log: Logger, toReply: (err: unknown) => SmtpReply = (err) => (isSmtpReply(err) ? err : replies.localError())) {
  return (session: SMTPServerSession, what: string, cb: Callback, fn: () => Promise<string | void>): void => {
    fn().then(
      (msg) => {
        smtpReply(ctx, { listener, code: 250, session: session.id });
        cb(null, msg ?? undefined);
      },
      (err: unknown) => {
        const reply = toReply(err);
        if (!isSmtpReply(err) && reply.responseCode === 451) log.error({ err, sid: session.id, what }, 'smtp handler failed');
        smtpReply(ctx, { listener, code: reply.responseCode, session: session.id, detail: `${what}: ${reply.message}` });
        cb(reply);
      },
    );
  };
}

/** The greeting pause both listeners take from the config. */
export const greetPause = (ctx: AppContext): GreetPause => ({ pauseMs: ctx.config.smtpGreetPauseMs, rememberMs: ctx.config.smtpGreetRememberMs });

/** Options every gateway listener shares; TLS material from PULLMAIL_TLS_* enables STARTTLS. */
export function baseOptions(ctx: AppContext): SMTPServerOptions {
  const tls = ctx.config.tls;
  return {
    name: serverName(ctx),
    secure: false,
    ...(tls ? { key: tls.key, cert: tls.cert } : {}),
    size: ctx.config.maxMessageBytes,
    // our replies carry their own enhanced codes in the text (smtp/replies.ts)
    hideENHANCEDSTATUSCODES: true,
    hideDSN: true,
    resolver: smtpServerResolver(ctx.resolver),
    socketTimeout: 120_000,
    // one more connection than this gets 421 (load shedding, never a hang)
    maxClients: ctx.config.smtpMaxClients,
    closeTimeout: 5_000,
    logger: false,
  };
}

/** Most client addresses a listener remembers as having waited for the greeting (least recently seen dropped). */
const GREETED_ENTRIES = 100_000;

/** When a listener greets: the pause for addresses it does not know, and how long it remembers one that waited. */
export interface GreetPause {
  /** 0 greets everyone at once (PULLMAIL_SMTP_GREET_PAUSE_MS). */
  pauseMs: number;
  /** PULLMAIL_SMTP_GREET_REMEMBER_SECONDS, in ms. */
  rememberMs: number;
}

/**
 * smtp-server builds its EHLO reply from a fixed list and has no option for more keywords. This is the
 * one place where ours are added: the EHLO handler of each new connection is wrapped so that its 250
 * reply (one `send` of the reply lines) ends with our keywords.
 * It also caps connections per client address (smtp-server has only a total, `maxClients`): one more
 * gets `421` at once, before the reverse lookup and greeting a connection otherwise costs.
 * And it decides how long a client waits for the greeting (smtp-server's own pause is a fixed 100 ms
 * for everyone): like Postfix's postscreen, only an address it has not seen wait before; one that
 * talks during the pause gets smtp-server's `421 You talk too soon` and is not remembered.
 */
class PullmailSmtpServer extends SMTPServer {
  readonly #keywords: readonly string[];
  readonly #maxPerAddress: number;
  readonly #perAddress = new Map<string, number>();
  readonly #greet: GreetPause;
  /** Addresses that waited for the greeting without talking: greeted at once until they expire. */
  readonly #greeted: LRUCache<string, true>;

  constructor(options: SMTPServerOptions, keywords: readonly string[], maxPerAddress: number, greet: GreetPause) {
    super(options);
    this.#keywords = keywords;
    this.#maxPerAddress = maxPerAddress;
    this.#greet = greet;
    this.#greeted = new LRUCache({ max: GREETED_ENTRIES, ttl: greet.rememberMs, ttlAutopurge: false });
  }

  override connect(socket: Socket, socketOptions?: Parameters<SMTPServer['connect']>[1]): void {
    const address = (socket.remoteAddress ?? '').replace(/^::ffff:/i, '');
    const open = this.#perAddress.get(address) ?? 0;
    if (open >= this.#maxPerAddress) {
      // RFC 5321 §3.1: 421 as the greeting, then close; the client tries again later
      socket.on('error', () => undefined);
      socket.end(`421 4.7.0 ${this.options.name ?? 'pullmail'} Too many connections from your address, try again later\r\n`);
      return;
    }
    this.#perAddress.set(address, open + 1);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      const n = (this.#perAddress.get(address) ?? 1) - 1;
      if (n > 0) this.#perAddress.set(address, n);
      else this.#perAddress.delete(address);
    };
    socket.once('close', release);
    super.connect(socket, socketOptions);
    let newest: SMTPConnection | undefined;
    for (const c of this.connections) newest = c;
    if (!newest) return;
    // the slot is free as soon as the server ends the session (after QUIT's 221, say), not when the
    // socket's close event comes: a client that saw the 221 and reconnected at once would find it taken
    const close = newest.close;
    newest.close = function (this: SMTPConnection) {
      release();
      return close.call(this);
    };
    this.#pauseGreeting(newest, address);
    if (this.#keywords.length) appendEhloKeywords(newest, this.#keywords);
  }

  /**
   * smtp-server's init() has just armed its own 100 ms timer that calls connectionReady (reverse
   * lookup, then the 220 greeting); that call is made a no-op here and ours is made instead, after
   * this listener's pause or at once for an address that waited before. A connection init() already
   * refused (maxClients) or that talked too soon is closing, and is neither greeted nor remembered.
   */
  #pauseGreeting(conn: SMTPConnection, address: string): void {
    const ready = conn.connectionReady.bind(conn);
    conn.connectionReady = () => undefined;
    const greet = () => {
      if (!conn._closing && !conn._closed) ready();
    };
    if (this.#greet.pauseMs === 0 || this.#greeted.has(address)) return greet();
    setTimeout(() => {
      if (!conn._closing && !conn._closed) this.#greeted.set(address, true);
      greet();
    }, this.#greet.pauseMs).unref();
  }
}

function appendEhloKeywords(conn: SMTPConnection, keywords: readonly string[]): void {
  const ehlo = conn.handler_EHLO;
  conn.handler_EHLO = function (this: SMTPConnection, command, callback) {
    const send = this.send;
    // handler_EHLO answers with exactly one send, synchronously: the list of lines on success
    this.send = (code, data, context) => {
      this.send = send;
      return send.call(this, code, code === 250 && Array.isArray(data) ? [...data, ...keywords] : data, context);
    };
    try {
      ehlo.call(this, command, callback);
    } finally {
      this.send = send;
    }
  };
}

/**
 * Starts one listener; `ehloKeywords` are added to its EHLO reply (the MX advertises CRI). At most
 * `maxPerAddress` connections from one client address (PULLMAIL_SMTP_MAX_CLIENTS_PER_IP), and
 * `options.maxClients` in all, are served at once; more get 421. `at.greet`: the greeting pause for
 * addresses not seen before (PULLMAIL_SMTP_GREET_PAUSE_MS, PULLMAIL_SMTP_GREET_REMEMBER_SECONDS).
 */
export async function startListener(options: SMTPServerOptions, at: { host: string; port: number; maxPerAddress: number; greet: GreetPause }, log: Logger, ehloKeywords: readonly string[] = []): Promise<SmtpListener> {
  const server = new PullmailSmtpServer(options, ehloKeywords, at.maxPerAddress, at.greet);
  server.on('error', (err) => log.warn({ err: err.message }, 'smtp connection error'));
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(at.port, at.host, () => {
      server.server.off('error', reject);
      resolve();
    });
  });
  const port = (server.server.address() as { port: number }).port;
  log.info({ host: at.host, port }, 'smtp listener started');
  return {
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
