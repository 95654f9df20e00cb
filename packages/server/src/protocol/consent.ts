// Consent tokens (protocol §6): signed by the recipient's node, naming the recipient (`sub`) and the
// senders they admit (`aud`: an address or `@domain`). Uses are counted by the issuing node.
import { TokenType } from '@pullmail/client/wire';
import { canonicalAddress, domainOf } from '../address.ts';
import { PullmailError } from '../errors.ts';
import { checkHeader, peek, randomId, signJwt, verifyJwt } from './jws.ts';
import type { KeySet } from './key-set.ts';

export interface ConsentClaims {
  iss: string;
  sub: string;
  aud: string;
  max_uses: number;
  exp: number;
  jti: string;
}

export function issueConsent(keys: KeySet, c: Omit<ConsentClaims, 'jti'>, nowSeconds: number): Promise<{ token: string; jti: string }> {
  const jti = randomId();
  return signJwt({ ...c, iat: nowSeconds, jti }, TokenType.consent, keys.signer()).then((token) => ({ token, jti }));
}

/** True when a sender address matches a consent `aud` (exact address or `@domain`). */
export function senderMatches(pattern: string, sender: string): boolean {
  return pattern.startsWith('@') ? `@${domainOf(sender)}` === pattern : canonicalAddress(pattern) === sender;
}

/**
 * Checks a consent token presented for mail from `sender` to `rcpt`: our signature, not expired, issued
 * for that recipient and matching that sender. Use counting is the store's job.
 * @throws PullmailError for any token that must be ignored.
 */
export async function verifyConsent(keys: KeySet, token: string, opts: { rcpt: string; sender: string }, nowSeconds: number): Promise<ConsentClaims> {
  const { header } = peek(token);
  const kid = checkHeader(header, TokenType.consent);
  const key = keys.publicKey(kid);
  if (!key) throw new PullmailError('unknown_key', 'consent token not signed by this node');
  const p = await verifyJwt(token, key, TokenType.consent, nowSeconds);
  if (typeof p.sub !== 'string' || canonicalAddress(p.sub) !== opts.rcpt) throw new PullmailError('bad_request', 'consent token is for another recipient');
  if (typeof p.aud !== 'string' || !senderMatches(p.aud, opts.sender)) throw new PullmailError('bad_request', 'consent token is for another sender');
  return p as unknown as ConsentClaims;
}
