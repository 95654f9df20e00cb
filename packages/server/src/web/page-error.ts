// What a web page says about an error, and with which status (docs/web.md): the API's mapping
// (http/errors.ts) decides the status and logs the error, once; the words are the error's own when the
// user can act on them, a plain apology when the fault is ours. The area's error page and a form shown
// again with its input (web/mail/compose.ts) both start here.
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { PullmailError } from '../errors.ts';
import { errorResponse } from '../http/errors.ts';
import type { Logger } from '../log.ts';

export interface PageError {
  status: ContentfulStatusCode;
  title: string;
  text: string;
  /** Seconds, as the API's Retry-After header says them (429). */
  retryAfter?: string;
}

export function pageError(c: Context, err: unknown, log: Logger): PageError {
  const mapped = errorResponse(c, err, log);
  const status = mapped.status as ContentfulStatusCode;
  const text = err instanceof PullmailError && status < 500 ? err.message : 'Something went wrong on the server. Please try again.';
  const title = status === 404 ? 'Not found' : status === 429 ? 'Too many requests' : status === 413 ? 'Too large' : status < 500 ? 'That did not work' : 'Server error';
  return { status, title, text, retryAfter: mapped.headers.get('retry-after') ?? undefined };
}
