// Periodic housekeeping: unanswered held requests and challenges expire (the sender learns it on its
// next recheck), and single-use token ids past their lifetime are forgotten.
import { and, inArray, lt } from 'drizzle-orm';
import type { AppContext } from '../context.ts';
import type { Worker } from '../server.ts';
import { inbound } from '../store/schema.ts';
import { overrideAnswers, pruneJtis } from '../store/replay.ts';
import { createPoller } from './poller.ts';

export function maintenanceWorker(ctx: AppContext): Worker {
  const log = ctx.log.child({ sub: 'maintenance' });
  return createPoller({
    name: 'maintenance',
    pollMs: Math.max(ctx.config.queuePollMs, 60_000),
    batch: Number.POSITIVE_INFINITY,
    kickable: false, // housekeeping runs on its own clock, not on every new message
    log,
    async tick() {
      const now = new Date(ctx.now());
      const cutoff = new Date(now.getTime() - ctx.config.requestExpirySeconds * 1000);
      const expired = await ctx.db.transaction(async (tx) => {
        const rows = await tx
          .update(inbound)
          .set({ state: 'expired', cap: null, raw: null })
          .where(and(inArray(inbound.state, ['held', 'challenged']), lt(inbound.receivedAt, cutoff)))
          .returning({ iss: inbound.iss, remoteId: inbound.remoteId, rcpt: inbound.rcpt });
        for (const r of rows) await overrideAnswers(tx, r, { decision: 'reject', reason: 'expired' });
        return rows.length;
      });
      if (expired) log.info({ expired }, 'held requests expired');
      await pruneJtis(ctx.db, now);
      return 0;
    },
  });
}
