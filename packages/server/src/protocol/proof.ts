// Fetch proofs (protocol §4): a JWS by the recipient node binding one GET of one URL to one capability.
import { ALLOWED_SKEW_SECONDS, TokenType } from '@pullmail/client/wire';
import { PullmailError } from '../errors.ts';
import type { PeerKeys } from '../peers/peer-keys.ts';
import { checkHeader, peek, randomId, sha256b64url, signJwt, verifyJwt } from './jws.ts';
import type { KeySet } from './key-set.ts';

/** Proofs are short-lived: iat ± skew is all that is accepted, so exp is iat + 2 × skew. */
export function createProof(keys: KeySet, opts: { iss: string; url: string; cap: string }, nowSeconds: number): Promise<string> {
  return signJwt(
    { iss: opts.iss, htm: 'GET', htu: opts.url, iat: nowSeconds, exp: nowSeconds + 2 * ALLOWED_SKEW_SECONDS, jti: randomId(), ath: sha256b64url(opts.cap) },
    TokenType.proof,
    keys.signer(),
  );
}

export interface VerifiedProof {
  jti: string;
  iss: string;
  exp: number;
}

/**
 * Verifies a proof for `url` and `cap`, signed by the node of `expectedIss` (the capability's `aud`).
 * The caller makes the jti single-use.
 */
export async function verifyProof(
  peerKeys: PeerKeys,
  proof: string,
  opts: { expectedIss: string; url: string; cap: string },
  nowSeconds: number,
): Promise<VerifiedProof> {
  const { header, claims } = peek(proof);
  const kid = checkHeader(header, TokenType.proof);
  if (claims.iss !== opts.expectedIss) throw new PullmailError('bad_signature', 'proof is not from the capability holder');
  const key = await peerKeys.keyFor(opts.expectedIss, kid);
  const p = await verifyJwt(proof, key, TokenType.proof, nowSeconds, ['iss', 'iat', 'jti']);
  if (p.htm !== 'GET' || p.htu !== opts.url) throw new PullmailError('bad_request', 'proof is for another request');
  if (p.ath !== sha256b64url(opts.cap)) throw new PullmailError('bad_signature', 'proof is for another capability');
  // protocol §4: iat within ±120 s, whatever exp says
  if (Math.abs(nowSeconds - (p.iat as number)) > ALLOWED_SKEW_SECONDS) throw new PullmailError('expired', 'proof iat is outside the allowed skew');
  return { jti: p.jti as string, iss: p.iss as string, exp: (p.iat as number) + ALLOWED_SKEW_SECONDS };
}
