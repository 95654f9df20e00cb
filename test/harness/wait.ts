// Waiting on a condition instead of sleeping: poll until it holds, or drain a queue until nothing is due.
import { and, count, isNotNull, lte } from 'drizzle-orm';
import type { AppContext } from '../../packages/server/src/context.ts';
import { deliveries } from '../../packages/server/src/store/schema.ts';

/** Polls `check` every `intervalMs` until it returns a truthy value or `timeoutMs` passes (then throws with `what`). */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 15_000, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * Kicks a node's outbound queue until no delivery owes a notification or hand-off that is due now
 * (work in backoff is not due). After it, whatever the node had queued has reached its peer or relay.
 */
export async function drainOutbound(ctx: AppContext, timeoutMs = 15_000): Promise<void> {
  await waitFor('the outbound queue to finish what is due', async () => {
    const [due] = await ctx.db.select({ n: count() }).from(deliveries).where(and(isNotNull(deliveries.notifyKind), lte(deliveries.nextAttemptAt, new Date(ctx.now()))));
    if (Number(due.n) === 0) return true;
    ctx.kick('notify');
    return false;
  }, timeoutMs);
}
