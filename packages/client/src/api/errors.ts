// Errors the SDK throws: the node answered with an error (`PullmailApiError`, carrying the server's
// `{error, detail}`), or it could not be reached at all (`PullmailNetworkError`). Callers switch on
// `code`, never on message text.
import type { ApiError, ProtocolError } from '../wire/index.ts';

/** The server's `error` field; known codes autocomplete, others (newer servers) pass through. */
export type ApiErrorCode = ApiError | ProtocolError | (string & {});

/** The node answered, with a non-2xx status. */
export class PullmailApiError extends Error {
  /** HTTP status, e.g. 401, 404, 409. */
  readonly status: number;
  /**
   * The server's `error` code; derived from the status when the body was not a pullmail error, and
   * `bad_response` when a successful answer was not the JSON expected (the URL is not a pullmail node).
   */
  readonly code: ApiErrorCode;
  /** The server's `detail`, or the start of a non-JSON body. */
  readonly detail: string;
  /** Seconds from a `Retry-After` header (429, 503), when present. */
  readonly retryAfterSeconds?: number;

  constructor(opts: { status: number; code: ApiErrorCode; detail: string; method: string; url: string; retryAfterSeconds?: number }) {
    super(`${opts.method} ${opts.url}: ${opts.status} ${opts.code}${opts.detail ? `: ${opts.detail}` : ''}`);
    this.name = 'PullmailApiError';
    this.status = opts.status;
    this.code = opts.code;
    this.detail = opts.detail;
    this.retryAfterSeconds = opts.retryAfterSeconds;
  }

  /** The token is missing, wrong or not allowed to do this (401, 403). */
  get isAuth(): boolean {
    return this.status === 401 || this.status === 403;
  }
}

export type NetworkErrorCode = 'refused' | 'not_found' | 'timeout' | 'tls' | 'reset' | 'bad_url' | 'network';

/** No HTTP answer: connection refused, DNS failure, timeout, TLS failure. */
export class PullmailNetworkError extends Error {
  readonly code: NetworkErrorCode;
  /** The URL that could not be reached. */
  readonly url: string;

  constructor(code: NetworkErrorCode, url: string, message: string, cause?: unknown) {
    super(message, { cause });
    this.name = 'PullmailNetworkError';
    this.code = code;
    this.url = url;
  }
}

const STATUS_CODES: Record<number, ApiError> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  413: 'too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
  503: 'unavailable',
};

/** The code to report when a response carries no pullmail error body (a proxy page, an old server). */
export function codeForStatus(status: number): ApiError {
  return STATUS_CODES[status] ?? (status >= 500 ? 'internal' : 'bad_request');
}

/** Walks `cause` chains (fetch wraps the socket error) for a system error code such as ECONNREFUSED. */
function systemCode(err: unknown): string | undefined {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (typeof e.code === 'string') return e.code;
  }
  return undefined;
}

/** Classifies a fetch() rejection; `url` is what was asked for. */
export function networkError(err: unknown, url: string, timeoutMs: number): PullmailNetworkError {
  const name = (err as { name?: string })?.name;
  if (name === 'TimeoutError') return new PullmailNetworkError('timeout', url, `no answer from ${safeOrigin(url)} within ${timeoutMs} ms`, err);
  const sys = systemCode(err) ?? '';
  const origin = safeOrigin(url);
  if (sys === 'ECONNREFUSED') return new PullmailNetworkError('refused', url, `cannot reach ${origin}: connection refused`, err);
  if (sys === 'ENOTFOUND' || sys === 'EAI_AGAIN') return new PullmailNetworkError('not_found', url, `cannot reach ${origin}: the host name does not resolve`, err);
  if (sys === 'ECONNRESET' || sys === 'UND_ERR_SOCKET' || sys === 'EPIPE') return new PullmailNetworkError('reset', url, `cannot reach ${origin}: the connection was closed unexpectedly`, err);
  if (sys.includes('TIMEOUT') || sys === 'ETIMEDOUT') return new PullmailNetworkError('timeout', url, `cannot reach ${origin}: no answer in time`, err);
  if (/CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/i.test(sys)) {
    return new PullmailNetworkError('tls', url, `cannot reach ${origin}: TLS failed (${sys})`, err);
  }
  const reason = (err as Error)?.cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error)?.message;
  return new PullmailNetworkError('network', url, `cannot reach ${origin}${reason ? `: ${reason}` : ''}`, err);
}

function safeOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}
