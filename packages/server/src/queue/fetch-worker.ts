// The pull side (protocol §4): fetches accepted messages from the sender's node with capability and
// proof, checks size and Content-Digest, and stores the exact bytes once.
import { AUTH_SCHEME_CAP, HEADER_PROOF, HEADER_VERSION } from '@pullmail/client/wire';
import { domainOf } from '../address.ts';
import type { AppContext } from '../context.ts';
import { seconds } from '../context.ts';
import { fetchMessage } from '../delivery/serve-fetch.ts';
import { PullmailError } from '../errors.ts';
import { fetchNotCompleted, messageFetched } from '../events.ts';
import { createProof } from '../protocol/proof.ts';
import type { Worker } from '../server.ts';
import { digestBase64, discardBlob, spoolBody, type StoredBody } from '../store/bodies.ts';
import { claimDueFetches, renewFetchLease, storeFetched, updateFetching, type InboundRow } from '../store/inbound.ts';
import { backoffMs, createPoller } from './poller.ts';

/** Fetches in flight per process; a sender node that is slow to answer holds its own slots only. */
const CONCURRENCY = 32;
/** The longest one fetch of a message may take, body included. */
const FETCH_DEADLINE_MS = 10 * 60_000;
/** How long a pending fetch is retried before it is given up. */
const GIVE_UP_MS = 5 * 86_400_000;

interface Fetched {
  body: StoredBody;
  version: number;
  /** True when the body is a blob this fetch wrote (and must remove if it is not kept). */
  ownBlob: boolean;
}

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
      const rows = await claimDueFetches(ctx.db, new Date(ctx.now()), free, ctx.config.queueLeaseSeconds * 1000);
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
  const now = new Date(ctx.now());
  const started = performance.now();
  const ids = { iss: row.iss, msgId: row.remoteId, rcpt: row.rcpt };
  const elapsed = () => (performance.now() - started) / 1000;
  // a large body from a slow node may take longer than the lease: keep it, so no other pass claims the row
  const leaseMs = ctx.config.queueLeaseSeconds * 1000;
  const renew = setInterval(() => {
    renewFetchLease(ctx.db, row.id, new Date(ctx.now() + leaseMs)).catch((err) => ctx.log.warn({ err, id: row.id }, 'could not renew a fetch lease'));
  }, leaseMs / 3);
  try {
    const got = await obtain(ctx, row);
    if (await storeFetched(ctx.db, row.id, { body: got.body, version: got.version, now })) {
      messageFetched(ctx, { ...ids, size: got.body.size, version: got.version, seconds: elapsed() });
    } else if (got.ownBlob) {
      // the row moved on meanwhile (retracted, or a newer version announced): the blob is nobody's
      await discardBlob(ctx.db, got.body.blobId);
    }
  } catch (err) {
    const e = err instanceof PullmailError ? err : new PullmailError('peer_error', String(err), { temporary: true, cause: err });
    if (e.code === 'retracted') {
      await updateFetching(ctx.db, row.id, { state: 'retracted', leaseUntil: null, cap: null });
      fetchNotCompleted(ctx, { ...ids, outcome: 'retracted', code: e.code, detail: e.message, seconds: elapsed() });
    } else if (!e.temporary || now.getTime() - row.receivedAt.getTime() > GIVE_UP_MS) {
      await updateFetching(ctx.db, row.id, { state: 'failed', leaseUntil: null, lastError: `${e.code}: ${e.message}` });
      fetchNotCompleted(ctx, { ...ids, outcome: 'failed', code: e.code, detail: e.message, seconds: elapsed() });
    } else {
      await updateFetching(ctx.db, row.id, { leaseUntil: null, lastError: `${e.code}: ${e.message}`, nextAttemptAt: new Date(now.getTime() + backoffMs(row.attempts)) });
      fetchNotCompleted(ctx, { ...ids, outcome: 'retry', code: e.code, detail: e.message, seconds: elapsed() });
    }
  } finally {
    clearInterval(renew);
  }
}

