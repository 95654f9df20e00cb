// Consent tokens (docs/operator.md, protocol §6) through app.request(): create, list, revoke, and the
// token a sender then presents admitting their first contact.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { NotifyResult } from '@pullmail/client/wire';
import { seconds } from '../../context.ts';
import { verifyConsent } from '../../protocol/consent.ts';
import { sha256b64url } from '../../protocol/jws.ts';
import { signNotification } from '../../protocol/notification.ts';
import { createTestApp, type TestApp } from '../test-app.ts';

interface Created { id: string; token: string; sender: string; max_uses: number; expires_at: string }
interface Listed { id: string; sender: string; max_uses: number; uses: number; expires_at: string; revoked: boolean; created_at: string }

let t: TestApp;
let seq = 0;
const clock = Date.parse('2026-03-01T10:00:00Z');
before(async () => {
  t = await createTestApp({ env: { PULLMAIL_DOMAINS: 'a.test,b.test' }, now: () => clock });
});
after(() => t.close());

const user = () => t.addUser(`u${++seq}@b.test`);
const create = (token: string, json: unknown) => t.request('/api/v1/consent-tokens', { method: 'POST', token, json });
const list = async (token: string) => ((await (await t.request('/api/v1/consent-tokens', { token })).json()) as { tokens: Listed[] }).tokens;

async function notifyWith(consent: string, from: string, rcpt: string): Promise<NotifyResult> {
  const id = `c${++seq}`;
  const jws = await signNotification(t.ctx.keys, {
    iss: 'a.test', aud: 'b.test', kind: 'new',
    msg: { id, from, rcpt, version: 1, size: 1, sha256: sha256b64url('x'), sent_at: seconds(t.ctx) },
    fetch: { url: `${t.ctx.publicUrl}/pm/v1/messages/${id}`, cap: 'cap' },
    consent,
  }, seconds(t.ctx));
  const res = await t.request('/pm/v1/notify', { method: 'POST', headers: { 'content-type': 'application/jose' }, body: jws });
  return (await res.json()) as NotifyResult;
}

describe('consent tokens', () => {
  it('creates a token signed for the user and the sender pattern, with its expiry', async () => {
    const owner = await user();
    const res = await create(owner, { sender: '@Shop.A.Test', max_uses: 3, expires_in_days: 30 });
    assert.equal(res.status, 201);
    const c = (await res.json()) as Created;
    assert.equal(c.sender, '@shop.a.test');
    assert.equal(c.max_uses, 3);
    assert.equal(c.expires_at, new Date(clock + 30 * 86_400_000).toISOString());
    const claims = await verifyConsent(t.ctx.keys, c.token, { rcpt: `u${seq}@b.test`, sender: 'orders@shop.a.test' }, seconds(t.ctx));
    assert.equal(claims.max_uses, 3);
  });

  it('admits first contact up to max_uses, then holds again; listing counts the uses', async () => {
    const owner = await user();
    const rcpt = `u${seq}@b.test`;
    const c = (await (await create(owner, { sender: '@a.test', max_uses: 1, expires_in_days: 1 })).json()) as Created;
    assert.equal((await notifyWith(c.token, 'one@a.test', rcpt)).decision, 'fetch');
    const [listed] = await list(owner);
    assert.equal(listed.uses, 1);
    assert.equal(listed.revoked, false);
    // another sender of the same domain: the pattern matches, but the one use is spent
    assert.equal((await notifyWith(c.token, 'two@a.test', rcpt)).decision, 'hold');
  });

  it('does not admit a sender outside its pattern', async () => {
    const owner = await user();
    const c = (await (await create(owner, { sender: 'news@a.test', max_uses: 5, expires_in_days: 1 })).json()) as Created;
    assert.equal((await notifyWith(c.token, 'other@a.test', `u${seq}@b.test`)).decision, 'hold');
    assert.equal((await list(owner))[0].uses, 0);
  });

  it('lists only the caller\'s tokens; revoking marks one revoked and stops it admitting anyone', async () => {
    const owner = await user();
    const rcpt = `u${seq}@b.test`;
    const c = (await (await create(owner, { sender: '@a.test', max_uses: 10, expires_in_days: 7 })).json()) as Created;
    const other = await user();
    assert.deepEqual(await list(other), []);
    // another user cannot revoke it
    assert.equal((await t.request(`/api/v1/consent-tokens/${c.id}`, { method: 'DELETE', token: other })).status, 404);
    assert.equal((await t.request(`/api/v1/consent-tokens/${c.id}`, { method: 'DELETE', token: owner })).status, 204);
    const [listed] = await list(owner);
    assert.equal(listed.id, c.id);
    assert.equal(listed.revoked, true);
    assert.equal((await notifyWith(c.token, 'x@a.test', rcpt)).decision, 'hold');
  });

  it('is 404 revoking an unknown id', async () => {
    const res = await t.request('/api/v1/consent-tokens/00000000-0000-0000-0000-000000000000', { method: 'DELETE', token: await user() });
    assert.equal(res.status, 404);
  });

  const refused: [string, unknown][] = [
    // a consent names an address or @domain; a bare word matches nobody
    ['a sender that is no pattern', { sender: 'everyone', max_uses: 1, expires_in_days: 1 }],
    // zero uses admits nobody
    ['max_uses 0', { sender: '@a.test', max_uses: 0, expires_in_days: 1 }],
    ['fractional max_uses', { sender: '@a.test', max_uses: 1.5, expires_in_days: 1 }],
    // retired signing keys stay published a year; a longer token could outlive its key
    ['expires_in_days 366', { sender: '@a.test', max_uses: 1, expires_in_days: 366 }],
    ['expires_in_days 0', { sender: '@a.test', max_uses: 1, expires_in_days: 0 }],
    ['no expiry', { sender: '@a.test', max_uses: 1 }],
  ];
  for (const [name, body] of refused) {
    it(`is 400 bad_request for ${name}`, async () => {
      const res = await create(await user(), body);
      assert.equal(res.status, 400);
      assert.equal(((await res.json()) as { error: string }).error, 'bad_request');
    });
  }
});
