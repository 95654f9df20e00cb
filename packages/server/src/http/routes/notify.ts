// POST /pm/v1/notify and /pm/v1/notify/batch (protocol §2): verify, then hand to the recipient side
// (a batch all at once: delivery/receive-batch.ts).
import { MAX_BATCH, type NotificationClaims, type NotifyResult } from '@pullmail/client/wire';
import type { Context, Hono } from 'hono';
import { z } from 'zod';
import type { AppContext } from '../../context.ts';
import { seconds } from '../../context.ts';
import { receiveNotification } from '../../delivery/receive.ts';
import { receiveNotifications } from '../../delivery/receive-batch.ts';
import { PullmailError } from '../../errors.ts';
import { notificationAnswered } from '../../events.ts';
import { verifyNotification } from '../../protocol/notification.ts';
import { mapLimit } from '../../queue/map-limit.ts';
import { readJson } from '../body.ts';
import { clientAddress } from '../client-address.ts';

const batchSchema = z.object({ notifications: z.array(z.string()).min(1).max(MAX_BATCH, `at most ${MAX_BATCH} notifications per batch`) });

export function notifyRoutes(app: Hono, ctx: AppContext): void {
  const log = ctx.log.child({ sub: 'notify' });

  async function handle(jws: string, client: string): Promise<NotifyResult> {
    const claims = await verifyNotification(jws, { ourDomains: ctx.config.domains, peerKeys: ctx.peerKeys, discovery: ctx.discovery, client }, seconds(ctx));
    // rate limits are taken in receiveNotification, after the answer to a retry has been looked up
    const result = await receiveNotification(ctx, claims);
    notificationAnswered(ctx, { iss: claims.iss, msgId: claims.msg.id, rcpt: claims.msg.rcpt, kind: claims.kind, result });
    return result;
  }

  // protocol §2: malformed input is a 400, the wrong Content-Type included (no 415 between nodes)
  const requireType = (c: Context, type: RegExp, name: string) => {
    if (!type.test(c.req.header('content-type') ?? '')) throw new PullmailError('bad_request', `expected Content-Type: ${name}`);
  };

  app.post('/pm/v1/notify', async (c) => {
    requireType(c, /^application\/jose\b/i, 'application/jose');
    const jws = (await c.req.text()).trim();
    return c.json(await handle(jws, clientAddress(c)));
  });

  app.post('/pm/v1/notify/batch', async (c) => {
    requireType(c, /^application\/json\b/i, 'application/json');
    const { notifications } = await readJson(c, batchSchema);
    const client = clientAddress(c);
    const results: (NotifyResult | { error: string; detail: string })[] = new Array(notifications.length);
    const verified: { i: number; claims: NotificationClaims }[] = [];
    const deps = { ourDomains: ctx.config.domains, peerKeys: ctx.peerKeys, discovery: ctx.discovery, client };
    // a few at a time: the first item of an unknown sender fetches its keys, the others wait for them
    await mapLimit([...notifications.keys()], 16, async (i) => {
      try {
        verified.push({ i, claims: await verifyNotification(notifications[i], deps, seconds(ctx)) });
      } catch (err) {
        // a temporary failure answers the whole batch; the sender retries it, the answered items idempotently
        if (!(err instanceof PullmailError) || err.temporary || err.code === 'rate_limited') throw err;
        log.info({ code: err.code, detail: err.message }, 'batch item refused');
        results[i] = { error: err.code, detail: err.message };
      }
    });
    verified.sort((x, y) => x.i - y.i);
    // rate limits are taken in receiveNotifications, after the answers to retries have been looked up
    const answers = await receiveNotifications(ctx, verified.map((v) => v.claims));
    for (const [j, { i, claims }] of verified.entries()) {
      results[i] = answers[j];
      notificationAnswered(ctx, { iss: claims.iss, msgId: claims.msg.id, rcpt: claims.msg.rcpt, kind: claims.kind, result: answers[j] });
    }
    return c.json({ results });
  });
}
