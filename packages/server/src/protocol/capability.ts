// Capability tokens (protocol §3): issued by the sender node, one per (message, recipient), scope fetch.
import { TokenType } from '@pullmail/client/wire';
import { PullmailError } from '../errors.ts';
import { checkHeader, peek, randomId, signJwt, verifyJwt } from './jws.ts';
import type { KeySet } from './key-set.ts';

export interface Capability {
  iss: string;
  aud: string;
  sub: string;
  rcpt: string;
  exp: number;
}

export function issueCapability(keys: KeySet, c: Capability, nowSeconds: number): Promise<string> {
  return signJwt({ iss: c.iss, aud: c.aud, sub: c.sub, rcpt: c.rcpt, scope: 'fetch', iat: nowSeconds, exp: c.exp, jti: randomId() }, TokenType.capability, keys.signer());
}

/** Verifies a capability token against our own published keys; any failure is `bad_signature`/`expired`/`bad_request`. */
export async function verifyCapability(keys: KeySet, token: string, nowSeconds: number): Promise<Capability> {
  const { header } = peek(token);
  const kid = checkHeader(header, TokenType.capability);
  let key = keys.publicKey(kid);
  if (!key) {
    await keys.reload(); // another process may have rotated
    key = keys.publicKey(kid);
  }
  if (!key) throw new PullmailError('unknown_key', 'capability signed by a key we do not know');
  const p = await verifyJwt(token, key, TokenType.capability, nowSeconds);
  if (p.scope !== 'fetch' || typeof p.sub !== 'string' || typeof p.rcpt !== 'string' || typeof p.aud !== 'string' || typeof p.iss !== 'string') {
    throw new PullmailError('bad_request', 'capability claims are incomplete');
  }
  return { iss: p.iss, aud: p.aud, sub: p.sub, rcpt: p.rcpt, exp: p.exp as number };
}
