// Sending, status, sent list, retract and edit through app.request(): what the user API answers
// (docs/operator.md), with the recipient's fetch done through the node's own fetch route.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AUTH_SCHEME_CAP, HEADER_PROOF, type MessageStatus, type RetractResponse, type SendResponse, type SentList } from '@pullmail/client/wire';
import { seconds } from '../../context.ts';
import { issueCapability } from '../../protocol/capability.ts';
import { createProof } from '../../protocol/proof.ts';
import { createTestApp, type TestApp } from '../test-app.ts';

let t: TestApp;
let clock = Date.parse('2026-03-01T10:00:00Z');
let alice: string;
let carol: string;

before(async () => {
  // b.test is also served here: mail to bob is local and nothing fetches it until the test does
  t = await createTestApp({ env: { PULLMAIL_DOMAINS: 'a.test,b.test' }, now: () => clock });
  alice = await t.addUser('alice@a.test');
  carol = await t.addUser('carol@a.test');
  await t.addUser('bob@b.test');
});
after(() => t.close());

async function send(json: unknown, token = alice): Promise<SendResponse> {
  clock += 1000; // distinct created_at, so the sent list order is the send order
  const res = await t.request('/api/v1/messages', { method: 'POST', token, json });
  assert.equal(res.status, 201, await res.clone().text());
  return (await res.json()) as SendResponse;
}

/** Fetches message `id` for `rcpt` the way bob's node would: a capability and a proof, through GET /pm/v1/messages/:id. */
async function fetchAs(id: string, rcpt: string): Promise<Response> {
  const now = seconds(t.ctx);
  const cap = await issueCapability(t.ctx.keys, { iss: 'a.test', aud: 'b.test', sub: id, rcpt, exp: now + 3600 }, now);
  const url = `${t.ctx.publicUrl}/pm/v1/messages/${id}`;
  const proof = await createProof(t.ctx.keys, { iss: 'b.test', url, cap }, now);
  return t.request(`/pm/v1/messages/${id}`, { headers: { authorization: `${AUTH_SCHEME_CAP} ${cap}`, [HEADER_PROOF]: proof } });
}

describe('POST /api/v1/messages', () => {
  it('composes JSON into a message, queues one delivery per recipient and wakes the notify queue', async () => {
    t.kicks.length = 0;
    const sent = await send({ to: ['bob@b.test'], cc: ['dave@b.test'], subject: 'hello', text: 'hi bob' });
    assert.equal(sent.version, 1);
    assert.deepEqual(sent.deliveries, [{ rcpt: 'bob@b.test', state: 'queued' }, { rcpt: 'dave@b.test', state: 'queued' }]);
    assert.deepEqual(t.kicks, ['notify']);
  });

  it('takes a raw message/rfc822 upload, its recipients read from the header fields', async () => {
    const raw = 'From: alice@a.test\r\nTo: bob@b.test\r\nSubject: raw one\r\n\r\nbody\r\n';
    const res = await t.request('/api/v1/messages', { method: 'POST', token: alice, headers: { 'content-type': 'message/rfc822' }, body: raw });
    assert.equal(res.status, 201, await res.clone().text());
    const sent = (await res.json()) as SendResponse;
    assert.deepEqual(sent.deliveries, [{ rcpt: 'bob@b.test', state: 'queued' }]);
    const fetched = await fetchAs(sent.id, 'bob@b.test');
    assert.equal(fetched.status, 200);
    const bytes = await fetched.text();
    assert.match(bytes, /^Subject: raw one\r$/m);
    assert.match(bytes, /\r\n\r\nbody\r\n$/);
  });

  const refused: [string, { body: string; type: string }, number, string][] = [
    // the schema needs somebody to send to
    ['no recipient at all', { body: JSON.stringify({ subject: 'x', text: 'y' }), type: 'application/json' }, 400, 'bad_request'],
    // a recipient must be an address, not a display string
    ['a recipient that is not an address', { body: JSON.stringify({ to: ['not an address'] }), type: 'application/json' }, 400, 'bad_request'],
    // the body is parsed as JSON only when it says it is JSON
    ['JSON that does not parse', { body: '{"to":', type: 'application/json' }, 400, 'bad_request'],
    // neither JSON nor a raw message: the API cannot know how to read it
    ['a text/plain body', { body: 'to bob', type: 'text/plain' }, 415, 'unsupported_media_type'],
  ];
  for (const [name, req, status, code] of refused) {
    it(`refuses ${name} with ${status} ${code}`, async () => {
      const res = await t.request('/api/v1/messages', { method: 'POST', token: alice, headers: { 'content-type': req.type }, body: req.body });
      assert.equal(res.status, status);
      assert.equal(((await res.json()) as { error: string }).error, code);
    });
  }

  it('stores a subject PostgreSQL text cannot hold (NUL, a lone surrogate) with U+FFFD, sent as JSON or raw', async () => {
    const cases: [string, SendResponse][] = [
      ['a\uFFFDb', await send({ to: ['bob@b.test'], subject: 'a\u0000b', text: 'x' })],
      ['c\uFFFDd', await send({ to: ['bob@b.test'], subject: 'c\uD800d', text: 'x' })],
    ];
    const raw = await t.request('/api/v1/messages', { method: 'POST', token: alice, headers: { 'content-type': 'message/rfc822' }, body: 'From: alice@a.test\r\nTo: bob@b.test\r\nSubject: e\u0000f\r\n\r\nx\r\n' });
    assert.equal(raw.status, 201, await raw.clone().text());
    cases.push(['e\uFFFDf', (await raw.json()) as SendResponse]);
    for (const [subject, sent] of cases) {
      const res = await t.request(`/api/v1/messages/${sent.id}`, { token: alice });
      assert.equal(((await res.json()) as MessageStatus).subject, subject);
    }
  });

  it('reads a raw upload\'s Subject as a reader does: 8-bit UTF-8 and encoded words decoded, at most 998 characters', async () => {
    const cases: [string, string][] = [
      [Buffer.from('Grüße aus Köln', 'utf8').toString('latin1'), 'Grüße aus Köln'],
      ['=?utf-8?Q?caf=C3=A9?= au lait', 'café au lait'],
      ['x'.repeat(1200), 'x'.repeat(998)],
    ];
    for (const [field, want] of cases) {
      const raw = Buffer.from(`From: alice@a.test\r\nTo: bob@b.test\r\nSubject: ${field}\r\n\r\nx\r\n`, 'latin1');
      const res = await t.request('/api/v1/messages', { method: 'POST', token: alice, headers: { 'content-type': 'message/rfc822' }, body: raw });
      assert.equal(res.status, 201, await res.clone().text());
      const got = await t.request(`/api/v1/messages/${((await res.json()) as SendResponse).id}`, { token: alice });
      assert.equal(((await got.json()) as MessageStatus).subject, want, field.slice(0, 40));
    }
  });

  it('answers 413 too_large for a JSON send over the send limit (1.4 × PULLMAIL_MAX_MESSAGE_BYTES)', async () => {
    const small = await createTestApp({ env: { PULLMAIL_MAX_MESSAGE_BYTES: '2000' } });
    try {
      const token = await small.addUser('alice@a.test');
      const res = await small.request('/api/v1/messages', { method: 'POST', token, json: { to: ['bob@b.test'], text: 'x'.repeat(3000) } });
      assert.equal(res.status, 413);
      assert.equal(((await res.json()) as { error: string }).error, 'too_large');
    } finally {
      await small.close();
    }
  });
});

