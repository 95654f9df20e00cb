// Held requests, rules and settings (docs/operator.md, protocol §6) through app.request(). Requests
// arrive as notifications from a.test, a domain this node also serves, so no peer is needed.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { HeldRequest, NotifyResult, Rule, Settings } from '@pullmail/client/wire';
import { seconds } from '../../context.ts';
import { sha256b64url } from '../../protocol/jws.ts';
import { signNotification } from '../../protocol/notification.ts';
import { createTestApp, type TestApp } from '../test-app.ts';

let t: TestApp;
let seq = 0;
before(async () => {
  t = await createTestApp({ env: { PULLMAIL_DOMAINS: 'a.test,b.test' } });
});
after(() => t.close());

/** A fresh mailbox per test, so rules and correspondents of one test never decide another's. */
const user = () => t.addUser(`u${++seq}@b.test`);
const errorOf = async (res: Response) => ((await res.json()) as { error: string }).error;

async function notifyFrom(from: string, rcpt: string, subject = 'hello'): Promise<NotifyResult> {
  const id = `n${++seq}`;
  const jws = await signNotification(t.ctx.keys, {
    iss: 'a.test', aud: 'b.test', kind: 'new',
    msg: { id, from, rcpt, version: 1, size: 42, sha256: sha256b64url('x'), subject, sent_at: seconds(t.ctx) },
    fetch: { url: `${t.ctx.publicUrl}/pm/v1/messages/${id}`, cap: 'cap' },
  }, seconds(t.ctx));
  const res = await t.request('/pm/v1/notify', { method: 'POST', headers: { 'content-type': 'application/jose' }, body: jws });
  assert.equal(res.status, 200);
  return (await res.json()) as NotifyResult;
}

async function requestsOf(token: string): Promise<HeldRequest[]> {
  const res = await t.request('/api/v1/requests', { token });
  assert.equal(res.status, 200);
  return ((await res.json()) as { requests: HeldRequest[] }).requests;
}

describe('held requests', () => {
  it('lists a held first contact with sender, subject, size and how it came', async () => {
    const token = await user();
    assert.equal((await notifyFrom('alice@a.test', `u${seq}@b.test`, 'may I?')).decision, 'hold');
    const [r, ...rest] = await requestsOf(token);
    assert.equal(rest.length, 0);
    assert.equal(r.from, 'alice@a.test');
    assert.equal(r.subject, 'may I?');
    assert.equal(r.size, 42);
    assert.equal(r.via, 'pm1');
  });

  it('accept queues the fetch, wakes the fetch queue and lets the next message from that sender through', async () => {
    const token = await user();
    const rcpt = `u${seq}@b.test`;
    await notifyFrom('alice@a.test', rcpt);
    const [r] = await requestsOf(token);
    t.kicks.length = 0;
    const res = await t.request(`/api/v1/requests/${r.id}/accept`, { method: 'POST', token });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { id: r.id, state: 'accepted' });
    assert.deepEqual(t.kicks, ['fetch']);
    assert.deepEqual(await requestsOf(token), []);
    assert.equal((await notifyFrom('alice@a.test', rcpt)).decision, 'fetch');
  });

  it('reject drops the request; block also adds a block rule that rejects the sender next time', async () => {
    const token = await user();
    const rcpt = `u${seq}@b.test`;
    await notifyFrom('alice@a.test', rcpt);
    await notifyFrom('mallory@a.test', rcpt);
    const held = await requestsOf(token);
    const alice = held.find((r) => r.from === 'alice@a.test')!;
    const mallory = held.find((r) => r.from === 'mallory@a.test')!;
    assert.deepEqual(await (await t.request(`/api/v1/requests/${alice.id}/reject`, { method: 'POST', token })).json(), { id: alice.id, state: 'rejected' });
    assert.deepEqual(await (await t.request(`/api/v1/requests/${mallory.id}/block`, { method: 'POST', token })).json(), { id: mallory.id, state: 'blocked' });
    assert.deepEqual(await requestsOf(token), []);
    const rules = ((await (await t.request('/api/v1/rules', { token })).json()) as { rules: Rule[] }).rules;
    assert.deepEqual(rules.map((r) => [r.action, r.pattern]), [['block', 'mallory@a.test']]);
    assert.deepEqual(await notifyFrom('mallory@a.test', rcpt), { decision: 'reject', reason: 'blocked' });
    // a rejected sender without a rule is only held again
    assert.equal((await notifyFrom('alice@a.test', rcpt)).decision, 'hold');
  });

  it("is 404 for an unknown request and for another user's request, on every action", async () => {
    const owner = await user();
    await notifyFrom('alice@a.test', `u${seq}@b.test`);
    const [r] = await requestsOf(owner);
    const other = await user();
    for (const action of ['accept', 'reject', 'block']) {
      for (const [id, token] of [[r.id, other], ['no-such-request', owner]]) {
        const res = await t.request(`/api/v1/requests/${id}/${action}`, { method: 'POST', token });
        assert.equal(res.status, 404, `${action} ${id}`);
        assert.equal(await errorOf(res), 'not_found');
      }
    }
    // still held for its owner
    assert.equal((await requestsOf(owner)).length, 1);
  });
});

