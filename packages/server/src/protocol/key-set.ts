// The node's Ed25519 key set: made at first start, rotated by `keys rotate`, published as a JWKS
// (protocol §1). Retired keys stay published until every token they signed has expired.
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JSONWebKeySet, type JWK } from 'jose';
import type { Db } from '../store/db.ts';
import { addFirstKey, addKey, listKeys, type StoredKey } from '../store/node-keys.ts';

export interface SigningKey {
  kid: string;
  /** The Ed25519 private key, as node:crypto signs with it (protocol/jws.ts). */
  key: KeyObject;
}

export interface KeySet {
  /** The key new signatures use. */
  signer(): SigningKey;
  /** A published public key by kid, for verifying our own tokens. */
  publicKey(kid: string): KeyObject | undefined;
  jwks(): JSONWebKeySet;
  /** Re-reads keys from the database (after a rotation by another process). */
  reload(): Promise<void>;
  /** Re-reads keys unless that was done less than `maxAgeMs` ago (what is published must include keys other processes made). */
  refresh(maxAgeMs: number): Promise<void>;
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
  let published = new Map<string, { jwk: JWK; key: KeyObject }>();

  async function reload(): Promise<void> {
    let stored = await listKeys(db);
    if (stored.length === 0) {
      const key = await newKey();
      await db.transaction((tx) => addFirstKey(tx, key, opts.now()));
      stored = await listKeys(db);
    }
    const current = stored.find((k) => !k.retiredAt) ?? stored[0];
    const cutoff = opts.now().getTime() - opts.publishSeconds * 1000;
    const next = new Map<string, { jwk: JWK; key: KeyObject }>();
    for (const k of stored.filter((s: StoredKey) => !s.retiredAt || s.retiredAt.getTime() > cutoff)) {
      next.set(k.kid, { jwk: k.publicJwk, key: ed25519PublicKey(k.publicJwk) });
    }
    signer = { kid: current.kid, key: createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', x: current.privateJwk.x!, d: current.privateJwk.d! }, format: 'jwk' }) };
    published = next;
    loadedAt = Date.now();
  }
  let loadedAt = 0;
  let refreshing: Promise<void> | undefined;
  await reload();

  return {
    signer: () => signer,
    publicKey: (kid) => published.get(kid)?.key,
    jwks: () => ({
      keys: [...published.values()].map(({ jwk }) => ({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, kid: jwk.kid, alg: 'EdDSA', use: 'sig' })),
    }),
    reload,
    async refresh(maxAgeMs) {
      if (Date.now() - loadedAt < maxAgeMs) return;
      refreshing ??= reload().finally(() => (refreshing = undefined));
      await refreshing;
    },
  };
}

/** A node:crypto public key from an Ed25519 JWK (`kty` OKP, `crv` Ed25519, `x`); throws on anything else. */
export function ed25519PublicKey(jwk: Pick<JWK, 'kty' | 'crv' | 'x'>): KeyObject {
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string') throw new TypeError('not an Ed25519 public JWK');
  const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: jwk.x }, format: 'jwk' });
  if (key.asymmetricKeyType !== 'ed25519') throw new TypeError('not an Ed25519 key');
  return key;
}
