// verifyNotification (protocol §2): a good notification and, one per row, each way a notification
// must be refused, with the wire code the sender gets.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { TokenType } from '@pullmail/client/wire';
import { PullmailError, type ErrorCode } from '../errors.ts';
import type { Discovery, PeerNode } from '../peers/discovery.ts';
import type { PeerKeys } from '../peers/peer-keys.ts';
import { createFakeKeySet, type FakeKeySet } from './fake-key-set.ts';
import { forgeJws, type Signer } from './forge-jws.ts';
import { sha256b64url } from './jws.ts';
import { isLookupableIss, signNotification, verifyNotification, type VerifyDeps } from './notification.ts';

const NOW = 1_780_000_000;
const ORIGIN = 'https://node.a.test';

let alice: FakeKeySet; // a.test's node, the sender
let stranger: FakeKeySet; // keys nobody published
let deps: VerifyDeps;

before(async () => {
  alice = await createFakeKeySet();
  stranger = await createFakeKeySet();
  const peerKeys: PeerKeys = {
    async keyFor(domain, kid) {
      const key = domain.toLowerCase() === 'a.test' ? alice.publicKey(kid) : undefined;
      if (!key) throw new PullmailError('unknown_key', `${domain} does not publish ${kid}`);
      return key;
    },
    cacheSize: 0,
  };
  const node: PeerNode = { base: ORIGIN, origin: ORIGIN, notify: `${ORIGIN}/pm/v1/notify`, jwksUri: `${ORIGIN}/jwks`, domains: ['a.test'], maxMessageBytes: 1e6, source: 'static' };
  const discovery: Discovery = { discover: async (d) => (d === 'a.test' ? node : null), forget: () => {}, cacheSize: 0 };
  deps = { ourDomains: ['b.test'], peerKeys, discovery };
});

function goodClaims(): Record<string, unknown> {
  return {
    iss: 'a.test',
    aud: 'b.test',
    iat: NOW,
    exp: NOW + 600,
    jti: 'jti-1',
    kind: 'new',
    msg: { id: 'msg1', from: 'alice@a.test', rcpt: 'bob@b.test', version: 1, size: 100, sha256: sha256b64url('x'), subject: 'hi', sent_at: NOW },
    fetch: { url: `${ORIGIN}/pm/v1/messages/msg1`, cap: 'cap' },
  };
}
const goodHeader = () => ({ alg: 'EdDSA', typ: TokenType.notify, kid: alice.signer().kid }) as Record<string, unknown>;

interface Case {
  name: string;
  header?: (h: Record<string, unknown>) => unknown;
  claims?: (c: Record<string, unknown>) => unknown;
  /** Who signs: alice's key (default), a key nobody published, an HMAC secret, or nobody. */
  signer?: 'stranger' | 'hmac' | 'unsigned';
  /** A raw body instead of a token. */
  raw?: string;
  code: ErrorCode;
}

const msg = (c: Record<string, unknown>, over: Record<string, unknown>) => ({ ...c, msg: { ...(c.msg as object), ...over } });

