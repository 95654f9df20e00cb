// verifyConsent and senderMatches (protocol §6): a consent token signed here admits mail from the
// senders in its aud to the recipient in its sub. One row per token that must be ignored.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { TokenType } from '@pullmail/client/wire';
import { PullmailError, type ErrorCode } from '../errors.ts';
import { issueConsent, senderMatches, verifyConsent } from './consent.ts';
import { createFakeKeySet, type FakeKeySet } from './fake-key-set.ts';
import { forgeJws, type Signer } from './forge-jws.ts';

const NOW = 1_780_000_000;
const FOR = { rcpt: 'bob@b.test', sender: 'news@shop.test' };
let ours: FakeKeySet;
let stranger: FakeKeySet;
before(async () => {
  ours = await createFakeKeySet();
  stranger = await createFakeKeySet();
});

const goodClaims = (): Record<string, unknown> => ({ iss: 'b.test', sub: 'bob@b.test', aud: '@shop.test', max_uses: 5, iat: NOW, exp: NOW + 86_400, jti: 'c1' });
const goodHeader = (): Record<string, unknown> => ({ alg: 'EdDSA', typ: TokenType.consent, kid: ours.signer().kid });

interface Case {
  name: string;
  header?: (h: Record<string, unknown>) => unknown;
  claims?: (c: Record<string, unknown>) => unknown;
  signer?: 'stranger' | 'hmac' | 'unsigned';
  /** Sign with the stranger's key under the stranger's own kid. */
  strangerKid?: boolean;
  code: ErrorCode;
}

const BAD: Case[] = [
  { name: 'alg none', header: (h) => ({ ...h, alg: 'none' }), signer: 'unsigned', code: 'bad_signature' },
  { name: 'alg HS256', header: (h) => ({ ...h, alg: 'HS256' }), signer: 'hmac', code: 'bad_signature' },
  // a capability we issued is not a consent
  { name: 'typ of a capability', header: (h) => ({ ...h, typ: TokenType.capability }), code: 'bad_request' },
  { name: 'embedded jwk', header: (h) => ({ ...h, jwk: { kty: 'OKP', crv: 'Ed25519', x: 'AAAA' } }), code: 'bad_signature' },
  { name: 'jku header', header: (h) => ({ ...h, jku: 'https://evil.test/jwks' }), code: 'bad_signature' },
  // protocol §6: only the recipient's node signs consent; another node's token opens nothing here
  { name: "another node's key and kid", signer: 'stranger', strangerKid: true, code: 'unknown_key' },
  { name: 'our kid, another key', signer: 'stranger', code: 'bad_signature' },
  { name: 'expired beyond the skew', claims: (c) => ({ ...c, exp: NOW - 121 }), code: 'expired' },
  { name: 'iat 121 s in the future', claims: (c) => ({ ...c, iat: NOW + 121 }), code: 'expired' },
  // bob's token does not admit mail to carol
  { name: 'sub of another recipient', claims: (c) => ({ ...c, sub: 'carol@b.test' }), code: 'bad_request' },
  { name: 'sub missing', claims: ({ sub: _, ...c }) => c, code: 'bad_request' },
  // the token names who may use it; another sender presenting it is refused
  { name: 'aud of another sender', claims: (c) => ({ ...c, aud: 'news@other.test' }), code: 'bad_request' },
  // @domain means exactly that domain, not its subdomains
  { name: 'aud @domain of a parent of the sender domain', claims: (c) => ({ ...c, aud: '@test' }), code: 'bad_request' },
  { name: 'aud missing', claims: ({ aud: _, ...c }) => c, code: 'bad_request' },
  { name: 'jti missing', claims: ({ jti: _, ...c }) => c, code: 'bad_request' },
  { name: 'exp missing', claims: ({ exp: _, ...c }) => c, code: 'bad_request' },
];

async function token(c: Partial<Case>): Promise<string> {
  const header = c.header ? c.header(goodHeader()) : goodHeader();
  const signer: Signer = c.signer === 'unsigned' ? 'unsigned' : c.signer === 'hmac' ? { hmac: String((ours.jwks().keys[0] as { x: string }).x) } : { ed25519: (c.signer === 'stranger' ? stranger : ours).privateKey() };
  return forgeJws(c.strangerKid ? { ...(header as object), kid: stranger.signer().kid } : header, c.claims ? c.claims(goodClaims()) : goodClaims(), signer);
}

describe('verifyConsent', () => {
  it('accepts what issueConsent made, for a matching sender and the named recipient', async () => {
    const { token: t, jti } = await issueConsent(ours, { iss: 'b.test', sub: 'bob@b.test', aud: 'news@shop.test', max_uses: 2, exp: NOW + 60 }, NOW);
    const claims = await verifyConsent(ours, t, FOR, NOW);
    assert.equal(claims.jti, jti);
    assert.equal(claims.max_uses, 2);
  });

  const GOOD: [string, (c: Record<string, unknown>) => unknown][] = [
    ['aud @domain of the sender', (c) => c],
    ['aud the exact sender address', (c) => ({ ...c, aud: 'news@shop.test' })],
    // addresses compare in canonical form
    ['sub and aud in another case', (c) => ({ ...c, sub: 'Bob@B.Test', aud: 'News@Shop.Test' })],
    ['expired 119 s ago (inside the skew)', (c) => ({ ...c, exp: NOW - 119 })],
  ];
  for (const [name, claims] of GOOD) {
    it(`accepts ${name}`, async () => {
      assert.equal((await verifyConsent(ours, await token({ claims }), FOR, NOW)).iss, 'b.test');
    });
  }

  for (const c of BAD) {
    it(`refuses ${c.name} with ${c.code}`, async () => {
      await assert.rejects(verifyConsent(ours, await token(c), FOR, NOW), (err: unknown) => {
        assert.ok(err instanceof PullmailError, String(err));
        assert.equal(err.code, c.code, err.message);
        return true;
      });
    });
  }
});

describe('senderMatches', () => {
  const cases: [pattern: string, sender: string, matches: boolean][] = [
    ['@shop.test', 'news@shop.test', true],
    // a subdomain is another domain
    ['@shop.test', 'news@mail.shop.test', false],
    // a suffix that is not a label boundary
    ['@shop.test', 'news@evilshop.test', false],
    ['news@shop.test', 'news@shop.test', true],
    ['News@Shop.Test', 'news@shop.test', true],
    ['news@shop.test', 'other@shop.test', false],
    // not an address at all: matches nothing
    ['shop.test', 'news@shop.test', false],
  ];
  for (const [pattern, sender, matches] of cases) {
    it(`${pattern} ${matches ? 'matches' : 'does not match'} ${sender}`, () => {
      assert.equal(senderMatches(pattern, sender), matches);
    });
  }
});
