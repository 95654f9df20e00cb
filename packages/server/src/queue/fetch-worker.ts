// The pull side (protocol §4): claims pending fetches, gets each message's bytes (from the sender's node
// through peers/fetch-client.ts, or from this node), and records what came of it once.
import { domainOf } from '../address.ts';
import type { AppContext } from '../context.ts';
import { seconds } from '../context.ts';
import { fetchMessage } from '../delivery/serve-fetch.ts';
import { PullmailError } from '../errors.ts';
import { fetchNotCompleted, messageFetched } from '../events.ts';
import { fetchFromPeer, type BodySink } from '../peers/fetch-client.ts';
import { createProof } from '../protocol/proof.ts';
import type { Worker } from '../server.ts';
import { discardBlob, spoolBody } from '../store/bodies.ts';
import { claimDueFetches, renewFetchLease, storeFetched, updateFetching, type InboundRow } from '../store/inbound.ts';
import { fetchUpdate, type FetchResult, type FetchUpdate } from './fetch-updates.ts';
import { backoffMs, createPoller } from './poller.ts';

/** Fetches in flight per process; a sender node that is slow to answer holds its own slots only. */
const CONCURRENCY = 32;
/** The longest one fetch of a message may take, body included. */
const FETCH_DEADLINE_MS = 10 * 60_000;
/** How long a pending fetch is retried before it is given up. */
const GIVE_UP_MS = 5 * 86_400_000;

export function fetchWorker(ctx: AppContext): Worker {
  const log = ctx.log.child({ sub: 'fetch' });
  const inFlight = new Set<Promise<void>>();
  const poller = createPoller({
    name: 'fetch',
    pollMs: ctx.config.queuePollMs,
    batch: CONCURRENCY,
    log,
    async tick() {
      // claim in batches of at least half the slots, so a claim query serves many fetches
      while (inFlight.size > CONCURRENCY / 2) await Promise.race(inFlight);
      const free = CONCURRENCY - inFlight.size;
      const rows = await claimDueFetches(ctx.db, new Date(ctx.now()), free, ctx.config.queueLeaseSeconds * 1000, ctx.leaseOwner);
      // each fetch goes on by itself: the next tick does not wait for a sender node that is slow to answer
      for (const row of rows) {
        const task: Promise<void> = pull(ctx, row)
          .catch((err) => log.error({ err, id: row.id }, 'fetch crashed'))
          .finally(() => inFlight.delete(task));
        inFlight.add(task);
      }
      // every free slot taken: more may be due, so look again (once slots free up) without waiting a poll
      return rows.length === free ? CONCURRENCY : rows.length;
    },
  });
  return {
    ...poller,
    async stop() {
      await poller.stop();
      await Promise.all(inFlight);
    },
  };
}

async function pull(ctx: AppContext, row: InboundRow): Promise<void> {
  const now = ctx.now();
  const started = performance.now();
  const ids = { iss: row.iss, msgId: row.remoteId, rcpt: row.rcpt };
  // a large body from a slow node may take longer than the lease: keep it, so no other pass claims the row
  const leaseMs = ctx.config.queueLeaseSeconds * 1000;
  const renew = setInterval(() => {
    renewFetchLease(ctx.db, row.id, new Date(ctx.now() + leaseMs)).catch((err) => ctx.log.warn({ err, id: row.id }, 'could not renew a fetch lease'));
  }, leaseMs / 3);
  let result: FetchResult;
  try {
    result = await obtain(ctx, row);
  } catch (err) {
    result = err instanceof PullmailError && err.code === 'retracted'
      ? { outcome: 'retracted' }
      : err instanceof PullmailError
        ? { outcome: 'error', code: err.code, detail: err.message, temporary: err.temporary }
        : { outcome: 'error', code: 'peer_error', detail: String(err), temporary: true };
  } finally {
    clearInterval(renew);
  }
  const u = fetchUpdate(row, result, { now, backoffMs: backoffMs(row.attempts), giveUpMs: GIVE_UP_MS });
  const recorded = await record(ctx, row.id, u, new Date(now));
  const seconds = (performance.now() - started) / 1000;
  if (u.update !== 'store') fetchNotCompleted(ctx, { ...ids, outcome: u.update, code: u.code, detail: u.detail, seconds });
  else if (recorded) messageFetched(ctx, { ...ids, size: u.body.size, version: u.version, seconds });
}

/** Writes the row change; false when a body was not kept because the row moved on meanwhile. */
async function record(ctx: AppContext, id: string, u: FetchUpdate, now: Date): Promise<boolean> {
  switch (u.update) {
    case 'store': {
      if (await storeFetched(ctx.db, id, { body: u.body, version: u.version, now })) return true;
      // retracted, or a newer version announced meanwhile: a blob of this fetch's own is nobody's
      if (u.ownBlob) await discardBlob(ctx.db, u.body.blobId);
      return false;
    }
    case 'retracted':
      await updateFetching(ctx.db, id, { state: 'retracted', leaseUntil: null, cap: null });
      return true;
    case 'failed':
      await updateFetching(ctx.db, id, { state: 'failed', leaseUntil: null, lastError: `${u.code}: ${u.detail}` });
      return true;
    case 'retry':
      await updateFetching(ctx.db, id, { leaseUntil: null, lastError: `${u.code}: ${u.detail}`, nextAttemptAt: u.retryAt });
      return true;
  }
}

/** The message's bytes, from wherever they are. */
async function obtain(ctx: AppContext, row: InboundRow): Promise<FetchResult> {
  // SMTP gateway mail keeps its bytes while held: accepting it needs no fetch
  if (row.via === 'smtp' && (row.raw || row.blobId)) {
    return { outcome: 'found', body: { raw: row.raw, blobId: row.blobId, size: row.size, sha256: row.sha256 ?? '' }, version: row.version };
  }
  // a sender on this node: the inbox names the same bytes (a blob is immutable, so it is shared)
  if (ctx.config.domains.includes(row.iss)) {
    const served = await fetchMessage(ctx, row.remoteId, row.rcpt);
    return { outcome: 'found', body: served.body, version: served.version };
  }
  if (!row.fetchUrl || !row.cap) return { outcome: 'error', code: 'bad_request', detail: 'nothing to fetch with', temporary: false };
  const proof = await createProof(ctx.keys, { iss: domainOf(row.rcpt), url: row.fetchUrl, cap: row.cap }, seconds(ctx));
  return fetchFromPeer(ctx.fetcher, bodySink(ctx), {
    url: row.fetchUrl,
    cap: row.cap,
    proof,
    maxBytes: ctx.config.maxMessageBytes,
    deadlineMs: FETCH_DEADLINE_MS,
    notified: { version: row.version, sha256: row.sha256 },
  });
}

/** Fetched bodies go into the database as they arrive (store/bodies.ts). */
const bodySink = (ctx: AppContext): BodySink => ({
  spool: (source, maxBytes) => spoolBody(ctx.db, source, { maxBytes }),
  discard: (body) => discardBlob(ctx.db, body.blobId),
});
