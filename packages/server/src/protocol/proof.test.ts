// verifyProof (protocol §4): a proof binds one GET of one URL to one capability, signed by the
// capability holder's node, within ±120 s. One row per proof that must be refused.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { TokenType } from '@pullmail/client/wire';
import { PullmailError, type ErrorCode } from '../errors.ts';
import type { PeerKeys } from '../peers/peer-keys.ts';
import { createFakeKeySet, type FakeKeySet } from './fake-key-set.ts';
import { forgeJws, type Signer } from './forge-jws.ts';
import { sha256b64url } from './jws.ts';
import { createProof, verifyProof } from './proof.ts';

const NOW = 1_780_000_000;
const URL = 'https://node.a.test/pm/v1/messages/msg1';
const CAP = 'the-capability-token';
let bob: FakeKeySet; // b.test's node, which holds the capability and fetches
let stranger: FakeKeySet;
let peerKeys: PeerKeys;
before(async () => {
  bob = await createFakeKeySet();
  stranger = await createFakeKeySet();
  peerKeys = {
    async keyFor(domain, kid) {
      const key = domain === 'b.test' ? bob.publicKey(kid) : undefined;
      if (!key) throw new PullmailError('unknown_key', `${domain} does not publish ${kid}`);
      return key;
    },
    cacheSize: 0,
  };
});

const goodClaims = (): Record<string, unknown> => ({ iss: 'b.test', htm: 'GET', htu: URL, iat: NOW, exp: NOW + 240, jti: 'p1', ath: sha256b64url(CAP) });
const goodHeader = (): Record<string, unknown> => ({ alg: 'EdDSA', typ: TokenType.proof, kid: bob.signer().kid });
const expected = { expectedIss: 'b.test', url: URL, cap: CAP };

interface Case {
  name: string;
  header?: (h: Record<string, unknown>) => unknown;
  claims?: (c: Record<string, unknown>) => unknown;
  signer?: 'stranger' | 'hmac' | 'unsigned';
  code: ErrorCode;
}

const BAD: Case[] = [
  { name: 'alg none', header: (h) => ({ ...h, alg: 'none' }), signer: 'unsigned', code: 'bad_signature' },
  { name: 'alg HS256', header: (h) => ({ ...h, alg: 'HS256' }), signer: 'hmac', code: 'bad_signature' },
  // a capability presented in the proof header must not count as a proof
  { name: 'typ of a capability', header: (h) => ({ ...h, typ: TokenType.capability }), code: 'bad_request' },
  { name: 'jku header', header: (h) => ({ ...h, jku: 'https://evil.test/jwks' }), code: 'bad_signature' },
  { name: 'x5u header', header: (h) => ({ ...h, x5u: 'https://evil.test/c.pem' }), code: 'bad_signature' },
  { name: 'unknown kid', header: (h) => ({ ...h, kid: 'nope' }), code: 'unknown_key' },
  { name: "b.test's kid, another key", signer: 'stranger', code: 'bad_signature' },
  // protocol §4: only the node the capability was given to (its aud) may use it; a stolen capability is useless
  { name: 'iss other than the capability aud', claims: (c) => ({ ...c, iss: 'evil.test' }), code: 'bad_signature' },
  // the proof is for one request: another method or URL is a different request
  { name: 'htm POST', claims: (c) => ({ ...c, htm: 'POST' }), code: 'bad_request' },
  { name: 'htm missing', claims: ({ htm: _, ...c }) => c, code: 'bad_request' },
  { name: 'htu of another message', claims: (c) => ({ ...c, htu: 'https://node.a.test/pm/v1/messages/msg2' }), code: 'bad_request' },
  { name: 'htu with a query added', claims: (c) => ({ ...c, htu: `${URL}?x=1` }), code: 'bad_request' },
  // ath binds the proof to one capability: another capability's hash, or none, is a replay elsewhere
  { name: 'ath of another capability', claims: (c) => ({ ...c, ath: sha256b64url('other-cap') }), code: 'bad_signature' },
  { name: 'ath missing', claims: ({ ath: _, ...c }) => c, code: 'bad_signature' },
  // protocol §4: iat within ±120 s whatever exp says
  { name: 'iat 121 s ago with exp far ahead', claims: (c) => ({ ...c, iat: NOW - 121, exp: NOW + 3600 }), code: 'expired' },
  { name: 'iat 121 s in the future', claims: (c) => ({ ...c, iat: NOW + 121, exp: NOW + 400 }), code: 'expired' },
  { name: 'exp passed beyond the skew', claims: (c) => ({ ...c, iat: NOW - 100, exp: NOW - 121 }), code: 'expired' },
  // jti is what makes a proof single-use
  { name: 'jti missing', claims: ({ jti: _, ...c }) => c, code: 'bad_request' },
  { name: 'iat missing', claims: ({ iat: _, ...c }) => c, code: 'bad_request' },
];

function token(c: Partial<Case>): Promise<string> {
  const signer: Signer = c.signer === 'unsigned' ? 'unsigned' : c.signer === 'hmac' ? { hmac: String((bob.jwks().keys[0] as { x: string }).x) } : { ed25519: (c.signer === 'stranger' ? stranger : bob).privateKey() };
  return forgeJws(c.header ? c.header(goodHeader()) : goodHeader(), c.claims ? c.claims(goodClaims()) : goodClaims(), signer);
}

describe('verifyProof', () => {
  it('accepts what createProof made; the jti stays single-use until iat + skew', async () => {
    const proof = await createProof(bob, { iss: 'b.test', url: URL, cap: CAP }, NOW);
    const v = await verifyProof(peerKeys, proof, expected, NOW + 100);
    assert.equal(v.iss, 'b.test');
    assert.equal(v.exp, NOW + 120);
    assert.match(v.jti, /^[A-Za-z0-9][A-Za-z0-9_-]+$/);
  });

  const GOOD: [string, (c: Record<string, unknown>) => unknown][] = [
    ['iat 120 s ago', (c) => ({ ...c, iat: NOW - 120 })],
    ['iat 120 s ahead', (c) => ({ ...c, iat: NOW + 120, exp: NOW + 360 })],
    // exp is optional for proofs: iat alone bounds them
    ['no exp', ({ exp: _, ...c }) => c],
  ];
  for (const [name, claims] of GOOD) {
    it(`accepts a proof with ${name}`, async () => {
      assert.equal((await verifyProof(peerKeys, await token({ claims }), expected, NOW)).iss, 'b.test');
    });
  }

  for (const c of BAD) {
    it(`refuses ${c.name} with ${c.code}`, async () => {
      await assert.rejects(verifyProof(peerKeys, await token(c), expected, NOW), (err: unknown) => {
        assert.ok(err instanceof PullmailError, String(err));
        assert.equal(err.code, c.code, err.message);
        return true;
      });
    });
  }
});
