// The node's Ed25519 key set: made at first start, rotated by `keys rotate`, published as a JWKS
// (protocol §1). Retired keys stay published until every token they signed has expired.
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JSONWebKeySet, type JWK } from 'jose';
import type { Db } from '../store/db.ts';
import { addKey, listKeys, type StoredKey } from '../store/node-keys.ts';

export interface SigningKey {
  kid: string;
  key: CryptoKey;
}

export interface KeySet {
  /** The key new signatures use. */
  signer(): SigningKey;
  /** A published public key by kid, for verifying our own tokens. */
  publicKey(kid: string): CryptoKey | undefined;
  jwks(): JSONWebKeySet;
  /** Re-reads keys from the database (after a rotation by another process). */
  reload(): Promise<void>;
}

async function newKey(): Promise<{ kid: string; publicJwk: JWK; privateJwk: JWK }> {
  const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  return { kid, publicJwk: { ...publicJwk, kid, alg: 'EdDSA', use: 'sig' }, privateJwk: { ...(await exportJWK(privateKey)), kid } };
}

/** Adds a new signing key; the old one keeps verifying. Returns the new kid. */
export async function rotateKeys(db: Db, now: Date): Promise<string> {
  const key = await newKey();
  await db.transaction((tx) => addKey(tx, key, now));
  return key.kid;
}

/**
 * Loads the key set, creating the first key when there is none.
 * @param publishSeconds how long a retired key stays published (the longest token lifetime).
 */
export async function loadKeySet(db: Db, opts: { now: () => Date; publishSeconds: number }): Promise<KeySet> {
  let signer: SigningKey;
  let published = new Map<string, { jwk: JWK; key: CryptoKey }>();

  async function reload(): Promise<void> {
    let stored = await listKeys(db);
    if (stored.length === 0) {
      await rotateKeys(db, opts.now());
      stored = await listKeys(db);
    }
    const current = stored.find((k) => !k.retiredAt) ?? stored[0];
    const cutoff = opts.now().getTime() - opts.publishSeconds * 1000;
    const next = new Map<string, { jwk: JWK; key: CryptoKey }>();
    for (const k of stored.filter((s: StoredKey) => !s.retiredAt || s.retiredAt.getTime() > cutoff)) {
      next.set(k.kid, { jwk: k.publicJwk, key: (await importJWK(k.publicJwk, 'EdDSA')) as CryptoKey });
    }
    signer = { kid: current.kid, key: (await importJWK(current.privateJwk, 'EdDSA')) as CryptoKey };
    published = next;
  }
  await reload();

  return {
    signer: () => signer,
    publicKey: (kid) => published.get(kid)?.key,
    jwks: () => ({
      keys: [...published.values()].map(({ jwk }) => ({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, kid: jwk.kid, alg: 'EdDSA', use: 'sig' })),
    }),
    reload,
  };
}
