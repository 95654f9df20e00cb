// Attacks on pm1 between three real nodes over HTTPS on loopback: a.test (sender, alice), b.test
// (recipient, bob/carol/dan/erin) and c.test, an "attacker" node with real keys of its own and a real
// place in the federation. Every attack must be refused with the protocol's status and error code,
// and must leave nothing behind: no inbound row or notification answer at b, no `fetched` delivery at a.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { TokenType } from '@pullmail/client/wire';
import { and, eq } from 'drizzle-orm';
import { SignJWT } from 'jose';
import { fetch, type Dispatcher } from 'undici';
import { issueCapability } from '../packages/server/src/protocol/capability.ts';
import { randomId, sha256b64url, signJwt } from '../packages/server/src/protocol/jws.ts';
import { isValidPow, solvePow } from '../packages/server/src/protocol/pow.ts';
import { signNotification, type NotificationInput } from '../packages/server/src/protocol/notification.ts';
import { createProof } from '../packages/server/src/protocol/proof.ts';
import { findInbound } from '../packages/server/src/store/inbound.ts';
import { findDelivery } from '../packages/server/src/store/deliveries.ts';
import { findVersion } from '../packages/server/src/store/messages.ts';
import { inbound, notifyLog } from '../packages/server/src/store/schema.ts';
import { startNodes, type TestNode } from './harness/node.ts';
import { waitFor } from './harness/wait.ts';

type Json = Record<string, any>;

const nowS = () => Math.floor(Date.now() / 1000);

async function json(res: { status: number; text(): Promise<string> }): Promise<Json> {
  const text = await res.text();
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`not JSON (${res.status}): ${text.slice(0, 200)}`);
  }
}

/** Asserts an error answer `{"error":code,"detail":…}` with the given status. */
async function expectError(res: { status: number; text(): Promise<string> }, status: number, codes: string | string[], what: string): Promise<Json> {
  const body = await json(res);
  assert.equal(res.status, status, `${what}: ${JSON.stringify(body)}`);
  assert.ok([codes].flat().includes(body.error), `${what}: expected ${[codes].flat().join(' or ')}, got ${JSON.stringify(body)}`);
  assert.equal(typeof body.detail, 'string', `${what}: detail`);
  return body;
}

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

