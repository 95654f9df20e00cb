// The pull side (protocol §4): fetches accepted messages from the sender's node with capability and
// proof, checks size and Content-Digest, and stores the exact bytes once.
import { createHash } from 'node:crypto';
import { AUTH_SCHEME_CAP, HEADER_PROOF, HEADER_VERSION } from '@pullmail/client/wire';
import { domainOf } from '../address.ts';
import type { AppContext } from '../context.ts';
import { seconds } from '../context.ts';
import { fetchMessage } from '../delivery/serve-fetch.ts';
import { PullmailError } from '../errors.ts';
import { fetchNotCompleted, messageFetched } from '../events.ts';
import { createProof } from '../protocol/proof.ts';
import type { Worker } from '../server.ts';
import { claimDueFetches, storeFetched, updateInbound, type InboundRow } from '../store/inbound.ts';
import { backoffMs, createPoller } from './poller.ts';

/** Fetches in flight per process; a sender node that is slow to answer holds its own slots only. */
const CONCURRENCY = 32;
/** How long a pending fetch is retried before it is given up. */
const GIVE_UP_MS = 5 * 86_400_000;

interface Fetched {
  raw: Buffer;
  version: number;
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
  try {
    // SMTP gateway mail keeps its bytes while held: accepting it needs no fetch
    const got = row.via === 'smtp' && row.raw
      ? { raw: row.raw, version: row.version }
      : ctx.config.domains.includes(row.iss) ? await fetchMessage(ctx, row.remoteId, row.rcpt) : await fetchRemote(ctx, row);
    const sha256 = createHash('sha256').update(got.raw).digest('base64url');
    if (await storeFetched(ctx.db, row.id, { raw: got.raw, sha256, version: got.version, now })) {
      messageFetched(ctx, { ...ids, size: got.raw.length, version: got.version, seconds: elapsed() });
    }
  } catch (err) {
    const e = err instanceof PullmailError ? err : new PullmailError('peer_error', String(err), { temporary: true, cause: err });
    if (e.code === 'retracted') {
      await updateInbound(ctx.db, row.id, { state: 'retracted', leaseUntil: null, cap: null });
      fetchNotCompleted(ctx, { ...ids, outcome: 'retracted', code: e.code, detail: e.message, seconds: elapsed() });
    } else if (!e.temporary || now.getTime() - row.receivedAt.getTime() > GIVE_UP_MS) {
      await updateInbound(ctx.db, row.id, { state: 'failed', leaseUntil: null, lastError: `${e.code}: ${e.message}` });
      fetchNotCompleted(ctx, { ...ids, outcome: 'failed', code: e.code, detail: e.message, seconds: elapsed() });
    } else {
      await updateInbound(ctx.db, row.id, { leaseUntil: null, lastError: `${e.code}: ${e.message}`, nextAttemptAt: new Date(now.getTime() + backoffMs(row.attempts)) });
      fetchNotCompleted(ctx, { ...ids, outcome: 'retry', code: e.code, detail: e.message, seconds: elapsed() });
    }
  }
}

async function fetchRemote(ctx: AppContext, row: InboundRow): Promise<Fetched> {
  if (!row.fetchUrl || !row.cap) throw new PullmailError('bad_request', 'nothing to fetch with');
  const proof = await createProof(ctx.keys, { iss: domainOf(row.rcpt), url: row.fetchUrl, cap: row.cap }, seconds(ctx));
  const res = await ctx.fetcher.fetch(row.fetchUrl, {
    headers: { authorization: `${AUTH_SCHEME_CAP} ${row.cap}`, [HEADER_PROOF.toLowerCase()]: proof, accept: 'message/rfc822' },
    maxBytes: ctx.config.maxMessageBytes,
  });
  if (res.status === 410) throw new PullmailError('retracted', 'retracted by the sender');
  if (res.status === 404) throw new PullmailError('not_found', 'the sender node does not know this message');
  if (res.status === 429 || res.status >= 500) throw new PullmailError('peer_error', `sender node answered ${res.status}`, { temporary: true });
  if (res.status !== 200) {
    // 401: our proof or their capability was refused; retrying a few times covers key rotation races
    throw new PullmailError('peer_error', `sender node answered ${res.status}: ${res.body.toString('utf8').slice(0, 200)}`, { temporary: row.attempts < 3 });
  }
  // RFC 9530 Content-Digest: check before storing
  const digest = /sha-256=:([A-Za-z0-9+/=]+):/.exec(String(res.headers['content-digest'] ?? ''))?.[1];
  const actual = createHash('sha256').update(res.body).digest('base64');
  if (!digest || digest !== actual) throw new PullmailError('peer_error', 'Content-Digest does not match the body', { temporary: row.attempts < 3 });
  const version = Number(res.headers[HEADER_VERSION.toLowerCase()] ?? row.version);
  if (!Number.isInteger(version) || version < 1) throw new PullmailError('peer_error', 'bad PM-Version', { temporary: false });
  if (version === row.version && row.sha256 && actual !== Buffer.from(row.sha256, 'base64url').toString('base64')) {
    throw new PullmailError('peer_error', 'body does not match the notified msg.sha256', { temporary: false });
  }
  return { raw: res.body, version };
}
