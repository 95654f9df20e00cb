// POST /pm/v1/notify and /pm/v1/notify/batch (protocol §2) through app.request(): the answers a
// peer gets for good notifications and for each way a request can be malformed or unsigned.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type NotifyResult } from '@pullmail/client/wire';
import { seconds } from '../../context.ts';
import { signNotification, type NotificationInput } from '../../protocol/notification.ts';
import { sha256b64url } from '../../protocol/jws.ts';
import { createTestApp, type TestApp } from '../test-app.ts';

let t: TestApp;
let seq = 0;
before(async () => {
  // a.test and b.test are both served here, so a.test's notifications are signed with keys this node has
  t = await createTestApp({ env: { PULLMAIL_DOMAINS: 'a.test,b.test', PULLMAIL_MAX_REQUEST_BYTES: '16384' } });
  await t.addUser('bob@b.test');
});
after(() => t.close());

function input(over: Partial<NotificationInput['msg']> = {}): NotificationInput {
  const id = `m${++seq}`;
  return {
    iss: 'a.test',
    aud: 'b.test',
    kind: 'new',
    msg: { id, from: 'alice@a.test', rcpt: 'bob@b.test', version: 1, size: 10, sha256: sha256b64url('x'), subject: 'hi', sent_at: seconds(t.ctx), ...over },
    fetch: { url: `${t.ctx.publicUrl}/pm/v1/messages/${id}`, cap: 'cap-token' },
  };
}
const sign = (i: NotificationInput = input()) => signNotification(t.ctx.keys, i, seconds(t.ctx));
const notify = (body: string, type = 'application/jose') => t.request('/pm/v1/notify', { method: 'POST', headers: { 'content-type': type }, body });
const answer = async (res: Response) => (await res.json()) as { error: string; detail: string };

describe('POST /pm/v1/notify', () => {
  it('holds first contact (the default policy) and answers idempotently to the same notification', async () => {
    const jws = await sign();
    const first = await notify(jws);
    assert.equal(first.status, 200);
    assert.deepEqual(await first.json(), { decision: 'hold', reason: 'first_contact' } satisfies NotifyResult);
    const again = await notify(jws);
    assert.deepEqual(await again.json(), { decision: 'hold', reason: 'first_contact' });
  });

  it('rejects a recipient with no mailbox here in the answer, not as an error', async () => {
    const res = await notify(await sign(input({ rcpt: 'nobody@b.test' })));
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { decision: 'reject', reason: 'unknown_recipient' });
  });

  const badType: [string, string][] = [
    // protocol §2: the wrong Content-Type is a 400 between nodes, never a 415
    ['application/json', 'a JWS posted as JSON'],
    ['text/plain', 'a JWS posted as text'],
    ['', 'no Content-Type at all'],
  ];
  for (const [type, why] of badType) {
    it(`is 400 bad_request for ${why}`, async () => {
      const res = await t.request('/pm/v1/notify', { method: 'POST', headers: type ? { 'content-type': type } : {}, body: await sign() });
      assert.equal(res.status, 400);
      const a = await answer(res);
      assert.equal(a.error, 'bad_request');
      assert.match(a.detail, /application\/jose/);
    });
  }

  it('is 400 bad_request for a body that is not a compact JWS', async () => {
    for (const body of ['', 'hello', 'a.b', 'a.b.c.d']) {
      const res = await notify(body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal((await answer(res)).error, 'bad_request');
    }
  });

  it('is 401 bad_signature for a JWS whose signature does not verify', async () => {
    const [h, p, s] = (await sign()).split('.');
    // the same header and claims, the signature of other bytes
    const flipped = `${h}.${p}.${s[0] === 'A' ? 'B' : 'A'}${s.slice(1)}`;
    const res = await notify(flipped);
    assert.equal(res.status, 401);
    assert.equal((await answer(res)).error, 'bad_signature');
  });

  it('is 401 unknown_key for a kid the sender does not publish', async () => {
    const [, p, s] = (await sign()).split('.');
    const h = Buffer.from(JSON.stringify({ alg: 'EdDSA', typ: 'pm-notify+jwt', kid: 'not-a-published-kid' })).toString('base64url');
    const res = await notify(`${h}.${p}.${s}`);
    assert.equal(res.status, 401);
    assert.equal((await answer(res)).error, 'unknown_key');
  });

  it('is 401 wrong_audience for a notification to a domain not served here', async () => {
    const i = input({ rcpt: 'bob@c.test' });
    const res = await notify(await sign({ ...i, aud: 'c.test' }));
    assert.equal(res.status, 401);
    assert.equal((await answer(res)).error, 'wrong_audience');
  });

  it('is 413 too_large for a body over PULLMAIL_MAX_REQUEST_BYTES', async () => {
    const res = await notify(`${await sign()}${' '.repeat(16_384)}`);
    assert.equal(res.status, 413);
    assert.equal((await answer(res)).error, 'too_large');
  });
});

describe('POST /pm/v1/notify/batch', () => {
  it('answers each item in order, a refused one with its error in place', async () => {
    const good = await sign();
    const res = await t.request('/pm/v1/notify/batch', { method: 'POST', json: { notifications: [good, 'not-a-jws', await sign(input({ rcpt: 'nobody@b.test' }))] } });
    assert.equal(res.status, 200);
    const { results } = (await res.json()) as { results: Record<string, string>[] };
    assert.deepEqual(results[0], { decision: 'hold', reason: 'first_contact' });
    assert.equal(results[1].error, 'bad_request');
    assert.deepEqual(results[2], { decision: 'reject', reason: 'unknown_recipient' });
  });

  const refused: [string, { type: string; body: string }][] = [
    // protocol §2: batches are JSON; a JOSE body belongs on /pm/v1/notify
    ['a batch posted as application/jose', { type: 'application/jose', body: '{"notifications":["x"]}' }],
    // an empty batch asks nothing
    ['an empty batch', { type: 'application/json', body: '{"notifications":[]}' }],
    // MAX_BATCH is 500
    ['501 notifications', { type: 'application/json', body: JSON.stringify({ notifications: Array(501).fill('x') }) }],
    ['JSON that does not parse', { type: 'application/json', body: '{"notifications":[' }],
  ];
  for (const [name, req] of refused) {
    it(`is 400 bad_request for ${name}`, async () => {
      const res = await t.request('/pm/v1/notify/batch', { method: 'POST', headers: { 'content-type': req.type }, body: req.body });
      assert.equal(res.status, 400);
      assert.equal((await answer(res)).error, 'bad_request');
    });
  }
});
