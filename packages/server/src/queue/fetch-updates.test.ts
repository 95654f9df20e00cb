import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fetchUpdate, type FetchResult, type FetchUpdate, type FetchUpdateContext } from './fetch-updates.ts';

const T = Date.UTC(2026, 0, 10);
const at: FetchUpdateContext = { now: T, backoffMs: 30_000, giveUpMs: 5 * 86_400_000 };
const fresh = { attempts: 1, receivedAt: new Date(T - 60_000) };
const late = { attempts: 3, receivedAt: new Date(T - 60_000) };
const old = { attempts: 40, receivedAt: new Date(T - 6 * 86_400_000) };
const body = { raw: Buffer.from('x'), blobId: null, size: 1, sha256: 'abc' };
const retry = (detail: string, code = 'peer_error', ms = 30_000): FetchUpdate => ({ update: 'retry', code, detail, retryAt: new Date(T + ms) });
const failed = (detail: string, code = 'peer_error'): FetchUpdate => ({ update: 'failed', code, detail });

describe('fetchUpdate', () => {
  const cases: [string, typeof fresh, FetchResult, FetchUpdate][] = [
    ['fetched: stored, the blob is this fetch’s own', fresh, { outcome: 'fetched', body, version: 2 }, { update: 'store', body, version: 2, ownBlob: true }],
    ['found on this node: stored, the blob is shared', fresh, { outcome: 'found', body, version: 1 }, { update: 'store', body, version: 1, ownBlob: false }],
    ['410 → retracted', fresh, { outcome: 'retracted' }, { update: 'retracted', code: 'retracted', detail: 'retracted by the sender' }],
    ['404 → failed at once', fresh, { outcome: 'not-found' }, failed('the sender node does not know this message', 'not_found')],
    ['5xx → retried after backoff', fresh, { outcome: 'unavailable', status: 503 }, retry('sender node answered 503')],
    ['429 with Retry-After → retried after it', fresh, { outcome: 'rate-limited', retryAfterSeconds: 600 }, retry('sender node answered 429', 'peer_error', 600_000)],
    ['429 without → retried after backoff', fresh, { outcome: 'rate-limited' }, retry('sender node answered 429')],
    // a refusal may be a key rotation race: tried a few times, then final
    ['401 early → retried', fresh, { outcome: 'refused', status: 401, said: 'no' }, retry('sender node answered 401: no')],
    ['401 on the third try → failed', late, { outcome: 'refused', status: 401, said: 'no' }, failed('sender node answered 401: no')],
    ['no digest early → retried', fresh, { outcome: 'no-digest' }, retry('no sha-256 Content-Digest')],
    ['no digest late → failed', late, { outcome: 'no-digest' }, failed('no sha-256 Content-Digest')],
    ['digest mismatch early → retried (damaged on the way)', fresh, { outcome: 'digest-mismatch' }, retry('Content-Digest does not match the body')],
    ['digest mismatch late → failed', late, { outcome: 'digest-mismatch' }, failed('Content-Digest does not match the body')],
    ['bad PM-Version → failed', fresh, { outcome: 'bad-version', value: 'x' }, failed('bad PM-Version')],
    ['not the notified bytes → failed', fresh, { outcome: 'sha256-mismatch' }, failed('body does not match the notified msg.sha256')],
    ['too large → failed: it will not shrink', fresh, { outcome: 'too-large', error: 'over 100 bytes' }, failed('over 100 bytes')],
    ['unreachable → retried', fresh, { outcome: 'unreachable', code: 'peer_unreachable', error: 'ECONNREFUSED', temporary: true }, retry('ECONNREFUSED', 'peer_unreachable')],
    ['private address → failed', fresh, { outcome: 'unreachable', code: 'private_address', error: 'refusing', temporary: false }, failed('refusing', 'private_address')],
    ['unreachable for longer than the retry period → failed', old, { outcome: 'unreachable', code: 'peer_unreachable', error: 'ECONNREFUSED', temporary: true }, failed('ECONNREFUSED', 'peer_unreachable')],
    ['an error of ours, temporary → retried', fresh, { outcome: 'error', code: 'internal', detail: 'db down', temporary: true }, retry('db down', 'internal')],
    ['nothing to fetch with → failed', fresh, { outcome: 'error', code: 'bad_request', detail: 'nothing to fetch with', temporary: false }, failed('nothing to fetch with', 'bad_request')],
  ];
  for (const [name, row, result, expected] of cases) it(name, () => assert.deepEqual(fetchUpdate(row, result, at), expected));
});
