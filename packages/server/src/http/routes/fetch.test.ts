// GET /pm/v1/messages/:id (protocol §4, §5) through app.request(): a capability and a proof open one
// message once; every missing, wrong or reused credential is refused with the status the protocol names.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AUTH_SCHEME_CAP, HEADER_PROOF, type SendResponse } from '@pullmail/client/wire';
import { seconds } from '../../context.ts';
import { issueCapability } from '../../protocol/capability.ts';
import { createFakeKeySet } from '../../protocol/fake-key-set.ts';
import { createProof } from '../../protocol/proof.ts';
import { createTestApp, type TestApp } from '../test-app.ts';

let t: TestApp;
let alice: string;
before(async () => {
  // bob@b.test is local: this node holds b.test's keys, so it can sign bob's node's proofs
  t = await createTestApp({ env: { PULLMAIL_DOMAINS: 'a.test,b.test' } });
  alice = await t.addUser('alice@a.test');
  await t.addUser('bob@b.test');
});
after(() => t.close());

async function sent(): Promise<string> {
  const res = await t.request('/api/v1/messages', { method: 'POST', token: alice, json: { to: ['bob@b.test'], subject: 's', text: 'fetch me' } });
  return ((await res.json()) as SendResponse).id;
}
const urlOf = (id: string) => `${t.ctx.publicUrl}/pm/v1/messages/${id}`;
const capFor = (id: string, over: { exp?: number } = {}) => issueCapability(t.ctx.keys, { iss: 'a.test', aud: 'b.test', sub: id, rcpt: 'bob@b.test', exp: over.exp ?? seconds(t.ctx) + 3600 }, seconds(t.ctx));
const get = (id: string, headers: Record<string, string>) => t.request(`/pm/v1/messages/${id}`, { headers });
const errorOf = async (res: Response) => ((await res.json()) as { error: string }).error;

describe('GET /pm/v1/messages/:id', () => {
  it('serves the bytes with PM-Version and Content-Digest, once per proof', async () => {
    const id = await sent();
    const cap = await capFor(id);
    const proof = await createProof(t.ctx.keys, { iss: 'b.test', url: urlOf(id), cap }, seconds(t.ctx));
    const res = await get(id, { authorization: `${AUTH_SCHEME_CAP} ${cap}`, [HEADER_PROOF]: proof });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'message/rfc822');
    assert.equal(res.headers.get('pm-version'), '1');
    const bytes = Buffer.from(await res.arrayBuffer());
    assert.equal(res.headers.get('content-length'), String(bytes.length));
    const { createHash } = await import('node:crypto');
    assert.equal(res.headers.get('content-digest'), `sha-256=:${createHash('sha256').update(bytes).digest('base64')}:`);
    // protocol §4: the proof's jti is single-use
    const again = await get(id, { authorization: `${AUTH_SCHEME_CAP} ${cap}`, [HEADER_PROOF]: proof });
    assert.equal(again.status, 401);
    assert.equal(await errorOf(again), 'replayed');
  });

  it('is 401 without a capability, without a proof, and with a capability that is not a JWS', async () => {
    const id = await sent();
    const cap = await capFor(id);
    const proof = await createProof(t.ctx.keys, { iss: 'b.test', url: urlOf(id), cap }, seconds(t.ctx));
    const cases: [string, Record<string, string>][] = [
      ['no Authorization', { [HEADER_PROOF]: proof }],
      // the capability travels under the PM-Cap scheme, never as a bearer token
      ['the capability as a bearer token', { authorization: `Bearer ${cap}`, [HEADER_PROOF]: proof }],
      ['no PM-Proof', { authorization: `${AUTH_SCHEME_CAP} ${cap}` }],
      // protocol §4: a malformed token is a 401 too, not a 400
      ['a capability that is not a JWS', { authorization: `${AUTH_SCHEME_CAP} garbage`, [HEADER_PROOF]: proof }],
      ['a proof that is not a JWS', { authorization: `${AUTH_SCHEME_CAP} ${cap}`, [HEADER_PROOF]: 'garbage' }],
    ];
    for (const [name, headers] of cases) {
      const res = await get(id, headers);
      assert.equal(res.status, 401, name);
    }
  });

  it('is 401 bad_signature for a capability signed by a key this node never had', async () => {
    const id = await sent();
    const stranger = await createFakeKeySet();
    const cap = await issueCapability(stranger, { iss: 'a.test', aud: 'b.test', sub: id, rcpt: 'bob@b.test', exp: seconds(t.ctx) + 3600 }, seconds(t.ctx));
    const proof = await createProof(t.ctx.keys, { iss: 'b.test', url: urlOf(id), cap }, seconds(t.ctx));
    const res = await get(id, { authorization: `${AUTH_SCHEME_CAP} ${cap}`, [HEADER_PROOF]: proof });
    assert.equal(res.status, 401);
    assert.equal(await errorOf(res), 'bad_signature');
  });

  it('is 401 expired for an expired capability', async () => {
    const id = await sent();
    const cap = await issueCapability(t.ctx.keys, { iss: 'a.test', aud: 'b.test', sub: id, rcpt: 'bob@b.test', exp: seconds(t.ctx) - 3600 }, seconds(t.ctx) - 7200);
    const proof = await createProof(t.ctx.keys, { iss: 'b.test', url: urlOf(id), cap }, seconds(t.ctx));
    const res = await get(id, { authorization: `${AUTH_SCHEME_CAP} ${cap}`, [HEADER_PROOF]: proof });
    assert.equal(res.status, 401);
    assert.equal(await errorOf(res), 'expired');
  });

  it('is 404 for a capability of another message, and for a message that does not exist', async () => {
    const id = await sent();
    const other = await sent();
    const cap = await capFor(other);
    // the proof is right for the URL asked; the capability opens another message
    const proof = await createProof(t.ctx.keys, { iss: 'b.test', url: urlOf(id), cap }, seconds(t.ctx));
    const res = await get(id, { authorization: `${AUTH_SCHEME_CAP} ${cap}`, [HEADER_PROOF]: proof });
    assert.equal(res.status, 404);
    assert.equal(await errorOf(res), 'not_found');

    const ghostCap = await capFor('no-such-message');
    const ghostProof = await createProof(t.ctx.keys, { iss: 'b.test', url: urlOf('no-such-message'), cap: ghostCap }, seconds(t.ctx));
    const ghost = await get('no-such-message', { authorization: `${AUTH_SCHEME_CAP} ${ghostCap}`, [HEADER_PROOF]: ghostProof });
    assert.equal(ghost.status, 404);
  });

  it('is 400-as-401 for a proof of another URL (protocol §4: the proof binds one GET of one URL)', async () => {
    const id = await sent();
    const cap = await capFor(id);
    const proof = await createProof(t.ctx.keys, { iss: 'b.test', url: `${urlOf(id)}?x=1`, cap }, seconds(t.ctx));
    const res = await get(id, { authorization: `${AUTH_SCHEME_CAP} ${cap}`, [HEADER_PROOF]: proof });
    assert.equal(res.status, 401);
    assert.equal(await errorOf(res), 'bad_request');
  });
});
