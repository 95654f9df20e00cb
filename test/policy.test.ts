// Recipient policy end to end (protocol §6): the evaluation order, held requests, consent tokens,
// proof-of-work and human challenges, and rate limits, between real nodes over HTTPS.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { and, eq } from 'drizzle-orm';
import { issueConsent } from '../packages/server/src/protocol/consent.ts';
import { signNotification } from '../packages/server/src/protocol/notification.ts';
import { isValidPow, solvePow } from '../packages/server/src/protocol/pow.ts';
import { spendConsent, insertConsent } from '../packages/server/src/store/consent-tokens.ts';
import { findMailbox } from '../packages/server/src/store/mailboxes.ts';
import { notifyLog } from '../packages/server/src/store/schema.ts';
import { startNodes, type TestNode } from './harness/node.ts';
import { waitFor } from './harness/wait.ts';

type Json = Record<string, any>;
const json = async (res: Response): Promise<Json> => JSON.parse(await res.text());

describe('recipient policy between nodes', () => {
  let a: TestNode;
  let b: TestNode;
  let c: TestNode;
  let d: TestNode;
  const tokens: Record<string, string> = {};
  const nodeOf = (addr: string) => ({ 'a.test': () => a, 'b.test': () => b, 'c.test': () => c, 'd.test': () => d })[addr.split('@')[1] as 'a.test']();

  before(async () => {
    const fast = { PULLMAIL_HELD_RECHECK_SECONDS: '1', PULLMAIL_POW_BITS: '8' };
    [a, b, c, d] = await startNodes([
      { domain: 'a.test', https: true, env: fast },
      { domain: 'b.test', https: true, env: fast },
      { domain: 'c.test', https: true, env: fast },
      // a recipient node with a tight limit per sender domain
      { domain: 'd.test', https: true, env: { ...fast, PULLMAIL_RATE_DOMAIN: '3/3600' } },
    ]);
    for (const addr of ['alice@a.test', 'amy@a.test', 'carl@c.test', 'bob@b.test', 'bea@b.test', 'ben@b.test', 'bill@b.test', 'bo@b.test', 'dan@d.test']) {
      tokens[addr] = await nodeOf(addr).addUser(addr);
    }
  });
  after(() => Promise.all([a, b, c, d].map((n) => n?.stop())));

  const api = (addr: string, path: string, init: { method?: string; json?: unknown } = {}) => nodeOf(addr).api(path, { ...init, token: tokens[addr] });
  async function send(from: string, to: string, subject: string, extra: Json = {}): Promise<string> {
    const res = await api(from, '/api/v1/messages', { method: 'POST', json: { to: [to], subject, text: subject, ...extra } });
    const body = await json(res);
    assert.equal(res.status, 201, JSON.stringify(body));
    return body.id;
  }
  const delivery = async (from: string, id: string) => (await json(await api(from, `/api/v1/messages/${id}`))).deliveries[0] as Json;
  const until = (from: string, id: string, state: string) => waitFor(`${id} ${state}`, async () => {
    const dl = await delivery(from, id);
    return dl.state === state && dl;
  });
  const inboxSubjects = async (addr: string) => (await json(await api(addr, '/api/v1/inbox?limit=200'))).messages.map((m: Json) => m.subject as string);
  const requests = async (addr: string) => (await json(await api(addr, '/api/v1/requests'))).requests as Json[];

  it('first contact is held by default; accept fetches it and lets the next one through', async () => {
    const id = await send('alice@a.test', 'bob@b.test', 'hello bob');
    await until('alice@a.test', id, 'held');
    const [req] = await requests('bob@b.test');
    assert.deepEqual([req.from, req.subject, req.via], ['alice@a.test', 'hello bob', 'pm1']);
    assert.ok(req.size > 0);
    await api('bob@b.test', `/api/v1/requests/${req.id}/accept`, { method: 'POST' });
    await until('alice@a.test', id, 'fetched');
    const next = await send('alice@a.test', 'bob@b.test', 'again');
    await until('alice@a.test', next, 'fetched');
    assert.deepEqual((await inboxSubjects('bob@b.test')).sort(), ['again', 'hello bob']);
  });

  it('a known correspondent (someone the user wrote to) is fetched without asking', async () => {
    await send('bea@b.test', 'amy@a.test', 'hi amy'); // bea writes first
    const id = await send('amy@a.test', 'bea@b.test', 'reply');
    await until('amy@a.test', id, 'fetched');
  });

  it('a block rule refuses the sender and nothing is fetched; block beats allow by domain', async () => {
    await api('ben@b.test', '/api/v1/rules', { method: 'POST', json: { action: 'allow', pattern: '@a.test' } });
    const rule = await json(await api('ben@b.test', '/api/v1/rules', { method: 'POST', json: { action: 'block', pattern: 'Alice@A.test' } }));
    assert.equal(rule.pattern, 'alice@a.test');
    const id = await send('alice@a.test', 'ben@b.test', 'let me in');
    const dl = await until('alice@a.test', id, 'rejected');
    assert.equal(dl.reason, 'blocked');
    assert.deepEqual(await inboxSubjects('ben@b.test'), []);
    assert.deepEqual(await requests('ben@b.test'), []);
    // the domain allow rule still admits amy
    const ok = await send('amy@a.test', 'ben@b.test', 'from amy');
    await until('amy@a.test', ok, 'fetched');
    // removing the block lets alice through the domain allow rule
    await api('ben@b.test', `/api/v1/rules/${rule.id}`, { method: 'DELETE' });
    const later = await send('alice@a.test', 'ben@b.test', 'now?');
    await until('alice@a.test', later, 'fetched');
  });

  it('open mode fetches strangers; bad settings are refused', async () => {
    const put = await json(await api('bill@b.test', '/api/v1/settings', { method: 'PUT', json: { first_contact: 'fetch' } }));
    assert.equal(put.first_contact, 'fetch');
    assert.equal((await api('bill@b.test', '/api/v1/settings', { method: 'PUT', json: { first_contact: 'maybe' } })).status, 400);
    const id = await send('carl@c.test', 'bill@b.test', 'open door');
    await until('carl@c.test', id, 'fetched');
  });

  it('reject: the sender\'s status says rejected; block adds a rule', async () => {
    const id = await send('carl@c.test', 'bob@b.test', 'buy now');
    await until('carl@c.test', id, 'held');
    const [req] = await requests('bob@b.test');
    await api('bob@b.test', `/api/v1/requests/${req.id}/reject`, { method: 'POST' });
    await until('carl@c.test', id, 'rejected');
    const id2 = await send('carl@c.test', 'bob@b.test', 'buy now!!');
    await until('carl@c.test', id2, 'held');
    const [req2] = await requests('bob@b.test');
    await api('bob@b.test', `/api/v1/requests/${req2.id}/block`, { method: 'POST' });
    const dl = await until('carl@c.test', id2, 'rejected');
    assert.equal(dl.reason, 'blocked');
    const rules = (await json(await api('bob@b.test', '/api/v1/rules'))).rules as Json[];
    assert.ok(rules.some((r) => r.action === 'block' && r.pattern === 'carl@c.test'));
    const id3 = await send('carl@c.test', 'bob@b.test', 'please');
    assert.equal((await until('carl@c.test', id3, 'rejected')).reason, 'blocked');
  });

  it('a consent token with 3 uses lets exactly 3 messages through', async () => {
    const created = await json(await api('bo@b.test', '/api/v1/consent-tokens', { method: 'POST', json: { sender: '@c.test', max_uses: 3, expires_in_days: 7 } }));
    assert.ok(created.token && created.id);
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push(await send('carl@c.test', 'bo@b.test', `newsletter ${i}`, { consent: [created.token] }));
    for (const id of ids.slice(0, 3)) await until('carl@c.test', id, 'fetched');
    await until('carl@c.test', ids[3], 'held');
    const list = (await json(await api('bo@b.test', '/api/v1/consent-tokens'))).tokens as Json[];
    assert.equal(list.find((t) => t.id === created.id)?.uses, 3);
  });

  it('revoked tokens, tokens for another sender and tokens forged with another key do nothing', async () => {
    const mk = async (sender: string) => json(await api('bo@b.test', '/api/v1/consent-tokens', { method: 'POST', json: { sender, max_uses: 5, expires_in_days: 1 } }));
    const revoked = await mk('alice@a.test');
    assert.equal((await api('bo@b.test', `/api/v1/consent-tokens/${revoked.id}`, { method: 'DELETE' })).status, 204);
    const other = await mk('someone@a.test');
    // same claims, signed by node c's key instead of b's
    const forged = (await issueConsent(c.server.ctx.keys, { iss: 'b.test', sub: 'bo@b.test', aud: 'alice@a.test', max_uses: 5, exp: Math.floor(Date.now() / 1000) + 3600 }, Math.floor(Date.now() / 1000))).token;
    for (const [name, token] of [['revoked', revoked.token], ['other sender', other.token], ['forged', forged]]) {
      const id = await send('alice@a.test', 'bo@b.test', `with ${name} token`, { consent: [token] });
      await until('alice@a.test', id, 'held');
    }
  });

  it('two concurrent uses of a one-use token: exactly one wins', async () => {
    const mailbox = (await findMailbox(b.server.ctx.db, 'bo@b.test'))!;
    for (let i = 0; i < 10; i++) {
      const jti = `race-${i}`;
      await insertConsent(b.server.ctx.db, { mailboxId: mailbox.id, jti, senderPattern: '@x.test', maxUses: 1, expiresAt: new Date(Date.now() + 60_000) });
      const now = new Date();
      const wins = await Promise.all([spendConsent(b.server.ctx.db, jti, mailbox.id, now), spendConsent(b.server.ctx.db, jti, mailbox.id, now)]);
      assert.equal(wins.filter(Boolean).length, 1);
    }
  });

  it('challenge mode: the sender node solves the proof of work by itself and is then allowed', async () => {
    await api('dan@d.test', '/api/v1/settings', { method: 'PUT', json: { first_contact: 'challenge' } });
    const id = await send('alice@a.test', 'dan@d.test', 'prove it');
    await until('alice@a.test', id, 'fetched');
    const next = await send('alice@a.test', 'dan@d.test', 'allowed now');
    await until('alice@a.test', next, 'fetched');
    assert.deepEqual((await inboxSubjects('dan@d.test')).sort(), ['allowed now', 'prove it']);
  });

  it('a flood from one sender domain is throttled while another domain still gets through', async () => {
    await api('dan@d.test', '/api/v1/settings', { method: 'PUT', json: { first_contact: 'fetch' } });
    // alice already used 2 of a.test's 3 notifications at d.test above
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push(await send('amy@a.test', 'dan@d.test', `flood ${i}`));
    const states = await waitFor('flood answered or deferred', async () => {
      const ds = await Promise.all(ids.map((id) => delivery('amy@a.test', id)));
      return ds.every((x) => x.state === 'fetched' || x.state === 'queued') && ds.some((x) => x.state === 'queued') && ds;
    });
    assert.ok(states.filter((x) => x.state === 'queued').length >= 3, 'most of the flood is deferred');
    const other = await send('carl@c.test', 'dan@d.test', 'from another domain');
    await until('carl@c.test', other, 'fetched');

    // protocol §2: a retry of a notification already answered gets that answer, even while its sender's
    // domain is over its limit (a batch resent after a 429 must not be refused item by item for ever)
    const [answered] = await d.server.ctx.db.select().from(notifyLog).where(and(eq(notifyLog.iss, 'a.test'), eq(notifyLog.rcpt, 'dan@d.test'), eq(notifyLog.kind, 'new'))).limit(1);
    assert.ok(answered, 'd answered a notification from a.test before the flood');
    const now = Math.floor(Date.now() / 1000);
    const retry = await signNotification(a.server.ctx.keys, {
      iss: 'a.test', aud: 'd.test', kind: 'new',
      msg: { id: answered.remoteId, from: 'alice@a.test', rcpt: 'dan@d.test', version: answered.version, size: 10, sha256: 'A'.repeat(43), sent_at: now, subject: 'retried' },
      fetch: { url: `${a.url}/pm/v1/messages/${answered.remoteId}`, cap: 'not-needed-for-an-answered-retry' },
    } as never, now);
    const res = await d.api('/pm/v1/notify', { method: 'POST', body: retry, headers: { 'content-type': 'application/jose' } });
    assert.equal(res.status, 200, await res.clone().text());
    assert.deepEqual(await json(res), answered.result);
    // while a new one from that domain is still throttled
    const fresh = await signNotification(a.server.ctx.keys, {
      iss: 'a.test', aud: 'd.test', kind: 'new',
      msg: { id: 'never-sent', from: 'amy@a.test', rcpt: 'dan@d.test', version: 1, size: 10, sha256: 'A'.repeat(43), sent_at: now, subject: 'new' },
      fetch: { url: `${a.url}/pm/v1/messages/never-sent`, cap: 'x' },
    } as never, now);
    const throttled = await d.api('/pm/v1/notify', { method: 'POST', body: fresh, headers: { 'content-type': 'application/jose' } });
    assert.equal(throttled.status, 429);
    assert.ok(Number(throttled.headers.get('retry-after')) > 0);
  });

  describe('proof-of-work answers and the human challenge page (crafted notifications)', () => {
    let n = 0;
    async function notify(from: string, to: string, extra: Json = {}, msgId = `crafted${n++}`) {
      const now = Math.floor(Date.now() / 1000);
      const jws = await signNotification(a.server.ctx.keys, {
        iss: 'a.test', aud: 'b.test', kind: 'new',
        msg: { id: msgId, from, rcpt: to, version: 1, size: 10, sha256: 'A'.repeat(43), sent_at: now, subject: 'crafted' },
        fetch: { url: `${a.url}/pm/v1/messages/${msgId}`, cap: 'not-a-real-capability' },
        ...extra,
      } as never, now);
      const res = await b.api('/pm/v1/notify', { method: 'POST', body: jws, headers: { 'content-type': 'application/jose' } });
      assert.equal(res.status, 200);
      return { msgId, result: await json(res) };
    }

    it('refuses a wrong answer with the same challenge and accepts a right one once', async () => {
      tokens['bess@b.test'] = await b.addUser('bess@b.test');
      await api('bess@b.test', '/api/v1/settings', { method: 'PUT', json: { first_contact: 'challenge' } });
      const first = await notify('zed@a.test', 'bess@b.test');
      assert.equal(first.result.decision, 'challenge');
      const ch = first.result.challenge;
      assert.deepEqual([ch.type, ch.alg, ch.bits], ['pow', 'sha-256', 8]);
      const good = solvePow(ch.nonce, first.msgId, ch.bits, Date.now() + 10_000)!;
      // a wrong counter: refused, with the same challenge again (protocol §6)
      let wrong = Number(good) + 1;
      while (isValidPow(ch, first.msgId, { nonce: ch.nonce, counter: String(wrong) })) wrong++;
      const bad = await notify('zed@a.test', 'bess@b.test', { pow: { nonce: ch.nonce, counter: String(wrong) } }, first.msgId);
      assert.equal(bad.result.decision, 'challenge');
      assert.deepEqual(bad.result.challenge, ch);
      const ch2 = ch;
      const good2 = good;
      const right = await notify('zed@a.test', 'bess@b.test', { pow: { nonce: ch2.nonce, counter: good2 } }, first.msgId);
      assert.deepEqual([right.result.decision, right.result.reason], ['fetch', 'pow']);
      // the same answer for another message is not an answer to anything
      tokens['bree@b.test'] = await b.addUser('bree@b.test');
      await api('bree@b.test', '/api/v1/settings', { method: 'PUT', json: { first_contact: 'challenge' } });
      const reuse = await notify('zed@a.test', 'bree@b.test', { pow: { nonce: ch2.nonce, counter: good2 } });
      assert.equal(reuse.result.decision, 'challenge');
      // and zed is now allowed at bess for the allow window
      const later = await notify('zed@a.test', 'bess@b.test');
      assert.equal(later.result.decision, 'fetch');
    });

    /** The page's form token, as a browser would find it in the form. */
    const formToken = async (path: string) => {
      const page = await b.api(path);
      assert.equal(page.status, 200);
      const token = /name="csrf" value="([^"]+)"/.exec(await page.text())?.[1];
      assert.ok(token, 'the form carries a token');
      return token;
    };
    const post = (path: string, fields: Record<string, string>, headers: Record<string, string> = {}) =>
      b.api(path, { method: 'POST', body: new URLSearchParams(fields).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers } });
    /** Answers like a browser: the form as served, token included. */
    const answerPage = async (path: string, answer: string) => post(path, { csrf: await formToken(path), answer });
    /** A stranger challenged by `rcpt` (a new user with the sky question); the page path. */
    async function challengePage(rcpt: string, sender: string): Promise<string> {
      tokens[rcpt] = await b.addUser(rcpt);
      await api(rcpt, '/api/v1/settings', { method: 'PUT', json: { first_contact: 'challenge', challenge_question: 'What colour is the sky?', challenge_answer: 'Blue' } });
      const { result } = await notify(sender, rcpt);
      assert.equal(result.decision, 'challenge');
      return new URL(result.challenge.url).pathname;
    }

    it('offers a human challenge page; the right answer allows the sender', async () => {
      tokens['bria@b.test'] = await b.addUser('bria@b.test');
      const set = await json(await api('bria@b.test', '/api/v1/settings', { method: 'PUT', json: { first_contact: 'challenge', challenge_question: 'What colour is the sky?', challenge_answer: 'Blue' } }));
      assert.equal(set.challenge_question, 'What colour is the sky?');
      const { result } = await notify('yan@a.test', 'bria@b.test');
      assert.equal(result.decision, 'challenge');
      assert.match(result.challenge.url, new RegExp(`^${b.url}/challenge/[A-Za-z0-9_-]+$`));
      const path = new URL(result.challenge.url).pathname;
      const page = await b.api(path);
      assert.equal(page.status, 200);
      assert.match(await page.text(), /What colour is the sky\?/);
      const form = async (answer: string) => answerPage(path, answer);
      assert.equal((await form('green')).status, 403);
      assert.equal((await notify('yan@a.test', 'bria@b.test')).result.decision, 'challenge', 'still a stranger');
      assert.equal((await form('  BLUE ')).status, 200);
      assert.equal((await notify('yan@a.test', 'bria@b.test')).result.decision, 'fetch');
      assert.equal((await b.api('/challenge/doesnotexist0000000')).status, 404);
    });

    it('takes an answer only with the form token of that page, and not from another site', async () => {
      const path = await challengePage('bret@b.test', 'xia@a.test');
      const other = await challengePage('brin@b.test', 'xia@a.test');
      // the right answer, but not from the form as served: refused, and the sender is still a stranger
      assert.equal((await post(path, { answer: 'blue' })).status, 403, 'no token');
      assert.equal((await post(path, { csrf: await formToken(other), answer: 'blue' })).status, 403, 'the token of another page');
      assert.equal((await post(path, { csrf: await formToken(path), answer: 'blue' }, { origin: 'https://evil.example' })).status, 403, 'posted from another site');
      assert.equal((await post(path, { csrf: await formToken(path), answer: 'blue' }, { 'sec-fetch-site': 'cross-site' })).status, 403, 'a cross-site browser post');
      assert.equal((await notify('xia@a.test', 'bret@b.test')).result.decision, 'challenge', 'still a stranger');
      assert.equal((await post(path, { csrf: await formToken(path), answer: 'blue' }, { origin: new URL(b.url).origin })).status, 200, 'from the page itself');
      assert.equal((await notify('xia@a.test', 'bret@b.test')).result.decision, 'fetch');
    });

    // last in this node: it locks the test client's address for a quarter of an hour
    it('locks a page after five wrong answers, and the client address after ten', async () => {
      const path = await challengePage('brad@b.test', 'wu@a.test');
      const other = await challengePage('bram@b.test', 'wu@a.test');
      for (let i = 1; i <= 5; i++) assert.equal((await answerPage(path, `green ${i}`)).status, 403, `wrong answer ${i}`);
      const locked = await answerPage(path, 'blue');
      assert.equal(locked.status, 429, 'the sixth try is refused, even the right answer');
      const wait = Number(locked.headers.get('retry-after'));
      assert.ok(wait > 0 && wait <= 900, `Retry-After ${wait}`);
      assert.equal((await notify('wu@a.test', 'brad@b.test')).result.decision, 'challenge', 'the right answer while locked let nobody in');
      // the address has its own budget (ten): wrong answers at another page soon lock it there too
      // (spread over two more pages, so that neither reaches its own limit of five)
      const third = await challengePage('brett@b.test', 'wu@a.test');
      let refusedAt = 0;
      for (let i = 1; i <= 5 && !refusedAt; i++) if ((await answerPage(i % 2 ? other : third, `grey ${i}`)).status === 429) refusedAt = i;
      assert.ok(refusedAt > 0, 'the address is locked after ten wrong answers in all');
      assert.equal((await answerPage(other, 'blue')).status, 429, 'and stays locked for the right answer');
    });
  });
});
