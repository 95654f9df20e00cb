// The sender side of the notify exchange with another node (protocol §2): POST one signed notification,
// or up to 500 to /batch, and read the answer into a typed outcome. Every status rule (429 with
// Retry-After, 5xx, refusals, malformed or oversized answers) is decided here; the queue only records.
import { DECISIONS, type NotifyResult, type PowChallenge } from '@pullmail/client/wire';
import { PullmailError } from '../errors.ts';
import type { PeerNode } from './discovery.ts';
import type { Fetcher } from './fetcher.ts';

/** The largest notify answer read: 500 results fit many times over. */
const NOTIFY_MAX_RESPONSE = 4 * 1024 * 1024;
/** Retry-After when a 429 gives none (or one we cannot read), and the longest we honour. */
const DEFAULT_RETRY_AFTER_S = 60;
const MAX_RETRY_AFTER_S = 86_400;
const MAX_CHALLENGE_URL = 2048;

/**
 * Refusals that can pass by themselves: a peer that has not yet seen our newest key (rotation, or
 * several processes) or whose discovery of us failed for a moment.
 */
const TRANSIENT_REFUSALS = new Set(['unknown_key', 'peer_unreachable', 'peer_error', 'rate_limited']);

/** A challenge as we keep it: a human challenge's `url` only when it is on the peer's own origin. */
export type PeerChallenge = PowChallenge | { type: 'human'; url?: string };

/** A decision for one notification, as the recipient node gave it (challenge URL checked). */
export type Decided = Omit<NotifyResult, 'challenge'> & { challenge?: PeerChallenge };

/** The answer about one notification of the request. */
export type NotifyAnswer =
  | { answer: 'decided'; result: Decided }
  /** The peer refused this notification (`{"error":…}`); `temporary` when retrying might help. */
  | { answer: 'refused'; code: string; detail: string; temporary: boolean };

/** What came of one notify request, for all the notifications it carried. */
export type NotifyOutcome =
  /** 200: one answer per notification, in order. */
  | { outcome: 'answered'; answers: NotifyAnswer[] }
  /** 429: the peer asks us to slow down for `retryAfterSeconds`. */
  | { outcome: 'rate-limited'; retryAfterSeconds: number; error: string }
  /** 5xx, an answer that is not pm1 JSON, a result list of the wrong length, an answer over the size cap. */
  | { outcome: 'peer-failed'; error: string }
  /** Another 4xx (400/401 with `{"error":…}`): about every notification of the request. */
  | { outcome: 'refused'; status: number; code: string; detail: string; temporary: boolean }
  /** No answer at all: connection refused, timeout, private address. */
  | { outcome: 'unreachable'; code: string; error: string; temporary: boolean };

/**
 * Sends `jws` (compact notification JWSs, 1 to 500) to `node`: a single one to its notify URL, more to
 * `<notify>/batch`. Never throws for anything the peer or the network does.
 */
export async function postNotifications(fetcher: Fetcher, node: PeerNode, jws: readonly string[]): Promise<NotifyOutcome> {
  const single = jws.length === 1;
  let res;
  try {
    res = await fetcher.fetch(single ? node.notify : `${node.notify}/batch`, {
      method: 'POST',
      headers: { 'content-type': single ? 'application/jose' : 'application/json' },
      body: single ? jws[0] : JSON.stringify({ notifications: jws }),
      maxBytes: NOTIFY_MAX_RESPONSE,
    });
  } catch (err) {
    // an answer over the size cap is garbage from the peer, like a 5xx or non-JSON: try again later
    if (err instanceof PullmailError && err.code === 'peer_error' && !err.temporary) return { outcome: 'peer-failed', error: err.message };
    if (err instanceof PullmailError) return { outcome: 'unreachable', code: err.code, error: err.message, temporary: err.temporary };
    return { outcome: 'unreachable', code: 'peer_unreachable', error: String((err as Error)?.message ?? err), temporary: true };
  }
  if (res.status === 429) {
    return { outcome: 'rate-limited', retryAfterSeconds: retryAfterSeconds(res.headers['retry-after']), error: `${node.origin} asks us to slow down` };
  }
  const body = parseJson(res.body);
  if (res.status >= 500 || body === undefined) return { outcome: 'peer-failed', error: `${node.notify} answered ${res.status}` };
  if (res.status !== 200) {
    // a refusal of a single notification is about that item; of a batch, about every item
    const e = (body ?? {}) as { error?: unknown; detail?: unknown };
    const code = String(e.error ?? res.status);
    return { outcome: 'refused', status: res.status, code, detail: String(e.detail ?? ''), temporary: TRANSIENT_REFUSALS.has(code) };
  }
  const results = single ? [body] : (body as { results?: unknown } | null)?.results;
  if (!Array.isArray(results) || results.length !== jws.length) return { outcome: 'peer-failed', error: `${node.notify} answered a malformed result` };
  return { outcome: 'answered', answers: results.map((r) => readAnswer(r, node)) };
}

function readAnswer(r: unknown, node: PeerNode): NotifyAnswer {
  const x = (r ?? {}) as { decision?: unknown; reason?: unknown; challenge?: unknown; error?: unknown; detail?: unknown };
  // `includes`, not `in`: "constructor" is `in` every object
  if (typeof x.decision === 'string' && (DECISIONS as readonly string[]).includes(x.decision)) {
    const result = { ...(x as NotifyResult) };
    if (result.challenge !== undefined) {
      const challenge = keptChallenge(result.challenge, node.origin);
      if (challenge) result.challenge = challenge as NotifyResult['challenge'];
      else delete result.challenge;
    }
    return { answer: 'decided', result };
  }
  // neither a decision nor a refusal: a malformed answer, retried like one
  if (typeof x.error !== 'string') return { answer: 'refused', code: 'peer_error', detail: `${node.notify} answered no decision`, temporary: true };
  return { answer: 'refused', code: x.error, detail: String(x.detail ?? ''), temporary: TRANSIENT_REFUSALS.has(x.error) };
}

/** The challenge without a `url` we may not show; undefined when it is not an object at all. */
function keptChallenge(challenge: unknown, origin: string): PeerChallenge | undefined {
  if (typeof challenge !== 'object' || challenge === null || Array.isArray(challenge)) return undefined;
  const c = { ...(challenge as Record<string, unknown>) };
  if ('url' in c && !isPeerPageUrl(c.url, origin)) delete c.url;
  return c as PeerChallenge;
}

/**
 * protocol §6: a challenge page is on the recipient node. The sender's user is shown its URL only when
 * it is https on the origin we discovered for that node, so a peer cannot point our users anywhere else.
 */
export function isPeerPageUrl(url: unknown, origin: string): boolean {
  if (typeof url !== 'string' || url.length > MAX_CHALLENGE_URL) return false;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  return parsed.protocol === 'https:' && parsed.origin === origin && !parsed.username && !parsed.password;
}

/** Retry-After in seconds (RFC 9110 §10.2.3, delta-seconds form), within 0 … one day. */
function retryAfterSeconds(header: string | string[] | undefined): number {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value || !/^\d{1,9}$/.test(value.trim())) return DEFAULT_RETRY_AFTER_S;
  return Math.min(Number(value.trim()) || DEFAULT_RETRY_AFTER_S, MAX_RETRY_AFTER_S);
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}
