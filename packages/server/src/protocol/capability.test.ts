// verifyCapability (protocol §3): a capability this node issued opens one message for one recipient;
// one row per token that must not.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { TokenType } from '@pullmail/client/wire';
import { PullmailError, type ErrorCode } from '../errors.ts';
import { issueCapability, verifyCapability } from './capability.ts';
import { createFakeKeySet, type FakeKeySet } from './fake-key-set.ts';
import { forgeJws, type Signer } from './forge-jws.ts';

const NOW = 1_780_000_000;
let ours: FakeKeySet;
let stranger: FakeKeySet;
before(async () => {
  ours = await createFakeKeySet();
  stranger = await createFakeKeySet();
});

const goodClaims = (): Record<string, unknown> => ({ iss: 'a.test', aud: 'b.test', sub: 'msg1', rcpt: 'bob@b.test', scope: 'fetch', iat: NOW, exp: NOW + 3600, jti: 'j1' });
const goodHeader = (): Record<string, unknown> => ({ alg: 'EdDSA', typ: TokenType.capability, kid: ours.signer().kid });

interface Case {
  name: string;
  header?: (h: Record<string, unknown>) => unknown;
  claims?: (c: Record<string, unknown>) => unknown;
  signer?: 'stranger' | 'hmac' | 'unsigned';
  code: ErrorCode;
}

const BAD: Case[] = [
  // EdDSA only: "none" and an HMAC keyed with public material are forgeries
  { name: 'alg none', header: (h) => ({ ...h, alg: 'none' }), signer: 'unsigned', code: 'bad_signature' },
  { name: 'alg HS256', header: (h) => ({ ...h, alg: 'HS256' }), signer: 'hmac', code: 'bad_signature' },
  // a notification or consent token we signed is not a capability
  { name: 'typ of a notification', header: (h) => ({ ...h, typ: TokenType.notify }), code: 'bad_request' },
  { name: 'typ of a consent token', header: (h) => ({ ...h, typ: TokenType.consent }), code: 'bad_request' },
  // only our own published keys verify a capability; a key URL is never followed
  { name: 'jku header', header: (h) => ({ ...h, jku: 'https://evil.test/jwks' }), code: 'bad_signature' },
  { name: 'embedded jwk', header: (h) => ({ ...h, jwk: { kty: 'OKP', crv: 'Ed25519', x: 'AAAA' } }), code: 'bad_signature' },
  // a kid we never had (after one reload, in case another process rotated)
  { name: 'unknown kid', header: (h) => ({ ...h, kid: 'nope' }), code: 'unknown_key' },
  { name: 'our kid, another key', signer: 'stranger', code: 'bad_signature' },
  { name: 'expired beyond the skew', claims: (c) => ({ ...c, exp: NOW - 121 }), code: 'expired' },
  { name: 'iat 121 s in the future', claims: (c) => ({ ...c, iat: NOW + 121 }), code: 'expired' },
  // protocol §3: the only scope is fetch
  { name: 'scope admin', claims: (c) => ({ ...c, scope: 'admin' }), code: 'bad_request' },
  { name: 'scope missing', claims: ({ scope: _, ...c }) => c, code: 'bad_request' },
  // without sub or rcpt it would open any message for anyone
  { name: 'sub missing', claims: ({ sub: _, ...c }) => c, code: 'bad_request' },
  { name: 'rcpt missing', claims: ({ rcpt: _, ...c }) => c, code: 'bad_request' },
  { name: 'rcpt a number', claims: (c) => ({ ...c, rcpt: 7 }), code: 'bad_request' },
  { name: 'aud missing', claims: ({ aud: _, ...c }) => c, code: 'bad_request' },
  { name: 'exp missing', claims: ({ exp: _, ...c }) => c, code: 'bad_request' },
  { name: 'jti missing', claims: ({ jti: _, ...c }) => c, code: 'bad_request' },
];

function token(c: Partial<Case>): Promise<string> {
  const signer: Signer = c.signer === 'unsigned' ? 'unsigned' : c.signer === 'hmac' ? { hmac: String((ours.jwks().keys[0] as { x: string }).x) } : { ed25519: (c.signer === 'stranger' ? stranger : ours).privateKey() };
  return forgeJws(c.header ? c.header(goodHeader()) : goodHeader(), c.claims ? c.claims(goodClaims()) : goodClaims(), signer);
}

describe('verifyCapability', () => {
  it('accepts what issueCapability made and gives back its claims', async () => {
    const cap = await issueCapability(ours, { iss: 'a.test', aud: 'b.test', sub: 'msg1', rcpt: 'bob@b.test', exp: NOW + 60 }, NOW);
    assert.deepEqual(await verifyCapability(ours, cap, NOW), { iss: 'a.test', aud: 'b.test', sub: 'msg1', rcpt: 'bob@b.test', exp: NOW + 60 });
  });

  it('accepts a capability signed by a key since rotated away from (it stays published)', async () => {
    const keys = await createFakeKeySet();
    const cap = await issueCapability(keys, { iss: 'a.test', aud: 'b.test', sub: 'm', rcpt: 'bob@b.test', exp: NOW + 60 }, NOW);
    await keys.rotate();
    assert.equal((await verifyCapability(keys, cap, NOW)).sub, 'm');
  });

  it('accepts a capability expired 119 s ago (inside the skew)', async () => {
    assert.equal((await verifyCapability(ours, await token({ claims: (c) => ({ ...c, exp: NOW - 119 }) }), NOW)).sub, 'msg1');
  });

  for (const c of BAD) {
    it(`refuses ${c.name} with ${c.code}`, async () => {
      await assert.rejects(verifyCapability(ours, await token(c), NOW), (err: unknown) => {
        assert.ok(err instanceof PullmailError, String(err));
        assert.equal(err.code, c.code, err.message);
        return true;
      });
    });
  }
});
