// A failed attempt at a delivery, recorded the same way by the notify queue and the SMTP hand-over:
// a permanent error ends it as `failed`; a temporary one is retried with backoff (or after the peer's
// Retry-After) until the retry period is over, and then ends as `expired`.
import type { AppContext } from '../context.ts';
import { owedNotification, recordFailure } from '../store/deliveries.ts';
import type { DeliveryRow } from '../store/messages.ts';
import { backoffMs } from './poller.ts';

/** Records the failure; returns true when the delivery was given up. */
export async function failAttempt(ctx: AppContext, d: DeliveryRow, f: { error: string; temporary: boolean; retryAfterMs?: number }): Promise<boolean> {
  const now = ctx.now();
  const giveUp = !f.temporary || now >= d.giveUpAt.getTime();
  await recordFailure(ctx.db, owedNotification(d), giveUp
    ? { error: f.error, finalState: f.temporary ? 'expired' : 'failed' }
    : { error: f.error, retryAt: new Date(now + (f.retryAfterMs ?? backoffMs(d.attempts))) });
  return giveUp;
}
