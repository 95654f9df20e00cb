// One `/pm/v1/notify/batch` request (protocol §2): every item verified (a few at a time on the thread
// pool), then the verified ones answered together by receive-batch.ts. Taking a large batch in slices,
// so that one slice's checks run while PostgreSQL works on the one before, was measured and lost: the
// route is CPU-bound on two cores (checks, the node's share of the transaction and PostgreSQL's keep
// both busy), and every slice pays the transaction's fixed statements again (bench/README.md, round 5).
import type { NotificationClaims, NotifyResult } from '@pullmail/client/wire';
import type { AppContext } from '../context.ts';
import { seconds } from '../context.ts';
import { PullmailError } from '../errors.ts';
import { notificationAnswered } from '../events.ts';
import { verifyNotification } from '../protocol/notification.ts';
import { mapLimit } from '../queue/map-limit.ts';
import { receiveNotifications } from './receive-batch.ts';

export type BatchItemResult = NotifyResult | { error: string; detail: string };

/** Signature checks in flight: the first item of an unknown sender fetches its keys, the others wait for them. */
const VERIFY_IN_FLIGHT = 16;

/**
 * Answers each of `notifications` (compact JWSs) in order: a refusal of its own for an item that does not
 * verify, else what receiveNotifications decides.
 * @throws PullmailError temporary or `rate_limited`: the whole batch is answered with it and the sender
 *   retries it whole
 */
export async function answerBatch(ctx: AppContext, notifications: readonly string[], client: string): Promise<BatchItemResult[]> {
  const log = ctx.log.child({ sub: 'notify' });
  const deps = { ourDomains: ctx.config.domains, peerKeys: ctx.peerKeys, discovery: ctx.discovery, client };
  const results: BatchItemResult[] = new Array(notifications.length);

  const verified: { i: number; claims: NotificationClaims }[] = [];
  await mapLimit([...notifications.keys()], VERIFY_IN_FLIGHT, async (i) => {
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
  return results;
}
