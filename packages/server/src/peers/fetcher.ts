// The one place outbound HTTP to peers is made: a pooled undici Agent with timeouts, response size caps
// and the private-address guard (unless PULLMAIL_ALLOW_PRIVATE_PEERS). Everything in peers/ and queue/
// that talks to another node goes through a Fetcher.
import { isIP } from 'node:net';
import { createSecureContext, rootCertificates } from 'node:tls';
import { Agent, buildConnector, request, type Dispatcher } from 'undici';
import { PullmailError } from '../errors.ts';
import { guardedLookup, isPrivateAddress, privateAddressError } from './address-guard.ts';

export interface FetchOptions {
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Response bodies larger than this are cut off with an error. */
  maxBytes: number;
  /** The whole exchange, body included, must be over within this (the agent's timeouts are per gap). */
  deadlineMs?: number;
}

export interface FetchResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A response whose body is still arriving: read it (to the end, or stop early) exactly once. */
export interface StreamedResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The body in chunks as they arrive; over `maxBytes` it fails with a PullmailError. */
  body: AsyncGenerator<Buffer>;
  /** Drops the body unread and frees the connection (always call it when the body is not read to its end). */
  cancel(): void;
}

export interface Fetcher {
  /** The response with its whole body (at most `maxBytes`). */
  fetch(url: string, opts: FetchOptions): Promise<FetchResponse>;
  /** The response as soon as its headers are in; the body streams (message fetches). */
  open(url: string, opts: FetchOptions): Promise<StreamedResponse>;
  /** The undici dispatcher, for libraries that take one. */
  dispatcher: Dispatcher;
  close(): Promise<void>;
}

export interface FetcherOptions {
  allowPrivate: boolean;
  /** Extra CA certificates (PEM) trusted besides the system roots. */
  trustCa?: string;
  connectTimeoutMs?: number;
  /** Time allowed for response headers and between body chunks. */
  timeoutMs?: number;
}

export function createFetcher(opts: FetcherOptions): Fetcher {
  // one secure context for every connection: parsing the CA list per connection costs ~13 ms each
  const secureContext = opts.trustCa ? createSecureContext({ ca: [...rootCertificates, opts.trustCa] }) : undefined;
  const connector = buildConnector({
    ...(secureContext ? { secureContext } : {}),
    timeout: opts.connectTimeoutMs ?? 10_000,
    ...(opts.allowPrivate ? {} : { lookup: guardedLookup as never }),
  });
  const agent = new Agent({
    connections: 32,
    headersTimeout: opts.timeoutMs ?? 30_000,
    bodyTimeout: opts.timeoutMs ?? 30_000,
    connect: (connectOpts, callback) => {
      const host = connectOpts.hostname.replace(/^\[|\]$/g, '');
      if (!opts.allowPrivate && isIP(host) && isPrivateAddress(host)) return callback(privateAddressError(host), null);
      connector(connectOpts, callback);
    },
  });

  async function open(url: string, fo: FetchOptions): Promise<StreamedResponse> {
    let res: Dispatcher.ResponseData;
    try {
      const signal = fo.deadlineMs ? AbortSignal.timeout(fo.deadlineMs) : undefined;
      res = await request(url, { method: fo.method ?? 'GET', headers: fo.headers, body: fo.body, dispatcher: agent, signal });
    } catch (err) {
      if (err instanceof PullmailError) throw err;
      const cause = (err as { cause?: unknown }).cause;
      if (cause instanceof PullmailError) throw cause;
      throw new PullmailError('peer_unreachable', `${new URL(url).origin}: ${(err as Error).message}`, { cause: err, temporary: true });
    }
    const length = Number(res.headers['content-length'] ?? 0);
    if (length > fo.maxBytes) {
      res.body.destroy();
      throw new PullmailError('peer_error', `${url}: response of ${length} bytes exceeds ${fo.maxBytes}`);
    }
    async function* chunks(): AsyncGenerator<Buffer> {
      let total = 0;
      try {
        for await (const chunk of res.body) {
          total += chunk.length;
          if (total > fo.maxBytes) throw new PullmailError('peer_error', `${url}: response exceeds ${fo.maxBytes} bytes`);
          yield chunk;
        }
      } catch (err) {
        if (err instanceof PullmailError) throw err;
        throw new PullmailError('peer_unreachable', `${url}: ${(err as Error).message}`, { cause: err, temporary: true });
      } finally {
        // stopped early (an error here or in the consumer): free the connection
        if (!res.body.readableEnded) res.body.destroy();
      }
    }
    return {
      status: res.statusCode,
      headers: res.headers,
      body: chunks(),
      cancel: () => {
        if (!res.body.readableEnded) res.body.destroy();
      },
    };
  }

  async function fetch(url: string, fo: FetchOptions): Promise<FetchResponse> {
    const res = await open(url, fo);
    const parts: Buffer[] = [];
    for await (const chunk of res.body) parts.push(chunk);
    return { status: res.status, headers: res.headers, body: Buffer.concat(parts) };
  }

  return { fetch, open, dispatcher: agent, close: () => agent.close() };
}
