// What a fetch comes to, as a change of its inbound row (protocol §4, §7), decided without I/O: a body
// to store, a retraction, a retry with backoff (or after the sender's Retry-After), or giving up. A
// refusal or a bad digest is retried a few times (key rotation races, a body damaged on the way).
import type { FetchOutcome } from '../peers/fetch-client.ts';
import type { StoredBody } from '../store/bodies.ts';

/** Tries after which a refusal or a damaged answer counts as final. */
const TRIES_FOR_REFUSALS = 3;

/** What a fetch came to: the peer's answer, or the bytes found on this node, or an error of ours. */
export type FetchResult =
  | FetchOutcome
  /** The bytes were here already (held SMTP mail, a sender on this node): the blob, if any, is shared. */
  | { outcome: 'found'; body: StoredBody; version: number }
  /** Something failed on this node (a database error, nothing to fetch with). */
  | { outcome: 'error'; code: string; detail: string; temporary: boolean };

export type FetchUpdate =
  /** `ownBlob`: the blob was written by this fetch and is removed if the row moved on meanwhile. */
  | { update: 'store'; body: StoredBody; version: number; ownBlob: boolean }
  | { update: 'retracted'; code: string; detail: string }
  | { update: 'failed'; code: string; detail: string }
  | { update: 'retry'; code: string; detail: string; retryAt: Date };

export interface FetchUpdateContext {
  now: number;
  /** The wait before the next try when the sender named none (queue/poller.ts backoffMs). */
  backoffMs: number;
  /** How long after the notification a fetch is still retried. */
  giveUpMs: number;
}

/** The row change for `result` of the claimed fetch `row`. */
export function fetchUpdate(row: { attempts: number; receivedAt: Date }, result: FetchResult, at: FetchUpdateContext): FetchUpdate {
  if (result.outcome === 'fetched' || result.outcome === 'found') {
    return { update: 'store', body: result.body, version: result.version, ownBlob: result.outcome === 'fetched' };
  }
  if (result.outcome === 'retracted') return { update: 'retracted', code: 'retracted', detail: 'retracted by the sender' };
  const f = failure(result, row.attempts < TRIES_FOR_REFUSALS);
  if (!f.temporary || at.now - row.receivedAt.getTime() > at.giveUpMs) return { update: 'failed', code: f.code, detail: f.detail };
  return { update: 'retry', code: f.code, detail: f.detail, retryAt: new Date(at.now + (f.retryAfterMs ?? at.backoffMs)) };
}

type Failure = Exclude<FetchResult, { outcome: 'fetched' | 'found' | 'retracted' }>;

function failure(r: Failure, early: boolean): { code: string; detail: string; temporary: boolean; retryAfterMs?: number } {
  switch (r.outcome) {
    case 'not-found':
      return { code: 'not_found', detail: 'the sender node does not know this message', temporary: false };
    case 'rate-limited':
      return { code: 'peer_error', detail: 'sender node answered 429', temporary: true, ...(r.retryAfterSeconds !== undefined ? { retryAfterMs: r.retryAfterSeconds * 1000 } : {}) };
    case 'unavailable':
      return { code: 'peer_error', detail: `sender node answered ${r.status}`, temporary: true };
    case 'refused':
      // 401: our proof or their capability was refused; retrying a few times covers key rotation races
      return { code: 'peer_error', detail: `sender node answered ${r.status}: ${r.said}`, temporary: early };
    case 'no-digest':
      return { code: 'peer_error', detail: 'no sha-256 Content-Digest', temporary: early };
    case 'bad-version':
      return { code: 'peer_error', detail: 'bad PM-Version', temporary: false };
    case 'digest-mismatch':
      return { code: 'peer_error', detail: 'Content-Digest does not match the body', temporary: early };
    case 'sha256-mismatch':
      return { code: 'peer_error', detail: 'body does not match the notified msg.sha256', temporary: false };
    case 'too-large':
      // a body over our limit is the peer's doing, not ours, and will not shrink
      return { code: 'peer_error', detail: r.error, temporary: false };
    case 'unreachable':
      return { code: r.code, detail: r.error, temporary: r.temporary };
    case 'error':
      return { code: r.code, detail: r.detail, temporary: r.temporary };
  }
}