describe('GET /api/v1/messages/:id', () => {
  it('shows subject, version and each delivery', async () => {
    const sent = await send({ to: ['bob@b.test'], subject: 'status me', text: 'x' });
    const res = await t.request(`/api/v1/messages/${sent.id}`, { token: alice });
    assert.equal(res.status, 200);
    const status = (await res.json()) as MessageStatus;
    assert.equal(status.id, sent.id);
    assert.equal(status.subject, 'status me');
    assert.equal(status.version, 1);
    assert.deepEqual(status.deliveries, [{ rcpt: 'bob@b.test', state: 'queued' }]);
  });

  it('reports fetched, with the time, once the recipient fetched', async () => {
    const sent = await send({ to: ['bob@b.test'], subject: 'fetch me', text: 'x' });
    assert.equal((await fetchAs(sent.id, 'bob@b.test')).status, 200);
    const status = (await (await t.request(`/api/v1/messages/${sent.id}`, { token: alice })).json()) as MessageStatus;
    assert.equal(status.deliveries[0].state, 'fetched');
    assert.equal(status.deliveries[0].fetched_at, new Date(clock).toISOString());
  });

  it("is 404 for another user's message and for an unknown id", async () => {
    const sent = await send({ to: ['bob@b.test'], text: 'x' });
    // a NUL can be in no id: PostgreSQL text cannot hold it
    for (const [id, token] of [[sent.id, carol], ['no-such-message', alice], ['a%00b', alice]]) {
      const res = await t.request(`/api/v1/messages/${id}`, { token });
      assert.equal(res.status, 404);
      assert.equal(((await res.json()) as { error: string }).error, 'not_found');
    }
  });
});

