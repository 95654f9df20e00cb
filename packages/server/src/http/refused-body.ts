// A request body over the node's limits, on a web page (docs/web.md "Errors"): app.ts enforces the limits
// before any route runs and answers the API in JSON; under a web area (web/app.ts webArea) the same
// refusal is the area's own HTML error page. So there it waits on the context, and the area's first
// middleware throws it, inside the area's error handler and before anything reads the body.
import type { Context, Next } from 'hono';
import type { PullmailError } from '../errors.ts';

declare module 'hono' {
  interface ContextVariableMap {
    /** A body-limit refusal waiting for the web area of the path (refuseBody → takeRefusedBody). */
    refusedBody: PullmailError | undefined;
  }
}

/** The roots of the web areas (`home` of web/app.ts webArea): their refusals are pages. */
export const PAGE_AREAS = ['/mail/', '/admin/'];

/**
 * Refuses the body of this request with `err`: thrown, for the API's JSON, or, under a web area, handed
 * to the area. For bodyLimit's onError (http/app.ts).
 */
export async function refuseBody(c: Context, next: Next, err: PullmailError): Promise<Response> {
  if (!PAGE_AREAS.some((root) => c.req.path.startsWith(root))) throw err;
  c.set('refusedBody', err);
  await next();
  // no area took it (the web UI is not mounted): refused as for the API
  if (c.get('refusedBody')) throw err;
  // the rest of the body is still on the wire: the connection ends with this answer
  c.res.headers.set('connection', 'close');
  return c.res;
}

/** For a web area's first middleware: the refusal to throw there, when the body was over a limit. */
export function takeRefusedBody(c: Context): PullmailError | undefined {
  const err = c.get('refusedBody');
  c.set('refusedBody', undefined);
  return err;
}
