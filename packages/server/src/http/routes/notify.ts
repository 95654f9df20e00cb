// POST /pm/v1/notify and /pm/v1/notify/batch (protocol §2): verify, then hand to the recipient side
// (a batch: delivery/notify-batch.ts).
import { MAX_BATCH, type NotifyResult } from '@pullmail/client/wire';
import type { Context, Hono } from 'hono';
import { z } from 'zod';
import type { AppContext } from '../../context.ts';
import { seconds } from '../../context.ts';
import { answerBatch } from '../../delivery/notify-batch.ts';
import { receiveNotification } from '../../delivery/receive.ts';
import { PullmailError } from '../../errors.ts';
import { notificationAnswered } from '../../events.ts';
import { verifyNotification } from '../../protocol/notification.ts';
import { readJson } from '../body.ts';
import { clientAddress } from '../client-address.ts';

const batchSchema = z.object({ notifications: z.array(z.string()).min(1).max(MAX_BATCH, `at most ${MAX_BATCH} notifications per batch`) });

export function notifyRoutes(app: Hono, ctx: AppContext): void {

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
    return c.json({ results: await answerBatch(ctx, notifications, clientAddress(c)) });
  });
}