const BAD: Case[] = [
  // protocol "Names": EdDSA only; "none" would let anyone write any claims
  { name: 'alg none, unsigned', header: (h) => ({ ...h, alg: 'none' }), signer: 'unsigned', code: 'bad_signature' },
  // an HMAC "signed" with a public value (the JWK x) is the classic algorithm-confusion forgery
  { name: 'alg HS256', header: (h) => ({ ...h, alg: 'HS256' }), signer: 'hmac', code: 'bad_signature' },
  // each token kind has its own typ: a capability or proof must never pass as a notification
  { name: 'typ of a capability', header: (h) => ({ ...h, typ: TokenType.capability }), code: 'bad_request' },
  { name: 'typ missing', header: ({ typ: _, ...h }) => h, code: 'bad_request' },
  // without a kid there is no key to choose; guessing would let an attacker pick
  { name: 'kid missing', header: ({ kid: _, ...h }) => h, code: 'bad_request' },
  // protocol §1: keys come from the sender's discovered JWKS only; a token naming its own key or key URL is refused
  { name: 'jku header', header: (h) => ({ ...h, jku: 'https://evil.test/jwks.json' }), code: 'bad_signature' },
  { name: 'x5u header', header: (h) => ({ ...h, x5u: 'https://evil.test/cert.pem' }), code: 'bad_signature' },
  { name: 'embedded jwk', header: (h) => ({ ...h, jwk: { kty: 'OKP', crv: 'Ed25519', x: 'AAAA' } }), code: 'bad_signature' },
  { name: 'x5c header', header: (h) => ({ ...h, x5c: ['MIIB'] }), code: 'bad_signature' },
  // extensions we do not understand must not be silently ignored
  { name: 'crit header', header: (h) => ({ ...h, crit: ['exp'] }), code: 'bad_request' },
  // a kid a.test does not publish
  { name: 'unknown kid', header: (h) => ({ ...h, kid: 'no-such-kid' }), code: 'unknown_key' },
  // the right kid, another key: the signature check is what binds the claims to a.test
  { name: 'signed by an unpublished key under a published kid', signer: 'stranger', code: 'bad_signature' },
  { name: 'signature of other claims', raw: 'swap-payload', code: 'bad_signature' },
  // 121 s past exp is beyond the 120 s skew
  { name: 'expired beyond the skew', claims: (c) => ({ ...c, iat: NOW - 721, exp: NOW - 121 }), code: 'expired' },
  // protocol "Names": iat more than 120 s ahead of our clock
  { name: 'iat 121 s in the future', claims: (c) => ({ ...c, iat: NOW + 121, exp: NOW + 700 }), code: 'expired' },
  // protocol §2: a notification lives at most 900 s
  { name: 'exp - iat of 901 s', claims: (c) => ({ ...c, exp: NOW + 901 }), code: 'bad_request' },
  { name: 'jti missing', claims: ({ jti: _, ...c }) => c, code: 'bad_request' },
  { name: 'exp missing', claims: ({ exp: _, ...c }) => c, code: 'bad_request' },
  { name: 'iss missing', claims: ({ iss: _, ...c }) => c, code: 'bad_request' },
  // not for a domain we serve
  { name: 'aud of another node', claims: (c) => ({ ...c, aud: 'c.test', msg: { ...(c.msg as object), rcpt: 'bob@c.test' } }), code: 'wrong_audience' },
  // the recipient must be at aud: one notification, one recipient of ours
  { name: 'rcpt not at aud', claims: (c) => msg(c, { rcpt: 'bob@c.test' }), code: 'wrong_audience' },
  { name: 'rcpt as a list', claims: (c) => msg(c, { rcpt: ['bob@b.test', 'carol@b.test'] }), code: 'bad_request' },
  // no date could hold it: the batch path stored NULL, the single one failed with a 500
  { name: 'sent_at past what a date holds', claims: (c) => msg(c, { sent_at: 9e12 }), code: 'bad_request' },
  { name: 'sent_at before 1970', claims: (c) => msg(c, { sent_at: -1 }), code: 'bad_request' },
  // protocol §2 alignment: a.test's node may only speak for a.test senders
  { name: 'from not at iss', claims: (c) => msg(c, { from: 'ceo@bank.test' }), code: 'misaligned_sender' },
  { name: 'from at a subdomain of iss', claims: (c) => msg(c, { from: 'x@mail.a.test' }), code: 'misaligned_sender' },
  // the fetch must go to the node discovery gives for iss, or a notification could point us anywhere
  { name: 'fetch.url on another origin', claims: (c) => ({ ...c, fetch: { url: 'https://evil.test/pm/v1/messages/msg1', cap: 'cap' } }), code: 'misaligned_sender' },
  { name: 'fetch.url on another port of the node', claims: (c) => ({ ...c, fetch: { url: 'https://node.a.test:8443/pm/v1/messages/msg1', cap: 'cap' } }), code: 'misaligned_sender' },
  { name: 'fetch.url naming another message', claims: (c) => ({ ...c, fetch: { url: `${ORIGIN}/pm/v1/messages/other`, cap: 'cap' } }), code: 'bad_request' },
  { name: 'msg.id with a slash', claims: (c) => ({ ...msg(c, { id: 'a/b' }), fetch: { url: `${ORIGIN}/pm/v1/messages/a/b`, cap: 'cap' } }), code: 'bad_request' },
  { name: 'an unknown kind', claims: (c) => ({ ...c, kind: 'delete' }), code: 'bad_request' },
  { name: 'sha256 of the wrong length', claims: (c) => msg(c, { sha256: 'abc' }), code: 'bad_request' },
  { name: 'version 0', claims: (c) => msg(c, { version: 0 }), code: 'bad_request' },
  // shapes that are not a compact JWS at all
  { name: 'four segments', raw: 'a.b.c.d', code: 'bad_request' },
  { name: 'a header that is not JSON', raw: `${Buffer.from('not json').toString('base64url')}.e30.sig`, code: 'bad_request' },
];