describe('pm1 security: three nodes over HTTPS, c.test attacking', () => {
  let a: TestNode;
  let b: TestNode;
  let c: TestNode;
  let alice: string;
  let bob: string;
  let carol: string;
  let dan: string;
  let erin: string;

  before(async () => {
    [a, b, c] = await startNodes([
      { domain: 'a.test', https: true },
      { domain: 'b.test', https: true },
      { domain: 'c.test', https: true },
    ]);
    alice = await a.addUser('alice@a.test');
    bob = await b.addUser('bob@b.test');
    carol = await b.addUser('carol@b.test');
    dan = await b.addUser('dan@b.test');
    erin = await b.addUser('erin@b.test');
    await c.addUser('mallory@c.test');
    // bob would fetch anything alice sends at once: a forged "alice" notification must never get that far
    const rule = await b.api('/api/v1/rules', { method: 'POST', token: bob, json: { action: 'allow', pattern: 'alice@a.test' } });
    assert.equal(rule.status, 201);
  });

  after(async () => {
    try {
      // bob was the target of every forged notification: he never got anything
      if (b) {
        const rows = await b.server.ctx.db.select().from(inbound).where(eq(inbound.rcpt, 'bob@b.test'));
        assert.deepEqual(rows.map((r) => r.remoteId), [], 'no inbound row for bob at all');
      }
    } finally {
      await a?.stop();
      await b?.stop();
      await c?.stop();
    }
  });

  // --- helpers ------------------------------------------------------------------------------------

  /** bob's mailbox, through the API: empty inbox and no held requests. */
  async function assertBobUntouched(what: string): Promise<void> {
    const list = await json(await b.api('/api/v1/inbox', { token: bob }));
    assert.equal(list.total, 0, `${what}: bob's inbox stays empty`);
    const reqs = await json(await b.api('/api/v1/requests', { token: bob }));
    assert.deepEqual(reqs.requests, [], `${what}: bob has no requests`);
  }

  /** Nothing at b remembers msg.id: no inbound row, no recorded notification answer. */
  async function assertNothingStoredAtB(msgId: string, what: string): Promise<void> {
    const rows = await b.server.ctx.db.select().from(inbound).where(eq(inbound.remoteId, msgId));
    assert.equal(rows.length, 0, `${what}: no inbound row at b`);
    const answers = await b.server.ctx.db.select().from(notifyLog).where(eq(notifyLog.remoteId, msgId));
    assert.equal(answers.length, 0, `${what}: no notification answer recorded at b`);
    await assertBobUntouched(what);
  }

  async function send(to: string, subject: string, text = 'hello'): Promise<string> {
    const res = await a.api('/api/v1/messages', { method: 'POST', token: alice, json: { to: [to], subject, text } });
    const body = await json(res);
    assert.equal(res.status, 201, JSON.stringify(body));
    return body.id;
  }

  const deliveryOf = async (id: string) => (await json(await a.api(`/api/v1/messages/${id}`, { token: alice }))).deliveries[0] as Json;

  /** alice sends to a stranger at b; returns once b holds it, with the real capability b was given. */
  async function heldAtB(rcpt: string, subject: string): Promise<{ id: string; url: string; cap: string }> {
    const id = await send(rcpt, subject);
    const row = await waitFor(`${subject} held at b`, async () => {
      const r = await findInbound(b.server.ctx.db, 'a.test', id, rcpt);
      return r?.state === 'held' ? r : undefined;
    });
    assert.ok(row.fetchUrl && row.cap);
    assert.equal(row.fetchUrl, `${a.url}/pm/v1/messages/${id}`);
    return { id, url: row.fetchUrl, cap: row.cap };
  }

  /** The sender never handed the message out: delivery not fetched, and the held row at b untouched. */
  async function assertNotFetched(id: string, rcpt: string, token: string, what: string): Promise<void> {
    const d = await deliveryOf(id);
    assert.notEqual(d.state, 'fetched', `${what}: delivery is not fetched`);
    assert.equal(d.fetched_at, undefined, `${what}: no fetched_at`);
    const row = await findDelivery(a.server.ctx.db, id, rcpt);
    assert.equal(row?.fetchedAt, null, `${what}: fetched_at column is empty`);
    const box = await json(await b.api('/api/v1/inbox', { token }));
    assert.equal(box.total, 0, `${what}: recipient's inbox is empty`);
  }

  /** GET a fetch URL the way a node would, from `from`'s HTTP client. */
  function fetchMessage(from: TestNode, url: string, cap: string, proof: string) {
    return fetch(url, {
      headers: { authorization: `PM-Cap ${cap}`, 'pm-proof': proof, accept: 'message/rfc822' },
      dispatcher: from.server.ctx.fetcher.dispatcher as Dispatcher,
    });
  }

  /** Notification claims as a.test would make them for `rcpt`; `over` replaces fields. */
  async function claims(over: { rcpt?: string; aud?: string; iss?: string; from?: string; id?: string; url?: string; subject?: string } = {}): Promise<NotificationInput> {
    const id = over.id ?? randomId();
    const rcpt = over.rcpt ?? 'bob@b.test';
    const aud = over.aud ?? 'b.test';
    const raw = `From: alice@a.test\r\nSubject: ${over.subject ?? 'forged'}\r\n\r\nhello\r\n`;
    const cap = await issueCapability(a.server.ctx.keys, { iss: 'a.test', aud, sub: id, rcpt, exp: nowS() + 86_400 }, nowS());
    return {
      iss: over.iss ?? 'a.test',
      aud,
      kind: 'new',
      msg: {
        id,
        from: over.from ?? 'alice@a.test',
        rcpt,
        version: 1,
        size: raw.length,
        sha256: sha256b64url(raw),
        subject: over.subject ?? 'forged',
        sent_at: nowS(),
      },
      fetch: { url: over.url ?? `${a.url}/pm/v1/messages/${id}`, cap },
    };
  }

  function notify(node: TestNode, body: string, contentType = 'application/jose') {
    return node.api('/pm/v1/notify', { method: 'POST', body, headers: { 'content-type': contentType } });
  }

  // --- control ------------------------------------------------------------------------------------

  it('control: a notification built by these helpers and signed by a.test is accepted', async () => {
    // proves the refusals below come from the attack, not from a broken test notification
    const input = await claims({ rcpt: 'carol@b.test', subject: 'control' });
    const res = await notify(b, await signNotification(a.server.ctx.keys, input, nowS()));
    const body = await json(res);
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.equal(body.decision, 'hold');
    assert.equal((await b.server.ctx.db.select().from(inbound).where(eq(inbound.remoteId, input.msg.id))).length, 1);
  });

  it('control: a message over our size limit is refused with reject too_large, and nothing is kept', async () => {
    const input = await claims({ rcpt: 'carol@b.test', subject: 'too big' });
    input.msg.size = b.server.ctx.config.maxMessageBytes + 1;
    const res = await notify(b, await signNotification(a.server.ctx.keys, input, nowS()));
    assert.equal(res.status, 200);
    assert.deepEqual(await json(res), { decision: 'reject', reason: 'too_large' });
    assert.equal((await b.server.ctx.db.select().from(inbound).where(eq(inbound.remoteId, input.msg.id))).length, 0);
  });

  // --- fetch side (protocol §3, §4) ------------------------------------------------------------------

  it('1. a stolen capability is useless with another node\'s key', async () => {
    const { id, url, cap } = await heldAtB('dan@b.test', 'stolen');

    // c presents b's capability with a proof it signed honestly as itself: proof iss ≠ cap aud
    const own = await createProof(c.server.ctx.keys, { iss: 'c.test', url, cap }, nowS());
    await expectError(await fetchMessage(c, url, cap, own), 401, 'bad_signature', 'proof by c.test for a b.test capability');

    // c claims to be b.test but can only sign with its own key: a.test does not find that kid in b's JWKS
    const posing = await createProof(c.server.ctx.keys, { iss: 'b.test', url, cap }, nowS());
    await expectError(await fetchMessage(c, url, cap, posing), 401, ['unknown_key', 'bad_signature'], 'proof by c.test posing as b.test');

    // c forges a capability for itself under a.test's name: a.test does not know the signing key
    const forged = await issueCapability(c.server.ctx.keys, { iss: 'a.test', aud: 'c.test', sub: id, rcpt: 'dan@b.test', exp: nowS() + 3600 }, nowS());
    const forgedProof = await createProof(c.server.ctx.keys, { iss: 'c.test', url, cap: forged }, nowS());
    await expectError(await fetchMessage(c, url, forged, forgedProof), 401, 'bad_signature', 'capability forged by c.test');

    // b's own proof, but bound to a different capability (ath) than the one presented
    const other = await issueCapability(a.server.ctx.keys, { iss: 'a.test', aud: 'b.test', sub: id, rcpt: 'dan@b.test', exp: nowS() + 3600 }, nowS());
    const wrongAth = await createProof(b.server.ctx.keys, { iss: 'b.test', url, cap: other }, nowS());
    await expectError(await fetchMessage(c, url, cap, wrongAth), 401, 'bad_signature', 'proof bound to another capability');

    await assertNotFetched(id, 'dan@b.test', dan, 'stolen capability');
    assert.equal((await findInbound(b.server.ctx.db, 'a.test', id, 'dan@b.test'))?.state, 'held');
  });

  it('1b. a capability signed with the right key but another scope or token type opens nothing', async () => {
    const { id, url } = await heldAtB('dan@b.test', 'scope and typ');
    const capClaims = (over: Record<string, unknown>) => ({ iss: 'a.test', aud: 'b.test', sub: id, rcpt: 'dan@b.test', scope: 'fetch', iat: nowS(), exp: nowS() + 3600, jti: randomId(), ...over });
    const wrong: [string, string][] = [
      ['scope retract', await signJwt(capClaims({ scope: 'retract' }), TokenType.capability, a.server.ctx.keys.signer())],
      ['no scope', await signJwt(capClaims({ scope: undefined }), TokenType.capability, a.server.ctx.keys.signer())],
      ['typ of a notification', await signJwt(capClaims({}), TokenType.notify, a.server.ctx.keys.signer())],
      ['typ of a proof', await signJwt(capClaims({}), TokenType.proof, a.server.ctx.keys.signer())],
    ];
    for (const [what, cap] of wrong) {
      const proof = await createProof(b.server.ctx.keys, { iss: 'b.test', url, cap }, nowS());
      const res = await fetchMessage(b, url, cap, proof);
      const body = await json(res);
      assert.equal(res.status, 401, `${what}: ${JSON.stringify(body)}`);
      assert.equal(body.error, 'bad_request', what);
    }
    await assertNotFetched(id, 'dan@b.test', dan, 'scope and typ');
  });

  it('2. an expired capability is refused even with a valid proof', async () => {
    const { id, url } = await heldAtB('dan@b.test', 'expired cap');
    const t = nowS();
    const cap = await issueCapability(a.server.ctx.keys, { iss: 'a.test', aud: 'b.test', sub: id, rcpt: 'dan@b.test', exp: t - 600 }, t - 3600);
    const proof = await createProof(b.server.ctx.keys, { iss: 'b.test', url, cap }, t);
    await expectError(await fetchMessage(b, url, cap, proof), 401, 'expired', 'expired capability');
    await assertNotFetched(id, 'dan@b.test', dan, 'expired capability');
  });

  it('3. a capability for one message does not open another', async () => {
    const x = await heldAtB('dan@b.test', 'message x');
    const y = await heldAtB('dan@b.test', 'message y');
    // x's capability, a correct proof for y's URL
    const proof = await createProof(b.server.ctx.keys, { iss: 'b.test', url: y.url, cap: x.cap }, nowS());
    await expectError(await fetchMessage(b, y.url, x.cap, proof), 404, 'not_found', 'x capability on y URL');
    // x's capability and a proof for x's URL, sent to y's URL: the proof does not fit the request either
    const proofX = await createProof(b.server.ctx.keys, { iss: 'b.test', url: x.url, cap: x.cap }, nowS());
    const res = await fetchMessage(b, y.url, x.cap, proofX);
    assert.ok([400, 404].includes(res.status), `proof for x on y URL: ${res.status}`);
    await res.body?.cancel();
    await assertNotFetched(x.id, 'dan@b.test', dan, 'message x');
    await assertNotFetched(y.id, 'dan@b.test', dan, 'message y');
  });

  it('4. a fetch proof is single-use', async () => {
    const { id, url, cap } = await heldAtB('dan@b.test', 'replay');
    // protocol §4: a proof binds one method and one URL (htm, htu); signed right, it opens nothing else
    const proofFor = (over: Record<string, unknown>) =>
      signJwt({ iss: 'b.test', htm: 'GET', htu: url, iat: nowS(), exp: nowS() + 240, jti: randomId(), ath: sha256b64url(cap), ...over }, TokenType.proof, b.server.ctx.keys.signer());
    await expectError(await fetchMessage(b, url, cap, await proofFor({ htm: 'POST' })), 401, 'bad_request', 'proof for a POST');
    await expectError(await fetchMessage(b, url, cap, await proofFor({ htu: `${url}?copy` })), 401, 'bad_request', 'proof for another URL');
    const proof = await proofFor({});
    const first = await fetchMessage(b, url, cap, proof);
    assert.equal(first.status, 200);
    const raw = Buffer.from(await first.arrayBuffer());
    assert.deepEqual(raw, (await findVersion(a.server.ctx.db, id, 1))!.raw);
    assert.equal(first.headers.get('pm-version'), '1');
    // RFC 9530 form, of exactly these bytes
    assert.equal(first.headers.get('content-digest'), `sha-256=:${createHash('sha256').update(raw).digest('base64')}:`);
    assert.equal(first.headers.get('content-type'), 'message/rfc822');
    // the same proof again, even from the rightful node, is a replay
    await expectError(await fetchMessage(b, url, cap, proof), 401, 'replayed', 'replayed proof');
    // and from the attacker's connection just the same
    await expectError(await fetchMessage(c, url, cap, proof), 401, 'replayed', 'replayed proof from c');
    // a proof made more than 120 s ago is stale, whatever its exp says
    const stale = await createProof(b.server.ctx.keys, { iss: 'b.test', url, cap }, nowS() - 200);
    await expectError(await fetchMessage(b, url, cap, stale), 401, 'expired', 'stale proof');
    // a fresh proof may fetch again (protocol §4: a fetch may be repeated)
    const again = await fetchMessage(b, url, cap, await createProof(b.server.ctx.keys, { iss: 'b.test', url, cap }, nowS()));
    assert.equal(again.status, 200);
    assert.deepEqual(Buffer.from(await again.arrayBuffer()), raw);
  });

  // --- notification side (protocol §1, §2) ------------------------------------------------------------

  it('5. a notification signed by a key not in the issuer\'s JWKS is refused', async () => {
    // c signs with its own key and claims to be a.test
    const input = await claims({ subject: 'from c as a' });
    const jws = await signNotification(c.server.ctx.keys, input, nowS());
    await expectError(await notify(b, jws), 401, 'unknown_key', 'c key claiming iss a.test');
    await assertNothingStoredAtB(input.msg.id, 'c key claiming iss a.test');

    // c claims to be b.test itself (b's own domain: b's own key set decides)
    const own = await claims({ iss: 'b.test', from: 'bob@b.test', rcpt: 'carol@b.test', url: `${b.url}/pm/v1/messages/x` });
    own.fetch.url = `${b.url}/pm/v1/messages/${own.msg.id}`;
    await expectError(await notify(b, await signNotification(c.server.ctx.keys, own, nowS())), 401, 'unknown_key', 'c key claiming iss b.test');
    await assertNothingStoredAtB(own.msg.id, 'c key claiming iss b.test');

    // c's key, with c's public key embedded in the header for good measure: never trusted
    const embedded = await claims({ subject: 'embedded jwk' });
    const cJwk = c.server.ctx.keys.jwks().keys[0];
    const signer = c.server.ctx.keys.signer();
    const withJwk = await new SignJWT({ ...embedded, iat: nowS(), exp: nowS() + 600, jti: randomId() } as never)
      .setProtectedHeader({ alg: 'EdDSA', typ: TokenType.notify, kid: signer.kid, jwk: { kty: cJwk.kty!, crv: cJwk.crv, x: cJwk.x } })
      .sign(signer.key);
    await expectError(await notify(b, withJwk), 401, ['bad_signature', 'unknown_key'], 'embedded jwk');
    await assertNothingStoredAtB(embedded.msg.id, 'embedded jwk');
  });

  it('6. alg none and HS256 notifications are refused', async () => {
    const input = await claims({ subject: 'alg none' });
    const t = nowS();
    const payload = { ...input, iat: t, exp: t + 600, jti: randomId() };
    const none = `${b64({ alg: 'none', typ: TokenType.notify, kid: 'x' })}.${b64(payload)}.`;
    await expectError(await notify(b, none), 401, 'bad_signature', 'alg none');
    // the same with a.test's real kid
    const noneKid = `${b64({ alg: 'none', typ: TokenType.notify, kid: a.server.ctx.keys.signer().kid })}.${b64(payload)}.`;
    await expectError(await notify(b, noneKid), 401, 'bad_signature', 'alg none with a real kid');
    await assertNothingStoredAtB(input.msg.id, 'alg none');

    const hs = await claims({ subject: 'hs256' });
    const secret = new TextEncoder().encode('a shared secret nobody should accept!!');
    const hsJws = await new SignJWT({ ...hs, iat: t, exp: t + 600, jti: randomId() } as never)
      .setProtectedHeader({ alg: 'HS256', typ: TokenType.notify, kid: a.server.ctx.keys.signer().kid })
      .sign(secret);
    await expectError(await notify(b, hsJws), 401, 'bad_signature', 'HS256');
    // key confusion: HMAC keyed with a.test's published public key
    const pub = Buffer.from(a.server.ctx.keys.jwks().keys[0].x!, 'base64url');
    const confused = await new SignJWT({ ...hs, iat: t, exp: t + 600, jti: randomId() } as never)
      .setProtectedHeader({ alg: 'HS256', typ: TokenType.notify, kid: a.server.ctx.keys.signer().kid })
      .sign(new Uint8Array([...pub, ...pub]));
    await expectError(await notify(b, confused), 401, 'bad_signature', 'HS256 keyed with the public key');
    await assertNothingStoredAtB(hs.msg.id, 'HS256');

    // a valid EdDSA signature whose header was then changed to alg none
    const good = await signNotification(a.server.ctx.keys, await claims({ subject: 'stripped' }), t);
    const [, body, sig] = good.split('.');
    const stripped = `${b64({ alg: 'none', typ: TokenType.notify, kid: a.server.ctx.keys.signer().kid })}.${body}.${sig}`;
    await expectError(await notify(b, stripped), 401, 'bad_signature', 'header swapped to none');
  });

  it('7. audience, sender alignment, lifetime, expiry and malformed input', async () => {
    const keys = a.server.ctx.keys;

    // aud is a domain b does not serve
    const otherAud = await claims({ aud: 'c.test', rcpt: 'bob@c.test' });
    await expectError(await notify(b, await signNotification(keys, otherAud, nowS())), 401, 'wrong_audience', 'aud c.test sent to b');
    await assertNothingStoredAtB(otherAud.msg.id, 'aud c.test');

    // aud is b, but msg.rcpt lives elsewhere
    const rcptElsewhere = await claims({ rcpt: 'bob@c.test' });
    rcptElsewhere.aud = 'b.test';
    await expectError(await notify(b, await signNotification(keys, rcptElsewhere, nowS())), 401, 'wrong_audience', 'rcpt not at aud');
    await assertNothingStoredAtB(rcptElsewhere.msg.id, 'rcpt not at aud');

    // a.test signs, but msg.from is at c.test
    const misaligned = await claims({ from: 'mallory@c.test' });
    await expectError(await notify(b, await signNotification(keys, misaligned, nowS())), 401, 'misaligned_sender', 'from at another domain');
    await assertNothingStoredAtB(misaligned.msg.id, 'from at another domain');

    // c, honestly as c.test, points fetch.url at a.test's node (making b fetch from a third party)
    const cInput = await claims({ iss: 'c.test', from: 'mallory@c.test' });
    cInput.fetch.url = `${a.url}/pm/v1/messages/${cInput.msg.id}`;
    await expectError(await notify(b, await signNotification(c.server.ctx.keys, cInput, nowS())), 401, 'misaligned_sender', 'fetch.url off the sender node');
    await assertNothingStoredAtB(cInput.msg.id, 'fetch.url off the sender node');

    // exp - iat > 900 (signNotification would cap it, so sign by hand)
    const long = await claims({ subject: 'long-lived' });
    const t = nowS();
    const longJws = await signJwt({ ...long, iat: t, exp: t + 1000, jti: randomId() }, TokenType.notify, keys.signer());
    await expectError(await notify(b, longJws), 400, 'bad_request', 'exp - iat = 1000');
    await assertNothingStoredAtB(long.msg.id, 'exp - iat = 1000');

    // expired: signed 2000 s ago with a 600 s lifetime
    const old = await claims({ subject: 'old' });
    await expectError(await notify(b, await signNotification(keys, old, nowS() - 2000)), 401, 'expired', 'expired notification');
    await assertNothingStoredAtB(old.msg.id, 'expired notification');

    // issued in the future beyond the 120 s skew
    const future = await claims({ subject: 'future' });
    await expectError(await notify(b, await signNotification(keys, future, nowS() + 1000)), 401, 'expired', 'iat in the future');
    await assertNothingStoredAtB(future.msg.id, 'iat in the future');

    // malformed bodies
    await expectError(await notify(b, 'this is not a jws'), 400, 'bad_request', 'not a JWS');
    await expectError(await notify(b, 'a.b.c'), 400, 'bad_request', 'three garbage segments');
    await expectError(await notify(b, ''), 400, 'bad_request', 'empty body');

    // a valid notification with the wrong content type
    const typed = await claims({ subject: 'wrong type' });
    const typedJws = await signNotification(keys, typed, nowS());
    // protocol §2: malformed input is a 400 between nodes, a wrong Content-Type included
    await expectError(await notify(b, typedJws, 'text/plain'), 400, 'bad_request', 'text/plain');
    await expectError(await notify(b, JSON.stringify({ notifications: [typedJws] }), 'application/json'), 400, 'bad_request', 'JSON to the single endpoint');
    await assertNothingStoredAtB(typed.msg.id, 'wrong content type');

    // a batch of 501 (valid) notifications is refused as a whole
    const many = await claims({ subject: 'too many' });
    const manyJws = await signNotification(keys, many, nowS());
    const tooMany = await b.api('/pm/v1/notify/batch', { method: 'POST', json: { notifications: Array.from({ length: 501 }, () => manyJws) } });
    await expectError(tooMany, 400, 'bad_request', 'batch of 501');
    await assertNothingStoredAtB(many.msg.id, 'batch of 501');
    await expectError(await b.api('/pm/v1/notify/batch', { method: 'POST', json: { notifications: [] } }), 400, 'bad_request', 'empty batch');
    await expectError(await b.api('/pm/v1/notify/batch', { method: 'POST', body: manyJws, headers: { 'content-type': 'application/jose' } }), 400, 'bad_request', 'JWS to the batch endpoint');

    // inside a batch, a forged item is refused on its own and does not spoil the others
    const forgedItem = await claims({ subject: 'forged in batch' });
    const goodItem = await claims({ rcpt: 'carol@b.test', subject: 'good in batch' });
    const batch = await b.api('/pm/v1/notify/batch', {
      method: 'POST',
      json: { notifications: [await signNotification(c.server.ctx.keys, forgedItem, nowS()), await signNotification(keys, goodItem, nowS()), 'garbage'] },
    });
    const results = (await json(batch)).results as Json[];
    assert.equal(batch.status, 200);
    assert.equal(results.length, 3);
    assert.equal(results[0].error, 'unknown_key');
    assert.equal(results[1].decision, 'hold');
    assert.equal(results[2].error, 'bad_request');
    await assertNothingStoredAtB(forgedItem.msg.id, 'forged batch item');
  });

  it('8. notifications are idempotent: identical or re-signed, one request and one inbound row', async () => {
    const input = await claims({ rcpt: 'carol@b.test', subject: 'idempotent' });
    const jws = await signNotification(a.server.ctx.keys, input, nowS());
    const first = await json(await notify(b, jws));
    assert.equal(first.decision, 'hold', JSON.stringify(first));
    assert.deepEqual(await json(await notify(b, jws)), first, 'identical JWS again');
    const resigned = await signNotification(a.server.ctx.keys, input, nowS());
    assert.notEqual(resigned, jws);
    assert.deepEqual(await json(await notify(b, resigned)), first, 'freshly signed copy (new jti)');
    const batch = await json(await b.api('/pm/v1/notify/batch', { method: 'POST', json: { notifications: [jws, resigned] } }));
    assert.deepEqual(batch.results, [first, first], 'both again in a batch');

    const countFor = async (id: string) => ({
      inbound: (await b.server.ctx.db.select().from(inbound).where(eq(inbound.remoteId, id))).length,
      answers: (await b.server.ctx.db.select().from(notifyLog).where(eq(notifyLog.remoteId, id))).length,
      requests: ((await json(await b.api('/api/v1/requests', { token: carol }))).requests as Json[]).filter((r) => r.subject === input.msg.subject && r.from === 'alice@a.test').length,
    });
    assert.deepEqual(await countFor(input.msg.id), { inbound: 1, answers: 1, requests: 1 });

    // the same notification with the addresses and issuer spelled differently is still the same one
    const respelled = { ...input, iss: 'A.TEST', aud: 'B.test', msg: { ...input.msg, from: 'Alice@A.test', rcpt: 'Carol@b.TEST' } };
    assert.deepEqual(await json(await notify(b, await signNotification(a.server.ctx.keys, respelled, nowS()))), first, 'respelled copy');
    assert.deepEqual(await countFor(input.msg.id), { inbound: 1, answers: 1, requests: 1 }, 'still one after the respelled copy');

    // many fresh copies at once (several connections with PostgreSQL): still one row, one answer
    const burst = await claims({ rcpt: 'carol@b.test', subject: 'burst' });
    const copies = await Promise.all(Array.from({ length: 8 }, () => signNotification(a.server.ctx.keys, burst, nowS())));
    const answers = await Promise.all(copies.map(async (j) => {
      const res = await notify(b, j);
      const body = await json(res);
      assert.equal(res.status, 200, JSON.stringify(body));
      return body;
    }));
    for (const ans of answers) assert.deepEqual(ans, answers[0]);
    assert.equal(answers[0].decision, 'hold');
    const rows = await b.server.ctx.db.select().from(inbound).where(and(eq(inbound.remoteId, burst.msg.id), eq(inbound.rcpt, 'carol@b.test')));
    assert.equal(rows.length, 1);
    assert.equal((await b.server.ctx.db.select().from(notifyLog).where(eq(notifyLog.remoteId, burst.msg.id))).length, 1);
    await assertBobUntouched('idempotency');
  });

  it('8b. another node cannot retract or update a.test\'s message by reusing its id', async () => {
    const { id } = await heldAtB('carol@b.test', 'not yours');
    const hijack = await claims({ iss: 'c.test', from: 'mallory@c.test', rcpt: 'carol@b.test', id, subject: 'hijacked' });
    hijack.fetch.url = `${c.url}/pm/v1/messages/${id}`;
    for (const kind of ['retract', 'update'] as const) {
      const res = await notify(b, await signNotification(c.server.ctx.keys, { ...hijack, kind, msg: { ...hijack.msg, version: 2 } }, nowS()));
      assert.equal(res.status, 200, `${kind} from c.test is a valid notification about c's own message`);
      await res.body?.cancel();
    }
    const row = await findInbound(b.server.ctx.db, 'a.test', id, 'carol@b.test');
    assert.equal(row?.state, 'held', 'a.test\'s request is untouched');
    assert.equal(row?.subject, 'not yours');
    assert.equal(row?.fetchUrl, `${a.url}/pm/v1/messages/${id}`);
  });

  it('9. retract racing a fetch: exactly one of them wins (protocol §5)', async (t) => {
    const outcomes = { fetched: 0, retracted: 0 };
    for (let i = 0; i < 25; i++) {
      const { id, url, cap } = await heldAtB('erin@b.test', `race ${i}`);
      const proof = await createProof(b.server.ctx.keys, { iss: 'b.test', url, cap }, nowS());
      const doFetch = async () => {
        const res = await fetchMessage(b, url, cap, proof);
        return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
      };
      const doRetract = async () => {
        const res = await a.api(`/api/v1/messages/${id}/retract`, { method: 'POST', token: alice });
        const body = await json(res);
        assert.equal(res.status, 200, JSON.stringify(body));
        return body.results as { rcpt: string; result: string }[];
      };
      // alternate who starts first, and hold the retract back by a few ms now and then so that both
      // orders happen even where the database serializes everything (PGlite)
      const lag = [0, 0, 2, 5, 10][i % 5];
      const lagged = async () => {
        // the lag is the test's own doing (which of two racing requests starts first), not a wait
        if (lag) await new Promise((r) => setTimeout(r, lag));
        return doRetract();
      };
      const [got, retract] = i % 2 === 0
        ? await Promise.all([doFetch(), lagged()])
        : await Promise.all([lagged(), doFetch()]).then(([r, f]) => [f, r] as const);
      assert.equal(retract.length, 1);
      assert.equal(retract[0].rcpt, 'erin@b.test');
      const fetchedWon = got.status === 200 && retract[0].result === 'already_fetched';
      const retractWon = got.status === 410 && retract[0].result === 'retracted';
      assert.ok(fetchedWon !== retractWon, `iteration ${i}: fetch ${got.status} ${got.body.toString().slice(0, 100)}, retract ${retract[0].result}`);
      const d = await deliveryOf(id);
      if (fetchedWon) {
        outcomes.fetched++;
        assert.deepEqual(got.body, (await findVersion(a.server.ctx.db, id, 1))!.raw);
        assert.equal(d.state, 'fetched');
      } else {
        outcomes.retracted++;
        assert.deepEqual(JSON.parse(got.body.toString()).error, 'retracted');
        assert.equal(d.state, 'retracted');
        assert.equal(d.fetched_at, undefined);
      }
    }
    t.diagnostic(`race outcomes over 25 iterations: ${JSON.stringify(outcomes)}`);
    assert.equal(outcomes.fetched + outcomes.retracted, 25);
  });

  it('10. an iss that is not a domain name in A-label form is refused with 400 before any lookup', async () => {
    const resolver = b.server.ctx.resolver as unknown as { queries: string[] };
    const before = resolver.queries.length;
    const t = nowS();
    // each would otherwise make b ask DNS and connect somewhere of the attacker's choosing
    const bad = ['a.test:443', 'user@a.test', 'a.test/x', 'a.test?x', '127.0.0.1', '[::1]', '0x7f.1', 'b\u00fccher.test', 'a..test', '-a.test', 'a.test.', ' a.test', 'x'.repeat(64) + '.test'];
    for (const iss of bad) {
      const payload = { ...(await claims({ subject: `iss ${iss}` })), iss, iat: t, exp: t + 600, jti: randomId() };
      const forged = `${b64({ alg: 'EdDSA', typ: TokenType.notify, kid: 'forged' })}.${b64(payload)}.${Buffer.alloc(64).toString('base64url')}`;
      await expectError(await notify(b, forged), 400, 'bad_request', `iss ${JSON.stringify(iss)}`);
    }
    assert.deepEqual(resolver.queries.slice(before), [], 'no DNS query for any of them');
  });
});

