// The recipient side of a fetch from another node (protocol §4): GET the message with capability and
// proof, stream the body into a blob as it arrives (fetcher `open`), check its size, PM-Version and
// Content-Digest (RFC 9530), and say what came of it as a typed outcome. The queue only records it.
import { AUTH_SCHEME_CAP, HEADER_PROOF, HEADER_VERSION } from '@pullmail/client/wire';
import { PullmailError } from '../errors.ts';
import { digestBase64, type StoredBody } from '../store/bodies.ts';
import type { Fetcher } from './fetcher.ts';

/** Where a fetched body goes while it arrives (store/bodies.ts in the node). */
export interface BodySink {
  /** Writes the bytes as they come; throws `too_large` past `maxBytes`. */
  spool(source: AsyncIterable<Uint8Array>, maxBytes: number): Promise<StoredBody>;
  /** Removes a body that is not kept. */
  discard(body: StoredBody): Promise<void>;
}

export interface FetchRequest {
  /** `fetch.url` of the notification. */
  url: string;
  cap: string;
  /** PM-Proof for exactly this URL (protocol/proof.ts). */
  proof: string;
  maxBytes: number;
  /** The whole exchange, body included, must be over within this. */
  deadlineMs: number;
  /** What the notification announced: a body of this version must have this SHA-256 (base64url). */
  notified: { version: number; sha256?: string | null };
}

/** What came of one fetch. Only `fetched` leaves a body behind (in the sink); every other outcome keeps nothing. */
export type FetchOutcome =
  | { outcome: 'fetched'; body: StoredBody; version: number }
  /** 410: the sender retracted the message before we fetched it. */
  | { outcome: 'retracted' }
  /** 404: the sender node does not know this message (or the capability is not for it). */
  | { outcome: 'not-found' }
  /** 429, with the seconds the sender asked for when it said. */
  | { outcome: 'rate-limited'; retryAfterSeconds?: number }
  /** 5xx. */
  | { outcome: 'unavailable'; status: number }
  /** 401 (our proof or their capability refused) or another status we do not expect; `said` starts its body. */
  | { outcome: 'refused'; status: number; said: string }
  /** 200 without a sha-256 Content-Digest. */
  | { outcome: 'no-digest' }
  /** 200 with a PM-Version that is not a positive integer. */
  | { outcome: 'bad-version'; value: string }
  /** The body does not have the SHA-256 its Content-Digest says. */
  | { outcome: 'digest-mismatch' }
  /** The body is the notified version but not the notified bytes (msg.sha256). */
  | { outcome: 'sha256-mismatch' }
  /** The body (announced or as it arrived) is over `maxBytes`. */
  | { outcome: 'too-large'; error: string }
  /** No answer, or the body stopped arriving: connection refused, timeout, private address. */
  | { outcome: 'unreachable'; code: string; error: string; temporary: boolean };

const MAX_RETRY_AFTER_S = 86_400;

/** Fetches one message. Throws only what the sink throws for reasons of its own (the database). */
export async function fetchFromPeer(fetcher: Fetcher, sink: BodySink, req: FetchRequest): Promise<FetchOutcome> {
  let res;
  try {
    res = await fetcher.open(req.url, {
      headers: { authorization: `${AUTH_SCHEME_CAP} ${req.cap}`, [HEADER_PROOF.toLowerCase()]: req.proof, accept: 'message/rfc822' },
      maxBytes: req.maxBytes,
      // a peer trickling a large body may not hold the fetch (and its blob) open for hours
      deadlineMs: req.deadlineMs,
    });
  } catch (err) {
    return transportOutcome(err);
  }
  if (res.status !== 200) {
    const said = await firstBytes(res.body, 200);
    res.cancel();
    if (res.status === 410) return { outcome: 'retracted' };
    if (res.status === 404) return { outcome: 'not-found' };
    if (res.status === 429) return { outcome: 'rate-limited', retryAfterSeconds: retryAfter(res.headers['retry-after']) };
    if (res.status >= 500) return { outcome: 'unavailable', status: res.status };
    return { outcome: 'refused', status: res.status, said };
  }
  // RFC 9530 Content-Digest: the body is stored as it arrives and checked before it is kept
  const digest = /sha-256=:([A-Za-z0-9+/=]+):/.exec(String(res.headers['content-digest'] ?? ''))?.[1];
  const versionHeader = res.headers[HEADER_VERSION.toLowerCase()];
  const version = Number(versionHeader ?? req.notified.version);
  if (!digest) {
    res.cancel();
    return { outcome: 'no-digest' };
  }
  if (!Number.isInteger(version) || version < 1) {
    res.cancel();
    return { outcome: 'bad-version', value: String(versionHeader) };
  }
  let body: StoredBody;
  try {
    body = await sink.spool(res.body, req.maxBytes);
  } catch (err) {
    res.cancel();
    const outcome = bodyFailure(err);
    if (outcome) return outcome;
    throw err;
  }
  if (digest !== digestBase64(body)) {
    await sink.discard(body);
    return { outcome: 'digest-mismatch' };
  }
  if (version === req.notified.version && req.notified.sha256 && body.sha256 !== req.notified.sha256) {
    await sink.discard(body);
    return { outcome: 'sha256-mismatch' };
  }
  return { outcome: 'fetched', body, version };
}

/** The fetcher's errors before any answer: a Content-Length over the cap, or no answer at all. */
function transportOutcome(err: unknown): FetchOutcome {
  if (err instanceof PullmailError && err.code === 'peer_error' && !err.temporary) return { outcome: 'too-large', error: err.message };
  if (err instanceof PullmailError) return { outcome: 'unreachable', code: err.code, error: err.message, temporary: err.temporary };
  return { outcome: 'unreachable', code: 'peer_unreachable', error: String((err as Error)?.message ?? err), temporary: true };
}

/** Errors while the body streams in that are the peer's doing; undefined for the sink's own. */
function bodyFailure(err: unknown): FetchOutcome | undefined {
  if (!(err instanceof PullmailError)) return undefined;
  // over our limit, by the sink's count or the fetcher's
  if (err.code === 'too_large' || (err.code === 'peer_error' && !err.temporary)) return { outcome: 'too-large', error: err.message };
  if (err.code === 'peer_unreachable') return { outcome: 'unreachable', code: err.code, error: err.message, temporary: err.temporary };
  return undefined;
}

function retryAfter(header: string | string[] | undefined): number | undefined {
  const value = (Array.isArray(header) ? header[0] : header)?.trim();
  return value && /^\d{1,9}$/.test(value) ? Math.min(Number(value), MAX_RETRY_AFTER_S) : undefined;
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
