// Load shedding and the short body deadline of the pm1 notify endpoints (docs/threat-model.md):
// past PULLMAIL_HTTP_MAX_INFLIGHT requests in progress (PULLMAIL_NOTIFY_MAX_INFLIGHT of them to
// /pm/v1/notify*) a request is answered 503 with Retry-After at once instead of queueing; a notify
// body that has not arrived within PULLMAIL_NOTIFY_BODY_SECONDS has its connection cut (a notification
// is a few KiB: only a trickling client takes that long). Other requests keep the server's long
// request timeout (http/listen.ts), which uploads by signed-in users need.
import type { MiddlewareHandler } from 'hono';
import type { IncomingMessage } from 'node:http';
import { PullmailError } from '../../errors.ts';

export interface LoadLimits {
  maxInflight: number;
  notifyMaxInflight: number;
  notifyBodyMs: number;
}

const isNotify = (path: string) => path === '/pm/v1/notify' || path === '/pm/v1/notify/batch';

export function loadLimits(limits: LoadLimits): MiddlewareHandler {
  let inflight = 0;
  let notifyInflight = 0;
  const busy = () => new PullmailError('unavailable', 'the node is busy; try again shortly', { temporary: true, retryAfter: 1 });
  return async (c, next) => {
    const notify = isNotify(c.req.path);
    if (inflight >= limits.maxInflight || (notify && notifyInflight >= limits.notifyMaxInflight)) throw busy();
    inflight++;
    if (notify) notifyInflight++;
    const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
    let timer: NodeJS.Timeout | undefined;
    if (notify && incoming && !incoming.complete) {
      // the whole body, not only each gap between its bytes, must arrive in time
      timer = setTimeout(() => incoming.socket?.destroy(), limits.notifyBodyMs);
      incoming.once('end', () => clearTimeout(timer));
    }
    try {
      await next();
    } finally {
      clearTimeout(timer);
      inflight--;
      if (notify) notifyInflight--;
    }
  };
}
