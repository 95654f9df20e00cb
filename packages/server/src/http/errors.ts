// Error -> HTTP response mapping. Peers and clients see a code and a short detail; internals stay in the log.
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { PullmailError, type ErrorCode } from '../errors.ts';
import type { Logger } from '../log.ts';
import { isDatabaseUnavailable } from '../store/db.ts';

const STATUS: Record<ErrorCode, ContentfulStatusCode> = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
  bad_signature: 401,
  unknown_key: 401,
  wrong_audience: 401,
  expired: 401,
  misaligned_sender: 401,
  replayed: 401,
  retracted: 410,
  peer_unreachable: 502,
  peer_error: 502,
  no_route: 502,
  private_address: 502,
};

export function errorResponse(c: Context, err: unknown, log: Logger): Response {
  if (err instanceof PullmailError) {
    const status = (err.httpStatus as ContentfulStatusCode | undefined) ?? STATUS[err.code] ?? 500;
    // errors caused by the other side are info, not error
    log[status >= 500 ? 'warn' : 'info']({ requestId: c.get('requestId'), code: err.code, path: c.req.path, detail: err.message }, 'request refused');
    if (err.retryAfter !== undefined) c.header('Retry-After', String(err.retryAfter));
    return c.json({ error: err.code, detail: err.message }, status);
  }
  const e = err as { status?: number; message?: string };
  if (e.status === 413) return c.json({ error: 'too_large', detail: 'request body is too large' }, 413);
  if (isDatabaseUnavailable(err)) {
    log.warn({ requestId: c.get('requestId'), err, path: c.req.path }, 'database unavailable');
    c.header('Retry-After', '5');
    return c.json({ error: 'unavailable', detail: 'the database cannot take this request now (connection lost, read-only or full); try again later' }, 503);
  }
  log.error({ requestId: c.get('requestId'), err, path: c.req.path }, 'unhandled error');
  return c.json({ error: 'internal', detail: 'internal error' }, 500);
}
