// Signing and verifying pm1 JWTs with jose: EdDSA only, a fixed `typ` per kind, 120 s skew
// (protocol "Names"). jose errors become PullmailErrors carrying the wire codes of protocol §2.
import { createHash, randomBytes } from 'node:crypto';
import { ALLOWED_SKEW_SECONDS, type TokenType } from '@pullmail/client/wire';
import { decodeJwt, decodeProtectedHeader, errors, jwtVerify, SignJWT, type CryptoKey, type JWTPayload, type ProtectedHeaderParameters } from 'jose';
import { PullmailError } from '../errors.ts';
import type { SigningKey } from './key-set.ts';

/**
 * A random base64url id. It never starts with "-" or "_", so a user can pass it to a command line
 * (`pullmail read <id>`) without it being taken for a flag.
 */
export function randomId(bytes = 16): string {
  for (;;) {
    const id = randomBytes(bytes).toString('base64url');
    if (/^[A-Za-z0-9]/.test(id)) return id;
  }
}

/** base64url SHA-256, the digest form of msg.sha256 and the proof's `ath`. */
export function sha256b64url(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('base64url');
}

export function signJwt(claims: JWTPayload & Record<string, unknown>, typ: TokenType, signer: SigningKey): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', kid: signer.kid, typ }).sign(signer.key);
}

/** Header and unverified claims of a compact JWS, for choosing the key. Never trusted on their own. */
export function peek(jws: string): { header: ProtectedHeaderParameters; claims: JWTPayload } {
  if (typeof jws !== 'string' || jws.length > 64 * 1024 || jws.split('.').length !== 3) {
    throw new PullmailError('bad_request', 'not a compact JWS');
  }
  try {
    return { header: decodeProtectedHeader(jws), claims: decodeJwt(jws) };
  } catch (err) {
    throw new PullmailError('bad_request', 'not a compact JWS', { cause: err });
  }
}

/** Rejects headers pm1 never accepts, before any key lookup. */
export function checkHeader(header: ProtectedHeaderParameters, typ: TokenType): string {
  // the header is JSON from the peer: String() of an object such as {"toString":0} would throw
  if (header.alg !== 'EdDSA') throw new PullmailError('bad_signature', `alg ${typeof header.alg === 'string' ? header.alg : JSON.stringify(header.alg)} is not allowed`);
  if (header.typ !== typ) throw new PullmailError('bad_request', `typ must be ${typ}`);
  if (typeof header.kid !== 'string' || !header.kid) throw new PullmailError('bad_request', 'kid is missing');
  // protocol §1: key URLs in a token are never followed; a token that carries its own key is refused
  if ('jwk' in header || 'jku' in header || 'x5u' in header || 'x5c' in header) {
    throw new PullmailError('bad_signature', 'embedded keys and key URLs are not accepted');
  }
  if (header.crit !== undefined) throw new PullmailError('bad_request', 'crit is not supported');
  return header.kid;
}

/** Verifies signature, typ and time claims; returns the payload. */
export async function verifyJwt(
  jws: string,
  key: CryptoKey,
  typ: TokenType,
  nowSeconds: number,
  requiredClaims: string[] = ['iss', 'iat', 'exp', 'jti'],
): Promise<JWTPayload> {
  try {
    const { payload } = await jwtVerify(jws, key, {
      algorithms: ['EdDSA'],
      typ,
      clockTolerance: ALLOWED_SKEW_SECONDS,
      currentDate: new Date(nowSeconds * 1000),
      requiredClaims,
    });
    if (typeof payload.iat === 'number' && payload.iat > nowSeconds + ALLOWED_SKEW_SECONDS) {
      throw new PullmailError('expired', 'iat is in the future');
    }
    return payload;
  } catch (err) {
    throw joseToPullmail(err);
  }
}

function joseToPullmail(err: unknown): unknown {
  if (err instanceof PullmailError) return err;
  if (err instanceof errors.JWTExpired) return new PullmailError('expired', 'token expired', { cause: err });
  if (err instanceof errors.JWSSignatureVerificationFailed || err instanceof errors.JOSEAlgNotAllowed) {
    return new PullmailError('bad_signature', 'signature does not verify', { cause: err });
  }
  if (err instanceof errors.JWTClaimValidationFailed) {
    // a time claim out of range is `expired`; a missing one is a malformed token
    const code = (err.claim === 'iat' || err.claim === 'nbf') && err.reason !== 'missing' ? 'expired' : 'bad_request';
    return new PullmailError(code, `claim ${err.claim}: ${err.reason}`, { cause: err });
  }
  if (err instanceof errors.JOSEError) return new PullmailError('bad_request', err.message, { cause: err });
  return err;
}
