import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateKeyPairSync } from 'node:crypto';
import type { KeySet } from '../protocol/key-set.ts';
import { checkFormToken, issueFormToken } from './form-token.ts';

async function keySet(kid: string): Promise<KeySet> {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return { signer: () => ({ kid, key: privateKey }), publicKey: (k) => (k === kid ? publicKey : undefined), jwks: () => ({ keys: [] }), reload: async () => {}, refresh: async () => {} };
}

describe('form tokens', () => {
  it('hold only for their own page, before their expiry, from this node', async () => {
    const keys = await keySet('k1');
    const other = await keySet('k1');
    const t = await issueFormToken(keys, '/challenge/pageA', 1000, 60);
    const [kid, exp, sig] = t.split('.');
    const cases: [string, KeySet, unknown, string, number, boolean][] = [
      ['the page it was served for', keys, t, '/challenge/pageA', 1000, true],
      ['until its expiry', keys, t, '/challenge/pageA', 1060, true],
      // bound to the page: not an answer token for any other one
      ['another page', keys, t, '/challenge/pageB', 1000, false],
      ['after its expiry', keys, t, '/challenge/pageA', 1061, false],
      ['a later expiry written in', keys, `${kid}.${Number(exp) + 3600}.${sig}`, '/challenge/pageA', 1000, false],
      ['another node with the same kid', other, t, '/challenge/pageA', 1000, false],
      ['an unknown kid', keys, `k2.${exp}.${sig}`, '/challenge/pageA', 1000, false],
      ['no token', keys, undefined, '/challenge/pageA', 1000, false],
      ['garbage', keys, 'a.b.c.d', '/challenge/pageA', 1000, false],
    ];
    for (const [what, ks, token, scope, now, ok] of cases) assert.equal(await checkFormToken(ks, token, scope, now), ok, what);
  });
});
