// The hono application: every route of the node, with body limits and one error mapping.
import { Hono, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { requestId } from 'hono/request-id';
import type { AppContext } from '../context.ts';
import { PullmailError } from '../errors.ts';
import { tooLargeDetail } from '../mail/limits.ts';
import { sendBodyLimit } from './body.ts';
import { errorResponse } from './errors.ts';
import { loadLimits } from './middleware/load-limits.ts';
import { refuseBody } from './refused-body.ts';
import { adminRoutes } from './routes/admin.ts';
import { healthRoutes } from './routes/health.ts';
import { wellKnownRoutes } from './routes/well-known.ts';

export type RouteMount = (app: Hono, ctx: AppContext) => void;

/**
 * Builds the app. `mounts` add the routes of later subsystems (protocol, user API) so this file
 * stays the one place where limits and error mapping are set.
 */
export function createApp(ctx: AppContext, mounts: RouteMount[] = []): Hono {
  const app = new Hono();
  const log = ctx.log.child({ sub: 'http' });
  // every response carries X-Request-Id; error lines name it
  app.use('*', requestId({ limitLength: 64 }));
  const { httpMaxInflight, notifyMaxInflight, notifyBodyMs } = ctx.config;
  app.use('*', loadLimits({ maxInflight: httpMaxInflight, notifyMaxInflight, notifyBodyMs }));
  const tooLarge = () => new PullmailError('too_large', 'request body is too large');
  // a send over the limit is told the limit in its own terms (the largest attachment)
  const sendTooLarge = () => new PullmailError('too_large', tooLargeDetail(undefined, ctx.config.maxMessageBytes));
  // the API gets the refusal as JSON, a web page as a page of its area (refused-body.ts)
  const limit = (maxSize: number, refusal: () => PullmailError): MiddlewareHandler => (c, next) =>
    bodyLimit({ maxSize, onError: () => refuseBody(c, next, refusal()) })(c, next);
  // sends carry whole messages, batches up to 500 notifications; everything else is small
  const sendLimit = limit(sendBodyLimit(ctx.config), sendTooLarge);
  const batchLimit = limit(8 * 1024 * 1024, tooLarge);
  const otherLimit = limit(ctx.config.maxRequestBytes, tooLarge);
  app.use('*', (c, next) => {
    const path = c.req.path;
    if (path === '/pm/v1/notify/batch') return batchLimit(c, next);
    // an APPEND to a folder, and each message of an import, carry a whole message too
    const upload = path === '/api/v1/messages' || path.startsWith('/api/v1/messages/') || ((path.startsWith('/api/v1/folders/') || path.startsWith('/api/v1/admin/users/')) && path.endsWith('/messages'))
      // the webmail's compose and edit forms carry attachments
      || path === '/mail/compose';
    if (!upload) return otherLimit(c, next);
    // raw messages are streamed into the store, which counts against PULLMAIL_MAX_MESSAGE_BYTES itself;
    // bodyLimit would read a chunked upload into memory whole to count it
    const streamed = /^message\/rfc822\b/i.test(c.req.header('content-type') ?? '') && c.req.header('transfer-encoding');
    return streamed ? next() : sendLimit(c, next);
  });

  app.route('/', wellKnownRoutes(ctx));
  app.route('/', healthRoutes(ctx));
  app.route('/api/v1/admin', adminRoutes(ctx));
  for (const mount of mounts) mount(app, ctx);

  app.notFound((c) => c.json({ error: 'not_found', detail: `no route for ${c.req.method} ${c.req.path}` }, 404));
  app.onError((err, c) => {
    const res = errorResponse(c, err, log);
    // refused before its body was read (auth failed, the database is down): the body still on the wire
    // would be read for only 500 ms before the socket is cut, possibly under the client's next request;
    // say the connection ends here, so the client never reuses it
    if (c.req.raw.body && !c.req.raw.bodyUsed) res.headers.set('connection', 'close');
    return res;
  });
  return app;
}