const GOOD: Omit<Case, 'code'>[] = [
  { name: 'a plain new notification' },
  // clocks differ: 119 s past exp is still inside the skew
  { name: 'expired 119 s ago', claims: (c) => ({ ...c, iat: NOW - 700, exp: NOW - 119 }) },
  { name: 'iat 119 s in the future', claims: (c) => ({ ...c, iat: NOW + 119, exp: NOW + 700 }) },
  { name: 'exp - iat of exactly 900 s', claims: (c) => ({ ...c, exp: NOW + 900 }) },
  // domains compare case-insensitively; the verified claims carry them lower-case
  { name: 'iss and aud in upper case', claims: (c) => ({ ...c, iss: 'A.TEST', aud: 'B.TEST' }) },
  { name: 'a retract', claims: (c) => ({ ...c, kind: 'retract' }) },
];

async function token(c: Partial<Case>): Promise<string> {
  if (c.raw === 'swap-payload') {
    const [h, , s] = (await token({})).split('.');
    return `${h}.${Buffer.from(JSON.stringify(msg(goodClaims(), { size: 1 }))).toString('base64url')}.${s}`;
  }
  if (c.raw) return c.raw;
  const header = c.header ? c.header(goodHeader()) : goodHeader();
  const claims = c.claims ? c.claims(goodClaims()) : goodClaims();
  const signer: Signer =
    c.signer === 'unsigned' ? 'unsigned' : c.signer === 'hmac' ? { hmac: String((alice.jwks().keys[0] as { x: string }).x) } : { ed25519: (c.signer === 'stranger' ? stranger : alice).privateKey() };
  return forgeJws(header, claims, signer);
}

describe('verifyNotification', () => {
  for (const c of GOOD) {
    it(`accepts ${c.name}`, async () => {
      const claims = await verifyNotification(await token(c), deps, NOW);
      assert.equal(claims.iss, 'a.test');
      assert.equal(claims.aud, 'b.test');
      assert.equal(claims.msg.rcpt, 'bob@b.test');
    });
  }
  for (const c of BAD) {
    it(`refuses ${c.name} with ${c.code}`, async () => {
      await assert.rejects(verifyNotification(await token(c), deps, NOW), (err: unknown) => {
        assert.ok(err instanceof PullmailError, String(err));
        assert.equal(err.code, c.code, err.message);
        return true;
      });
    });
  }

  it('verifies what signNotification makes, with the lifetime capped at 900 s', async () => {
    const c = goodClaims();
    const jws = await signNotification(alice, { iss: 'a.test', aud: 'b.test', kind: 'new', msg: c.msg as never, fetch: c.fetch as never }, NOW, 5000);
    const claims = await verifyNotification(jws, deps, NOW);
    assert.equal(claims.exp - claims.iat, 900);
  });

  it('skips the fetch.url origin check for our own domains (local delivery has no discovered node)', async () => {
    const own: VerifyDeps = { ...deps, ourDomains: ['a.test', 'b.test'], discovery: { discover: async () => assert.fail('no discovery for our own domain'), forget: () => {}, cacheSize: 0 } };
    const jws = await token({ claims: (c) => ({ ...c, fetch: { url: 'http://localhost:8080/pm/v1/messages/msg1', cap: 'cap' } }) });
    assert.equal((await verifyNotification(jws, own, NOW)).iss, 'a.test');
  });
});

describe('isLookupableIss (protocol §2: only a domain name may cost a lookup before verification)', () => {
  const cases: [iss: string, ok: boolean, why: string][] = [
    ['a.test', true, 'a plain domain'],
    ['xn--bcher-kva.example', true, 'an A-label'],
    ['bücher.example', false, 'a U-label: the A-label form is the name'],
    ['A.test', false, 'not lower-case'],
    ['a.test:443', false, 'a port'],
    ['user@a.test', false, 'user info'],
    ['a.test/x', false, 'a path'],
    ['127.0.0.1', false, 'an IPv4 literal'],
    ['[::1]', false, 'an IPv6 literal'],
    ['0x7f.1', false, 'a numeric top-level label'],
    ['a..test', false, 'an empty label'],
    ['a.test.', false, 'a trailing dot'],
    ['-a.test', false, 'a label starting with a hyphen'],
    [`${'x'.repeat(64)}.test`, false, 'a label over 63 characters'],
  ];
  for (const [iss, ok, why] of cases) {
    it(`${JSON.stringify(iss)} -> ${ok} (${why})`, () => assert.equal(isLookupableIss(iss), ok));
  }
});
