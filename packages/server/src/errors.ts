// The node's one error class. `code` is a closed union (wire codes where one exists); http/ and smtp/
// map codes to replies, the queue reads only `temporary` to choose between backoff and giving up.
import type { ApiError, ProtocolError } from '@pullmail/client/wire';

export type ErrorCode = ApiError | ProtocolError | 'peer_unreachable' | 'peer_error' | 'no_route' | 'private_address';

export class PullmailError extends Error {
  readonly code: ErrorCode;
  /** True when trying again later might succeed (network trouble, 5xx, 429). */
  readonly temporary: boolean;
  /** Seconds a peer asked us to wait (429 Retry-After). */
  readonly retryAfter?: number;
  /** HTTP status when it is not the one the code maps to (a malformed token on fetch is a 401). */
  readonly httpStatus?: number;

  constructor(code: ErrorCode, message: string, opts: { cause?: unknown; temporary?: boolean; retryAfter?: number; httpStatus?: number } = {}) {
    super(message, { cause: opts.cause });
    this.name = 'PullmailError';
    this.code = code;
    this.temporary = opts.temporary ?? false;
    this.retryAfter = opts.retryAfter;
    this.httpStatus = opts.httpStatus;
  }
}

export function isPullmailError(err: unknown, code?: ErrorCode): err is PullmailError {
  return err instanceof PullmailError && (code === undefined || err.code === code);
}