/** The message's bytes, from wherever they are; `ownBlob` when this fetch wrote a blob of its own. */
async function obtain(ctx: AppContext, row: InboundRow): Promise<Fetched> {
  // SMTP gateway mail keeps its bytes while held: accepting it needs no fetch
  if (row.via === 'smtp' && (row.raw || row.blobId)) {
    return { body: { raw: row.raw, blobId: row.blobId, size: row.size, sha256: row.sha256 ?? '' }, version: row.version, ownBlob: false };
  }
  // a sender on this node: the inbox names the same bytes (a blob is immutable, so it is shared)
  if (ctx.config.domains.includes(row.iss)) {
    const served = await fetchMessage(ctx, row.remoteId, row.rcpt);
    return { body: served.body, version: served.version, ownBlob: false };
  }
  return { ...(await fetchRemote(ctx, row)), ownBlob: true };
}

async function fetchRemote(ctx: AppContext, row: InboundRow): Promise<{ body: StoredBody; version: number }> {
  if (!row.fetchUrl || !row.cap) throw new PullmailError('bad_request', 'nothing to fetch with');
  const proof = await createProof(ctx.keys, { iss: domainOf(row.rcpt), url: row.fetchUrl, cap: row.cap }, seconds(ctx));
  const res = await ctx.fetcher.open(row.fetchUrl, {
    headers: { authorization: `${AUTH_SCHEME_CAP} ${row.cap}`, [HEADER_PROOF.toLowerCase()]: proof, accept: 'message/rfc822' },
    maxBytes: ctx.config.maxMessageBytes,
    // a peer trickling a large body may not hold the fetch (and its blob) open for hours
    deadlineMs: FETCH_DEADLINE_MS,
  });
  if (res.status !== 200) {
    const said = await firstBytes(res.body, 200);
    res.cancel();
    if (res.status === 410) throw new PullmailError('retracted', 'retracted by the sender');
    if (res.status === 404) throw new PullmailError('not_found', 'the sender node does not know this message');
    if (res.status === 429 || res.status >= 500) throw new PullmailError('peer_error', `sender node answered ${res.status}`, { temporary: true });
    // 401: our proof or their capability was refused; retrying a few times covers key rotation races
    throw new PullmailError('peer_error', `sender node answered ${res.status}: ${said}`, { temporary: row.attempts < 3 });
  }
  // RFC 9530 Content-Digest: the body is stored as it arrives and checked before it is kept
  const digest = /sha-256=:([A-Za-z0-9+/=]+):/.exec(String(res.headers['content-digest'] ?? ''))?.[1];
  const version = Number(res.headers[HEADER_VERSION.toLowerCase()] ?? row.version);
  if (!digest || !Number.isInteger(version) || version < 1) {
    res.cancel();
    if (!digest) throw new PullmailError('peer_error', 'no sha-256 Content-Digest', { temporary: row.attempts < 3 });
    throw new PullmailError('peer_error', 'bad PM-Version', { temporary: false });
  }
  const body = await spoolBody(ctx.db, res.body, { maxBytes: ctx.config.maxMessageBytes }).catch((err: unknown) => {
    res.cancel();
    // a body over our limit is the peer's doing, not ours
    throw err instanceof PullmailError && err.code === 'too_large' ? new PullmailError('peer_error', err.message) : err;
  });
  const fail = async (message: string, temporary: boolean) => {
    await discardBlob(ctx.db, body.blobId);
    return new PullmailError('peer_error', message, { temporary });
  };
  if (digest !== digestBase64(body)) throw await fail('Content-Digest does not match the body', row.attempts < 3);
  if (version === row.version && row.sha256 && body.sha256 !== row.sha256) throw await fail('body does not match the notified msg.sha256', false);
  return { body, version };
}

/** The start of an error answer's body, for the log; the rest is not read. */
async function firstBytes(body: AsyncGenerator<Buffer>, n: number): Promise<string> {
  let text = '';
  try {
    for await (const chunk of body) {
      text += chunk.toString('utf8');
      if (text.length >= n) break;
    }
  } catch {
    // what was said so far will do
  }
  return text.slice(0, n);
}
