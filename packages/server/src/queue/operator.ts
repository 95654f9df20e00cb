// What an operator does to the outbound queue (admin UI "Queue", docs/web.md): look at it, try one
// delivery again now, or give one up. The workers need no change: a due row is claimed as any other.
import { DELIVERY_STATES, type DeliveryState } from '@pullmail/client/wire';
import type { AppContext } from '../context.ts';
import { PullmailError } from '../errors.ts';
import { countDeliveriesByState } from '../store/stats.ts';
import { listQueueDeliveries, makeDueNow, stopTrying, type QueuedDelivery } from '../store/queue-admin.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** The reason a delivery given up by the operator shows, in the API and to the sender. */
export const GIVEN_UP = 'given up by the operator';

export interface QueueOverview {
  /** Every delivery state with how many deliveries are in it (zero included, in wire order). */
  counts: { state: DeliveryState; n: number }[];
  /** What the list shows: `state`, or undefined for "still owing something". */
  shown: DeliveryState | undefined;
  deliveries: QueuedDelivery[];
}

export function parseDeliveryState(raw: string | undefined): DeliveryState | undefined {
  return DELIVERY_STATES.find((s) => s === raw);
}

export async function queueOverview(ctx: Pick<AppContext, 'db'>, state?: DeliveryState, limit = 100): Promise<QueueOverview> {
  const byState = new Map((await countDeliveriesByState(ctx.db)).map((r) => [r.state, r.n]));
  return {
    counts: DELIVERY_STATES.map((s) => ({ state: s, n: byState.get(s) ?? 0 })),
    shown: state,
    deliveries: await listQueueDeliveries(ctx.db, { state, limit }),
  };
}

/** @throws not_found when the delivery owes nothing (done, given up, or no such id) */
export async function retryNow(ctx: Pick<AppContext, 'db' | 'now' | 'kick'>, id: string): Promise<void> {
  if (!UUID.test(id) || !(await makeDueNow(ctx.db, id, new Date(ctx.now())))) throw new PullmailError('not_found', 'no delivery waiting to be sent with that id');
  ctx.kick('notify');
}

/** @throws not_found when the delivery owes nothing */
export async function giveUp(ctx: Pick<AppContext, 'db'>, id: string): Promise<void> {
  if (!UUID.test(id) || !(await stopTrying(ctx.db, id, GIVEN_UP))) throw new PullmailError('not_found', 'no delivery waiting to be sent with that id');
}