// PROTOCOL.md §2 and §6 rules about what a verified notification may change, between two nodes.
describe('pm1 rules: rate limits for unknown recipients, stale updates, a wrong pow answer', () => {
  let a: TestNode;
  let b: TestNode;
  let carol: string;
  let n = 0;

  before(async () => {
    // b: three notifications per sender address per hour, easy proof-of-work
    [a, b] = await startNodes([
      { domain: 'a.test' },
      { domain: 'b.test', env: { PULLMAIL_RATE_SENDER: '3/3600', PULLMAIL_POW_BITS: '8' } },
    ]);
    await a.addUser('alice@a.test');
    carol = await b.addUser('carol@b.test');
  });
  after(() => Promise.all([a, b].map((node) => node?.stop())));

  /** A notification from a.test as `from`; `over` replaces claims (kind, version, pow, subject). */
  function crafted(from: string, rcpt: string, over: { id?: string; kind?: 'new' | 'update'; version?: number; subject?: string; pow?: { nonce: string; counter: string } } = {}): NotificationInput {
    const id = over.id ?? `rule${n++}`;
    const { id: _, ...rest } = over;
    return {
      iss: 'a.test', aud: 'b.test', kind: over.kind ?? 'new',
      msg: { id, from, rcpt, version: over.version ?? 1, size: 10, sha256: 'A'.repeat(43), sent_at: nowS(), subject: over.subject ?? 'rules' },
      fetch: { url: `${a.url}/pm/v1/messages/${id}`, cap: 'not-a-real-capability' },
      ...(rest.pow ? { pow: rest.pow } : {}),
    };
  }
  const post = async (input: NotificationInput) => {
    const res = await b.api('/pm/v1/notify', { method: 'POST', body: await signNotification(a.server.ctx.keys, input, nowS()), headers: { 'content-type': 'application/jose' } });
    return { status: res.status, body: await json(res) };
  };

  it('every verified notification counts against the sender, also those for unknown recipients', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await post(crafted('prober@a.test', `nobody${i}@b.test`));
      assert.deepEqual([r.status, r.body], [200, { decision: 'reject', reason: 'unknown_recipient' }], `probe ${i}`);
    }
    // the fourth probe is over the limit: the answers no longer tell which mailboxes exist
    const over = await post(crafted('prober@a.test', 'carol@b.test'));
    assert.equal(over.status, 429, JSON.stringify(over.body));
    assert.equal(over.body.error, 'rate_limited');
  });

  it('a retry of an answered notification gets its answer without spending the sender\'s budget', async () => {
    const first = crafted('retrier@a.test', 'carol@b.test');
    const held = await post(first);
    assert.deepEqual(held.body, { decision: 'hold', reason: 'first_contact' });
    for (let i = 0; i < 3; i++) assert.deepEqual((await post(first)).body, held.body, `retry ${i}`);
    // the two retries above cost nothing: two more new ones still fit the budget of three
    assert.equal((await post(crafted('retrier@a.test', 'carol@b.test'))).status, 200);
    assert.equal((await post(crafted('retrier@a.test', 'carol@b.test'))).status, 200);
    assert.equal((await post(crafted('retrier@a.test', 'carol@b.test'))).status, 429);
  });

  it('an update with a version not above the one held changes nothing and is answered as before', async () => {
    const id = 'stale-update';
    assert.equal((await post(crafted('editor@a.test', 'carol@b.test', { id, subject: 'v1' }))).body.decision, 'hold');
    const v3 = await post(crafted('editor@a.test', 'carol@b.test', { id, kind: 'update', version: 3, subject: 'v3' }));
    assert.deepEqual(v3.body, { decision: 'hold', reason: 'first_contact' });
    const late = await post(crafted('editor@a.test', 'carol@b.test', { id, kind: 'update', version: 2, subject: 'v2' }));
    assert.deepEqual(late.body, v3.body, 'a late version 2 is answered as before');
    const row = await findInbound(b.server.ctx.db, 'a.test', id, 'carol@b.test');
    assert.deepEqual([row?.version, row?.subject, row?.state], [3, 'v3', 'held'], 'the held request still shows version 3');
    const reqs = (await json(await b.api('/api/v1/requests', { token: carol }))).requests as Json[];
    assert.deepEqual(reqs.filter((r) => r.from === 'editor@a.test').map((r) => r.subject), ['v3']);
  });

  it('a wrong proof-of-work answer gets the same challenge again, which a right answer then meets', async () => {
    const dan = await b.addUser('dan@b.test');
    assert.equal((await b.api('/api/v1/settings', { method: 'PUT', token: dan, json: { first_contact: 'challenge' } })).status, 200);
    const id = 'pow-same';
    const first = await post(crafted('solver@a.test', 'dan@b.test', { id }));
    assert.equal(first.body.decision, 'challenge', JSON.stringify(first.body));
    const ch = first.body.challenge as Json;
    const good = solvePow(ch.nonce, id, ch.bits, Date.now() + 10_000)!;
    let wrong = Number(good) + 1;
    while (isValidPow(ch as never, id, { nonce: ch.nonce, counter: String(wrong) })) wrong++;
    // (each answer is new work for the rate limit of three: one wrong answer, then the right one)
    const bad = await post(crafted('solver@a.test', 'dan@b.test', { id, pow: { nonce: ch.nonce, counter: String(wrong) } }));
    assert.equal(bad.body.decision, 'challenge');
    assert.equal(bad.body.reason, 'pow_invalid');
    assert.deepEqual(bad.body.challenge, ch, 'the same challenge (nonce and expires)');
    const right = await post(crafted('solver@a.test', 'dan@b.test', { id, pow: { nonce: ch.nonce, counter: good } }));
    assert.deepEqual([right.body.decision, right.body.reason], ['fetch', 'pow']);
  });
});