describe('rules', () => {
  it('adds rules in canonical form, lists them and deletes one', async () => {
    const token = await user();
    const add = async (action: string, pattern: string) => {
      const res = await t.request('/api/v1/rules', { method: 'POST', token, json: { action, pattern } });
      assert.equal(res.status, 201);
      return (await res.json()) as Rule;
    };
    const a = await add('allow', 'Alice@A.Test');
    const d = await add('block', '@Spam.Test');
    assert.equal(a.pattern, 'alice@a.test');
    assert.equal(d.pattern, '@spam.test');
    const listed = ((await (await t.request('/api/v1/rules', { token })).json()) as { rules: Rule[] }).rules;
    assert.deepEqual(listed.map((r) => r.id).sort(), [a.id, d.id].sort());
    assert.equal((await t.request(`/api/v1/rules/${d.id}`, { method: 'DELETE', token })).status, 204);
    const after = ((await (await t.request('/api/v1/rules', { token })).json()) as { rules: Rule[] }).rules;
    assert.deepEqual(after, [a]);
    // an allow rule admits the sender's first contact without holding it
    assert.equal((await notifyFrom('alice@a.test', `u${seq}@b.test`)).decision, 'fetch');
  });

  const badRules: [string, unknown][] = [
    // only allow and block exist
    ['an unknown action', { action: 'quarantine', pattern: 'a@x.test' }],
    // neither an address nor @domain
    ['a bare word as pattern', { action: 'block', pattern: 'spammer' }],
    // "@" must be followed by a domain name
    ['a lone @', { action: 'block', pattern: '@' }],
    ['a domain with a space', { action: 'block', pattern: '@spam test' }],
    ['no pattern', { action: 'block' }],
  ];
  for (const [name, body] of badRules) {
    it(`is 400 bad_request for ${name}`, async () => {
      const res = await t.request('/api/v1/rules', { method: 'POST', token: await user(), json: body });
      assert.equal(res.status, 400);
      assert.equal(await errorOf(res), 'bad_request');
    });
  }

  it("is 404 deleting an unknown rule or another user's rule", async () => {
    const owner = await user();
    const rule = (await (await t.request('/api/v1/rules', { method: 'POST', token: owner, json: { action: 'block', pattern: '@x.test' } })).json()) as Rule;
    const other = await user();
    for (const [id, token] of [[rule.id, other], ['00000000-0000-0000-0000-000000000000', owner]]) {
      const res = await t.request(`/api/v1/rules/${id}`, { method: 'DELETE', token });
      assert.equal(res.status, 404, id);
    }
  });
});

describe('settings', () => {
  it('starts at hold with no question; a change is answered and kept', async () => {
    const token = await user();
    assert.deepEqual(await (await t.request('/api/v1/settings', { token })).json(), { first_contact: 'hold', challenge_question: null } satisfies Settings);
    const put = await t.request('/api/v1/settings', { method: 'PUT', token, json: { first_contact: 'challenge', challenge_question: 'Colour of the sky?', challenge_answer: 'blue' } });
    assert.equal(put.status, 200);
    assert.deepEqual(await put.json(), { first_contact: 'challenge', challenge_question: 'Colour of the sky?' });
    assert.deepEqual(await (await t.request('/api/v1/settings', { token })).json(), { first_contact: 'challenge', challenge_question: 'Colour of the sky?' });
    // null removes the question
    const cleared = await t.request('/api/v1/settings', { method: 'PUT', token, json: { challenge_question: null } });
    assert.deepEqual(await cleared.json(), { first_contact: 'challenge', challenge_question: null });
  });

  it('keeps a question PostgreSQL text cannot hold (NUL, a lone surrogate) with U+FFFD', async () => {
    const token = await user();
    for (const [question, kept] of [['a\u0000b?', 'a\uFFFDb?'], ['c\uD800d?', 'c\uFFFDd?']]) {
      const put = await t.request('/api/v1/settings', { method: 'PUT', token, json: { challenge_question: question, challenge_answer: 'x' } });
      assert.equal(put.status, 200, await put.clone().text());
      assert.equal(((await put.json()) as Settings).challenge_question, kept);
    }
  });

  it('first_contact fetch lets a stranger through', async () => {
    const token = await user();
    await t.request('/api/v1/settings', { method: 'PUT', token, json: { first_contact: 'fetch' } });
    assert.equal((await notifyFrom('stranger@a.test', `u${seq}@b.test`)).decision, 'fetch');
  });

  const badSettings: [string, unknown][] = [
    // the modes are hold, challenge and fetch
    ['an unknown first_contact mode', { first_contact: 'drop' }],
    // a question nobody can check the answer to
    ['a question without an answer', { challenge_question: 'Who?' }],
    // trimmed to nothing
    ['a blank question', { challenge_question: '   ', challenge_answer: 'x' }],
    ['a question over 300 characters', { challenge_question: 'q'.repeat(301), challenge_answer: 'x' }],
  ];
  for (const [name, body] of badSettings) {
    it(`is 400 bad_request for ${name}`, async () => {
      const token = await user();
      const res = await t.request('/api/v1/settings', { method: 'PUT', token, json: body });
      assert.equal(res.status, 400);
      assert.equal(await errorOf(res), 'bad_request');
      assert.deepEqual(await (await t.request('/api/v1/settings', { token })).json(), { first_contact: 'hold', challenge_question: null });
    });
  }
});