describe('GET /api/v1/sent', () => {
  it('pages newest first with an opaque cursor until the list ends', async () => {
    const dana = await t.addUser('dana@a.test');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await send({ to: ['bob@b.test'], subject: `n${i}`, text: 'x' }, dana)).id);
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const res = await t.request(`/api/v1/sent?limit=2${cursor ? `&cursor=${cursor}` : ''}`, { token: dana });
      assert.equal(res.status, 200);
      const page = (await res.json()) as SentList;
      seen.push(...page.messages.map((m) => m.id));
      for (const m of page.messages) assert.deepEqual(m.recipients, ['bob@b.test']);
      cursor = page.cursor;
      pages++;
    } while (cursor && pages < 10);
    assert.deepEqual(seen, ids.reverse());
    // 2 + 2 + 1: the last page is short and carries no cursor
    assert.equal(pages, 3);
  });

  const badQueries: [string, string][] = [
    ['limit=0', 'a page of nothing is no page'],
    ['limit=201', 'over the 200 maximum'],
    ['limit=abc', 'not a number'],
    ['cursor=%%%', 'not base64url of <ms>.<id>'],
    [`cursor=${Buffer.from('soon.abc').toString('base64url')}`, 'the time part is not digits'],
  ];
  for (const [query, why] of badQueries) {
    it(`is 400 for ${query} (${why})`, async () => {
      const res = await t.request(`/api/v1/sent?${query}`, { token: alice });
      assert.equal(res.status, 400);
      assert.equal(((await res.json()) as { error: string }).error, 'bad_request');
    });
  }
});

describe('POST /api/v1/messages/:id/retract', () => {
  it('retracts what was not fetched yet and says already_fetched for the rest', async () => {
    const sent = await send({ to: ['bob@b.test', 'dave@b.test'], text: 'oops' });
    assert.equal((await fetchAs(sent.id, 'bob@b.test')).status, 200);
    t.kicks.length = 0;
    const res = await t.request(`/api/v1/messages/${sent.id}/retract`, { method: 'POST', token: alice });
    assert.equal(res.status, 200);
    const { results } = (await res.json()) as RetractResponse;
    assert.deepEqual([...results].sort((a, b) => a.rcpt.localeCompare(b.rcpt)), [
      { rcpt: 'bob@b.test', result: 'already_fetched' },
      { rcpt: 'dave@b.test', result: 'retracted' },
    ]);
    // the retract notification is owed to dave's node
    assert.deepEqual(t.kicks, ['notify']);
    // a fetch after the retract is refused with 410 (protocol §5)
    const late = await fetchAs(sent.id, 'dave@b.test');
    assert.equal(late.status, 410);
    assert.equal(((await late.json()) as { error: string }).error, 'retracted');
  });

  it("is 404 for another user's message", async () => {
    const sent = await send({ to: ['bob@b.test'], text: 'x' });
    const res = await t.request(`/api/v1/messages/${sent.id}/retract`, { method: 'POST', token: carol });
    assert.equal(res.status, 404);
    assert.equal((await t.request('/api/v1/messages/a%00b/retract', { method: 'POST', token: alice })).status, 404, 'an id with a NUL');
  });
});

describe('PUT /api/v1/messages/:id', () => {
  it('offers a new version to recipients who have not fetched', async () => {
    const sent = await send({ to: ['bob@b.test'], subject: 'v1', text: 'first' });
    const res = await t.request(`/api/v1/messages/${sent.id}`, { method: 'PUT', token: alice, json: { to: ['bob@b.test'], subject: 'v2', text: 'second' } });
    assert.equal(res.status, 200, await res.clone().text());
    const edited = (await res.json()) as SendResponse;
    assert.equal(edited.version, 2);
    const fetched = await fetchAs(sent.id, 'bob@b.test');
    assert.equal(fetched.headers.get('pm-version') ?? fetched.headers.get('PM-Version'), '2');
    assert.match(await fetched.text(), /^Subject: v2\r$/m);
  });

  it('is 409 conflict once every recipient has fetched', async () => {
    const sent = await send({ to: ['bob@b.test'], subject: 'v1', text: 'first' });
    assert.equal((await fetchAs(sent.id, 'bob@b.test')).status, 200);
    const res = await t.request(`/api/v1/messages/${sent.id}`, { method: 'PUT', token: alice, json: { to: ['bob@b.test'], subject: 'v2', text: 'too late' } });
    assert.equal(res.status, 409);
    assert.equal(((await res.json()) as { error: string }).error, 'conflict');
  });

  it('is 400 when the edit names other recipients', async () => {
    const sent = await send({ to: ['bob@b.test'], text: 'first' });
    const res = await t.request(`/api/v1/messages/${sent.id}`, { method: 'PUT', token: alice, json: { to: ['dave@b.test'], text: 'to someone else' } });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { error: string }).error, 'bad_request');
  });

  it("is 404 for another user's message", async () => {
    const sent = await send({ to: ['bob@b.test'], text: 'first' });
    const res = await t.request(`/api/v1/messages/${sent.id}`, { method: 'PUT', token: carol, json: { to: ['bob@b.test'], text: 'mine now' } });
    assert.equal(res.status, 404);
    assert.equal((await t.request('/api/v1/messages/a%00b', { method: 'PUT', token: alice, json: { to: ['bob@b.test'], text: 'x' } })).status, 404, 'an id with a NUL');
  });
});
