// The sender side of a fetch (protocol §4, §5): check the capability with our own keys and the proof
// with the recipient node's keys, make the proof single-use, then decide fetch-vs-retract atomically.
import type { AppContext } from '../context.ts';
import { seconds } from '../context.ts';
import { PullmailError } from '../errors.ts';
import { fetchServed } from '../events.ts';
import { verifyCapability, type Capability } from '../protocol/capability.ts';
import { verifyProof } from '../protocol/proof.ts';
import { fetchOnce, markFetched } from '../store/deliveries.ts';
import { digestBase64, type StoredBody } from '../store/bodies.ts';
import { findVersion } from '../store/messages.ts';

export interface Served {
  /** Where the bytes are (store/bodies.ts): served by streaming them, never loaded whole. */
  body: StoredBody;
  version: number;
  /** base64 SHA-256 for Content-Digest (RFC 9530). */
  digest: string;
}

export async function serveFetch(ctx: AppContext, req: { id: string; cap: string; proof: string; url: string }): Promise<Served> {
  const proof = await checkTokens(ctx, req).catch((err: unknown) => {
    // protocol §4: a bad token or proof is a 401, malformed ones included
    throw err instanceof PullmailError && err.code === 'bad_request' ? new PullmailError('bad_request', err.message, { httpStatus: 401 }) : err;
  });
  const messageId = proof.cap.sub;
  const rcpt = proof.cap.rcpt;
  // protocol §4: proof jti is single-use; then, atomically, fetched unless retracted (§5): one statement
  const got = await fetchOnce(ctx.db, { jti: `${proof.iss}:${proof.jti}`, iss: proof.iss, expiresAt: new Date((proof.exp + 60) * 1000), messageId, rcpt, now: new Date(ctx.now()) });
  if (got.outcome === 'replayed') throw new PullmailError('replayed', 'this proof was already used');
  fetchServed(ctx, { msgId: messageId, rcpt, outcome: got.outcome === 'fetched' ? 'served' : got.outcome === 'retracted' ? 'retracted' : 'refused', code: got.outcome });
  if (got.outcome === 'retracted') throw new PullmailError('retracted', 'the sender retracted this message');
  if (got.outcome !== 'fetched') throw new PullmailError('not_found', 'no such message for this capability');
  return { body: got.body, version: got.version, digest: digestBase64(got.body) };
}

async function checkTokens(ctx: AppContext, req: { id: string; cap: string; proof: string; url: string }) {
  const now = seconds(ctx);
  let cap: Capability;
  try {
    cap = await verifyCapability(ctx.keys, req.cap, now);
  } catch (err) {
    // a capability we cannot verify is a bad signature from the fetcher's point of view
    if (err instanceof PullmailError && err.code === 'unknown_key') throw new PullmailError('bad_signature', err.message);
    throw err;
  }
  if (!ctx.config.domains.includes(cap.iss.toLowerCase())) throw new PullmailError('bad_signature', 'capability was not issued here');
  if (cap.sub !== req.id) throw new PullmailError('not_found', 'no such message for this capability');
  const proof = await verifyProof(ctx.peerKeys, req.proof, { expectedIss: cap.aud, url: req.url, cap: req.cap }, now);
  return { ...proof, cap };
}

/** The atomic part, shared with local delivery: mark fetched unless retracted, and say where the bytes are. */
export async function fetchMessage(ctx: AppContext, messageId: string, rcpt: string): Promise<Served> {
  const outcome = await markFetched(ctx.db, messageId, rcpt, new Date(ctx.now()));
  fetchServed(ctx, { msgId: messageId, rcpt, outcome: outcome.outcome === 'fetched' ? 'served' : outcome.outcome === 'retracted' ? 'retracted' : 'refused', code: outcome.outcome });
  if (outcome.outcome !== 'fetched') {
    throw outcome.outcome === 'retracted'
      ? new PullmailError('retracted', 'the sender retracted this message')
      : new PullmailError('not_found', 'no such message for this capability');
  }
  const v = await findVersion(ctx.db, messageId, outcome.version);
  if (!v) throw new PullmailError('not_found', 'message version is gone');
  return { body: v, version: v.version, digest: digestBase64(v) };
}
