// One HTTP exchange with a node: URL building, bearer auth, timeouts, and the mapping of failures to
// PullmailApiError / PullmailNetworkError. Works with Node's global fetch or undici's fetch.
import { PullmailApiError, codeForStatus, networkError } from './errors.ts';

/** What the SDK hands to fetch; `dispatcher` is undici's (Node's fetch accepts it too). */
export interface FetchInit {
  method: string;
  headers: Record<string, string>;
  body?: string | Uint8Array | ReadableStream<Uint8Array>;
  /** `'half'` with a stream body: fetch requires it to send a body that is still being produced. */
  duplex?: 'half';
  /** `'error'` with `window: null` for a stream body: else fetch clones the request to be able to follow a
   * redirect, and the clone keeps a copy of every byte sent (undici tees the stream). */
  redirect?: 'error';
  window?: null;
  signal?: AbortSignal;
  // any: undici's and Node's RequestInit each name their own Dispatcher type
  dispatcher?: any;
}

/** The part of a fetch Response the SDK reads. */
export interface FetchResponseLike {
  status: number;
  headers: { get(name: string): string | null };
  text(): Promise<string>;
  arrayBuffer(): Promise<ArrayBuffer>;
}

export type FetchLike = (url: string, init: FetchInit) => Promise<FetchResponseLike>;

export interface TransportOptions {
  baseUrl: string;
  fetch?: FetchLike;
  dispatcher?: unknown;
  /** Per request, headers to last byte; default 30 000. */
  timeoutMs?: number;
  userAgent?: string;
}

export interface CallOptions {
  /** Bearer token, or none. */
  token?: string;
  json?: unknown;
  /** A stream is sent chunked, as it is read (Transfer-Encoding: chunked). */
  body?: string | Uint8Array | AsyncIterable<Uint8Array>;
  contentType?: string;
  query?: Record<string, string | number | undefined>;
}

export interface Transport {
  readonly baseUrl: string;
  /** Sends the request; resolves with the response when the status is 2xx, throws otherwise. */
  call(method: string, path: string, opts?: CallOptions): Promise<FetchResponseLike>;
  /** `call`, then the body parsed as JSON; a body that is not JSON is a PullmailApiError `bad_response`. */
  json<T>(method: string, path: string, opts?: CallOptions): Promise<T>;
}

/** Checks and normalises a node's base URL (`https://mail.example`, no path); throws TypeError when unusable. */
export function normalizeBaseUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new TypeError(`not a URL: ${JSON.stringify(raw)} (expected e.g. https://mail.example.org)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`the node URL must be http(s): ${raw}`);
  if (url.search || url.hash) throw new TypeError(`the node URL takes no query or fragment: ${raw}`);
  return url.href.replace(/\/+$/, '');
}

export function createTransport(opts: TransportOptions): Transport {
  const baseUrl = normalizeBaseUrl(opts.baseUrl);
  const doFetch: FetchLike = opts.fetch ?? (globalThis.fetch as unknown as FetchLike);
  const timeoutMs = opts.timeoutMs ?? 30_000;

  const transport: Transport = {
    baseUrl,
    async call(method, path, call = {}) {
      const url = new URL(`${baseUrl}${path}`);
      for (const [k, v] of Object.entries(call.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
      const headers: Record<string, string> = { accept: 'application/json' };
      if (opts.userAgent) headers['user-agent'] = opts.userAgent;
      if (call.token) headers.authorization = `Bearer ${call.token}`;
      let body: FetchInit['body'];
      if (call.json !== undefined) {
        headers['content-type'] = 'application/json';
        body = JSON.stringify(call.json);
      } else {
        if (call.contentType) headers['content-type'] = call.contentType;
        const b = call.body;
        body = b === undefined || typeof b === 'string' || b instanceof Uint8Array ? b : pullStream(b);
      }
      const init: FetchInit = { method, headers, body, signal: AbortSignal.timeout(timeoutMs) };
      if (body instanceof ReadableStream) Object.assign(init, { duplex: 'half', redirect: 'error', window: null });
      if (opts.dispatcher !== undefined) init.dispatcher = opts.dispatcher;

      let res: FetchResponseLike;
      try {
        res = await doFetch(url.href, init);
      } catch (err) {
        throw networkError(err, url.href, timeoutMs);
      }
      if (res.status >= 200 && res.status < 300) return res;
      throw await apiError(res, method, url.href);
    },
    async json<T>(method: string, path: string, call?: CallOptions): Promise<T> {
      const res = await transport.call(method, path, call);
      const text = await res.text();
      try {
        return JSON.parse(text) as T;
      } catch {
        // a web page where a node was expected, typically: the URL points at something else
        const detail = `the answer is not JSON (is ${baseUrl} a pullmail node?): ${text.replace(/\s+/g, ' ').trim().slice(0, 80)}`;
        throw new PullmailApiError({ status: res.status, code: 'bad_response', detail, method, url: `${baseUrl}${path}` });
      }
    },
  };
  return transport;
}

/** A web stream that reads `source` only as fetch asks for more (no buffering ahead). */
function pullStream(source: AsyncIterable<Uint8Array>): ReadableStream<Uint8Array> {
  const it = source[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await it.next();
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    },
    async cancel(reason) {
      await it.return?.(reason);
    },
  });
}

async function apiError(res: FetchResponseLike, method: string, url: string): Promise<PullmailApiError> {
  let text = '';
  try {
    text = await res.text();
  } catch {
    // the status alone still says what happened
  }
  let code: string = codeForStatus(res.status);
  let detail = text.replace(/\s+/g, ' ').trim().slice(0, 200);
  try {
    const body = JSON.parse(text) as { error?: unknown; detail?: unknown };
    if (typeof body.error === 'string') {
      code = body.error;
      detail = typeof body.detail === 'string' ? body.detail : '';
    }
  } catch {
    // not a pullmail error body (a proxy page, say): keep the status-derived code
  }
  const retry = Number(res.headers.get('retry-after'));
  return new PullmailApiError({ status: res.status, code, detail, method, url, ...(Number.isFinite(retry) && retry > 0 ? { retryAfterSeconds: retry } : {}) });
}
