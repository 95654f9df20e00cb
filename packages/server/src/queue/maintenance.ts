// Periodic housekeeping: unanswered held requests and challenges expire (the sender learns it on its
// next recheck), single-use token ids past their lifetime are forgotten, and so are SMTP-stage
// challenge pages whose tokens can no longer be used (docs/cri.md); message bodies nothing names any
// more (deleted, expired, or an upload that failed half-way) are removed, and so are change-journal
// lines older than a client could still be catching up from (docs/mailbox.md), ended rate-limit
// windows and the heartbeats of long-dead processes (PostgreSQL).
import { and, inArray, lt } from 'drizzle-orm';
import type { AppContext } from '../context.ts';
import { overrideKeptAnswers } from '../delivery/one-copy.ts';
import type { Worker } from '../server.ts';
import { deleteOrphanBlobs, NO_BODY } from '../store/bodies.ts';
import { pruneChallenges } from '../store/challenges.ts';
import { pruneChanges } from '../store/folders.ts';
import { pruneWorkers } from '../store/queue-workers.ts';
import { pruneRateCounters } from '../store/rate-counters.ts';
import { inbound } from '../store/schema.ts';
import { pruneJtis } from '../store/replay.ts';
import { createPoller } from './poller.ts';

/** Longer than any upload or fetch of one message could take. */
const ORPHAN_BLOB_GRACE_MS = 6 * 3_600_000;
/** How long the change journal remembers; a client away longer reads the folder anew. */
const JOURNAL_KEEP_MS = 30 * 86_400_000;

export function maintenanceWorker(ctx: AppContext): Worker {
  const log = ctx.log.child({ sub: 'maintenance' });
  return createPoller({
    name: 'maintenance',
    pollMs: Math.max(ctx.config.queuePollMs, 60_000),
    batch: Number.POSITIVE_INFINITY,
    kickable: false, // housekeeping runs on its own clock, not on every new message
    log,
    async tick() {
      const expired = await expireRequests(ctx);
      if (expired) log.info({ expired }, 'held requests expired');
      await pruneJtis(ctx.db, new Date(ctx.now()));
      await pruneChallenges(ctx.db, new Date(ctx.now() - ctx.config.allowWindowSeconds * 1000));
      // rate-limit windows that ended over an hour ago (PostgreSQL only; PGlite keeps them in memory)
      if (ctx.database.shared) await pruneRateCounters(ctx.db, new Date(ctx.now() - 3_600_000));
      // processes that died long ago (their leases went free after DEAD_AFTER_SECONDS)
      if (ctx.database.shared) await pruneWorkers(ctx.db, 86_400);
      // a blob is named by its row only once it is complete: leave young ones to the upload writing them
      const blobs = await deleteOrphanBlobs(ctx.db, new Date(ctx.now() - ORPHAN_BLOB_GRACE_MS));
      if (blobs) log.info({ blobs }, 'unused message bodies removed');
      await pruneChanges(ctx.db, new Date(ctx.now() - JOURNAL_KEEP_MS));
      return 0;
    },
  });
}

/** Held and challenged requests older than PULLMAIL_REQUEST_EXPIRY_DAYS become `expired`; returns how many. */
export async function expireRequests(ctx: Pick<AppContext, 'db' | 'now' | 'config'>): Promise<number> {
  const cutoff = new Date(ctx.now() - ctx.config.requestExpirySeconds * 1000);
  return ctx.db.transaction(async (tx) => {
    const rows = await tx
      .update(inbound)
      .set({ state: 'expired', cap: null, ...NO_BODY })
      .where(and(inArray(inbound.state, ['held', 'challenged']), lt(inbound.receivedAt, cutoff)))
      .returning({ iss: inbound.iss, remoteId: inbound.remoteId, rcpt: inbound.rcpt, mailboxId: inbound.mailboxId });
    // the sender learns it on its next recheck, for each address of the mailbox it used
    for (const r of rows) await overrideKeptAnswers(tx, r, { decision: 'reject', reason: 'expired' });
    return rows.length;
  });
}
