// In-memory KeySet for tests of protocol/*: Ed25519 keys made on the spot, no database. The real one
// (key-set.ts) loads and rotates keys in the store.
import { KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import type { KeySet, SigningKey } from './key-set.ts';

export interface FakeKeySet extends KeySet {
  /** The private key of the current signer, for tests that sign tokens by hand. */
  privateKey(): CryptoKey;
  /** Makes a new signing key; the old ones stay published. Returns its kid. */
  rotate(): Promise<string>;
}

export async function createFakeKeySet(): Promise<FakeKeySet> {
  const published = new Map<string, { jwk: JWK; key: KeyObject }>();
  let signer: SigningKey;
  let privateKey: CryptoKey;
  async function rotate(): Promise<string> {
    const pair = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    const jwk = await exportJWK(pair.publicKey);
    const kid = await calculateJwkThumbprint(jwk);
    published.set(kid, { jwk: { ...jwk, kid, alg: 'EdDSA', use: 'sig' }, key: KeyObject.from(pair.publicKey) });
    signer = { kid, key: KeyObject.from(pair.privateKey) };
    privateKey = pair.privateKey;
    return kid;
  }
  await rotate();
  return {
    signer: () => signer,
    privateKey: () => privateKey,
    publicKey: (kid) => published.get(kid)?.key,
    jwks: () => ({ keys: [...published.values()].map((p) => p.jwk) }),
    reload: async () => {},
    refresh: async () => {},
    rotate,
  };
}
