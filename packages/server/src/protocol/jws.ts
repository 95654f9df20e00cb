// Signing and verifying pm1 JWTs: EdDSA only, a fixed `typ` per kind, 120 s skew (protocol "Names").
// The Ed25519 signature is made and checked with node:crypto on KeyObjects (synchronous, about twice
// the rate of jose's WebCrypto path, which also hops to the thread pool); the claims are checked by
// jose (its JWT claims-set validation, the same code jwtVerify runs). jose errors become
// PullmailErrors carrying the wire codes of protocol §2.
import { createHash, randomBytes, sign as edSign, verify as edVerify, type KeyObject } from 'node:crypto';
import { ALLOWED_SKEW_SECONDS, type TokenType } from '@pullmail/client/wire';
import { decodeJwt, decodeProtectedHeader, errors, UnsecuredJWT, type JWTPayload, type ProtectedHeaderParameters } from 'jose';
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

const b64json = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

/** A compact JWS `{alg: EdDSA, kid, typ}` over `claims`, signed with the node key (RFC 7515 §7.1, RFC 8037). */
export async function signJwt(claims: JWTPayload & Record<string, unknown>, typ: TokenType, signer: SigningKey): Promise<string> {
  const input = `${b64json({ alg: 'EdDSA', kid: signer.kid, typ })}.${b64json(claims)}`;
  return `${input}.${edSign(null, Buffer.from(input), signer.key).toString('base64url')}`;
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

/** An Ed25519 signature is 64 bytes: 86 base64url characters, the last one carrying 2 bits only. */
const ED25519_SIG = /^[A-Za-z0-9_-]{85}[AQgw]$/;
/** The header jose's unsecured-JWT decoder takes, so that its claims-set validation runs on a payload whose signature we checked. */
const CLAIMS_ONLY_HEADER = b64json({ alg: 'none' });

/**
 * node:crypto's verify with a callback: the check runs on libuv's thread pool, so the notifications of
 * a batch (verified several at a time) use every core rather than the event loop's one.
 */
function verifyOffThread(data: Buffer, key: KeyObject, signature: Buffer): Promise<boolean> {
  return new Promise((resolve, reject) => edVerify(null, data, key, signature, (err, ok) => (err ? reject(err) : resolve(ok))));
}

/**
 * Verifies the signature (EdDSA with `key`), the header's `alg` and `typ`, and the time and required
 * claims; returns the payload.
 * @throws PullmailError `bad_signature`, `expired` or `bad_request`
 */
export async function verifyJwt(
  jws: string,
  key: KeyObject,
  typ: TokenType,
  nowSeconds: number,
  requiredClaims: string[] = ['iss', 'iat', 'exp', 'jti'],
): Promise<JWTPayload> {
  const parts = typeof jws === 'string' ? jws.split('.') : [];
  if (parts.length !== 3) throw new PullmailError('bad_request', 'not a compact JWS');
  const [h, p, s] = parts;
  let header: ProtectedHeaderParameters;
  try {
    header = decodeProtectedHeader(jws);
  } catch (err) {
    throw new PullmailError('bad_request', 'not a compact JWS', { cause: err });
  }
  // what jwtVerify would refuse before the signature: another alg, an unknown crit, an unencoded payload
  if (header.alg !== 'EdDSA') throw new PullmailError('bad_signature', 'alg is not allowed');
  if (header.crit !== undefined || header.b64 !== undefined) throw new PullmailError('bad_request', 'crit and b64 are not supported');
  if (header.typ !== typ) throw new PullmailError('bad_request', `typ must be ${typ}`);
  // a loose base64url decoder would let several strings stand for one signature
  if (!ED25519_SIG.test(s) || !(await verifyOffThread(Buffer.from(`${h}.${p}`), key, Buffer.from(s, 'base64url')))) {
    throw new PullmailError('bad_signature', 'signature does not verify');
  }
  try {
    const { payload } = UnsecuredJWT.decode(`${CLAIMS_ONLY_HEADER}.${p}.`, {
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
