// Hand-made compact JWS for tests of protocol/*: any header, any claims, signed with an Ed25519 key,
// an HMAC secret or nothing at all, so a test can present exactly the token a hostile peer would.
import { createHmac } from 'node:crypto';
import type { CryptoKey } from 'jose';

const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

export type Signer = { ed25519: CryptoKey } | { hmac: string } | 'unsigned';

/** `header.claims.signature` with the header and claims as given (strings are taken as raw segments). */
export async function forgeJws(header: unknown, claims: unknown, signer: Signer): Promise<string> {
  const input = `${b64(header)}.${b64(claims)}`;
  if (signer === 'unsigned') return `${input}.`;
  if ('hmac' in signer) return `${input}.${createHmac('sha256', signer.hmac).update(input).digest('base64url')}`;
  const sig = await crypto.subtle.sign('Ed25519', signer.ed25519, Buffer.from(input));
  return `${input}.${Buffer.from(sig).toString('base64url')}`;
}
