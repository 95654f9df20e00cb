// Two nodes over real HTTPS on loopback delivering by pm1: send, fetch, hold/accept, retract, edit.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startNodes, type TestNode } from './harness/node.ts';
import { waitFor } from './harness/wait.ts';

type Json = Record<string, any>;

async function json(res: Response): Promise<Json> {
  const text = await res.text();
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`not JSON (${res.status}): ${text.slice(0, 200)}`);
  }
}

describe('pm1 between two nodes over HTTPS', () => {
  let a: TestNode;
  let b: TestNode;
  let alice: string;
  let bob: string;
  let carol: string;

  before(async () => {
    [a, b] = await startNodes([{ domain: 'a.test', https: true }, { domain: 'b.test', https: true }]);
    alice = await a.addUser('alice@a.test');
    bob = await b.addUser('bob@b.test');
    carol = await b.addUser('carol@b.test');
    // bob knows alice; carol does not
    const rule = await b.api('/api/v1/rules', { method: 'POST', token: bob, json: { action: 'allow', pattern: 'alice@a.test' } });
    assert.equal(rule.status, 201);
  });
  after(async () => {
    await a?.stop();
    await b?.stop();
  });

  async function send(to: string, subject: string, text = 'hello'): Promise<string> {
    const res = await a.api('/api/v1/messages', { method: 'POST', token: alice, json: { to: [to], subject, text } });
    const body = await json(res);
    assert.equal(res.status, 201, JSON.stringify(body));
    assert.deepEqual(body.deliveries, [{ rcpt: to, state: 'queued' }]);
    return body.id;
  }
  const status = async (id: string) => json(await a.api(`/api/v1/messages/${id}`, { token: alice }));
  const stateOf = async (id: string) => (await status(id)).deliveries[0].state as string;
  const inbox = async (token: string) => json(await b.api('/api/v1/inbox', { token }));
  const requests = async (token: string) => (await json(await b.api('/api/v1/requests', { token }))).requests as Json[];
  async function rawSent(id: string, version: number): Promise<Buffer> {
    const { findVersion } = await import('../packages/server/src/store/messages.ts');
    const { loadBody } = await import('../packages/server/src/store/bodies.ts');
    return loadBody(a.server.ctx.db, (await findVersion(a.server.ctx.db, id, version))!);
  }

  it('delivers alice → bob: bob stores the exact bytes and alice sees fetched', async () => {
    const id = await send('bob@b.test', 'first contact', 'Hi Bob');
    assert.equal(await waitFor('fetched', async () => (await stateOf(id)) === 'fetched' && 'fetched'), 'fetched');
    const list = await inbox(bob);
    const entry = list.messages.find((m: Json) => m.subject === 'first contact');
    assert.ok(entry, 'message is in bob\'s inbox');
    assert.equal(entry.from, 'alice@a.test');
    assert.equal(entry.via, 'pm1');
    const raw = Buffer.from(await (await b.api(`/api/v1/inbox/${entry.id}/raw`, { token: bob })).arrayBuffer());
    assert.deepEqual(raw, await rawSent(id, 1));
    const parsed = await json(await b.api(`/api/v1/inbox/${entry.id}`, { token: bob }));
    assert.equal(parsed.text.trim(), 'Hi Bob');
    assert.ok((await status(id)).deliveries[0].fetched_at);
    // carol cannot read bob's mail
    assert.equal((await b.api(`/api/v1/inbox/${entry.id}`, { token: carol })).status, 404);
  });

  it('holds a stranger\'s message until the recipient accepts, then lets the sender through', async () => {
    const id = await send('carol@b.test', 'may I?');
    await waitFor('held', async () => (await stateOf(id)) === 'held');
    const [req] = await requests(carol);
    assert.equal(req.from, 'alice@a.test');
    assert.equal(req.subject, 'may I?');
    assert.equal((await inbox(carol)).total, 0, 'nothing fetched while held');
    assert.equal((await b.api(`/api/v1/requests/${req.id}/accept`, { method: 'POST', token: carol })).status, 200);
    await waitFor('fetched after accept', async () => (await stateOf(id)) === 'fetched');
    assert.equal((await inbox(carol)).total, 1);
    const next = await send('carol@b.test', 'second');
    await waitFor('second fetched without asking', async () => (await stateOf(next)) === 'fetched');
    assert.equal((await requests(carol)).length, 0);
  });

  it('retract before fetch: the recipient never gets the body and the request disappears', async () => {
    const dave = await b.addUser('dave@b.test');
    const id = await send('dave@b.test', 'oops');
    await waitFor('held', async () => (await stateOf(id)) === 'held');
    const r = await json(await a.api(`/api/v1/messages/${id}/retract`, { method: 'POST', token: alice }));
    assert.deepEqual(r, { results: [{ rcpt: 'dave@b.test', result: 'retracted' }] });
    assert.equal(await stateOf(id), 'retracted');
    await waitFor('request removed by the retract notification', async () => (await requests(dave)).length === 0);
    assert.equal((await inbox(dave)).total, 0);
  });

  it('retract after fetch reports already_fetched', async () => {
    const id = await send('bob@b.test', 'keep');
    await waitFor('fetched', async () => (await stateOf(id)) === 'fetched');
    const r = await json(await a.api(`/api/v1/messages/${id}/retract`, { method: 'POST', token: alice }));
    assert.deepEqual(r.results, [{ rcpt: 'bob@b.test', result: 'already_fetched' }]);
    assert.equal(await stateOf(id), 'fetched');
  });

  it('edit before fetch: the recipient gets version 2', async () => {
    const erin = await b.addUser('erin@b.test');
    const id = await send('erin@b.test', 'draft', 'version one');
    await waitFor('held', async () => (await stateOf(id)) === 'held');
    const put = await a.api(`/api/v1/messages/${id}`, { method: 'PUT', token: alice, json: { to: ['erin@b.test'], subject: 'final', text: 'version two' } });
    const edited = await json(put);
    assert.equal(put.status, 200, JSON.stringify(edited));
    assert.equal(edited.version, 2);
    await waitFor('update reached the request', async () => (await requests(erin))[0]?.subject === 'final');
    const [req] = await requests(erin);
    await b.api(`/api/v1/requests/${req.id}/accept`, { method: 'POST', token: erin });
    await waitFor('fetched', async () => (await stateOf(id)) === 'fetched');
    const [m] = (await inbox(erin)).messages;
    const raw = Buffer.from(await (await b.api(`/api/v1/inbox/${m.id}/raw`, { token: erin })).arrayBuffer());
    assert.deepEqual(raw, await rawSent(id, 2));
    assert.match(raw.toString(), /version two/);
    // every recipient has fetched: a further edit is refused
    const again = await a.api(`/api/v1/messages/${id}`, { method: 'PUT', token: alice, json: { to: ['erin@b.test'], subject: 'late', text: 'v3' } });
    assert.equal(again.status, 409);
  });

  it('an unknown recipient is rejected and the sender sees why', async () => {
    const id = await send('nobody@b.test', 'hello?');
    await waitFor('rejected', async () => (await stateOf(id)) === 'rejected');
    assert.equal((await status(id)).deliveries[0].reason, 'unknown_recipient');
  });

  it('lists sent messages newest first with a working cursor', async () => {
    const page1 = await json(await a.api('/api/v1/sent?limit=2', { token: alice }));
    assert.equal(page1.messages.length, 2);
    assert.ok(page1.cursor);
    const page2 = await json(await a.api(`/api/v1/sent?limit=2&cursor=${page1.cursor}`, { token: alice }));
    assert.ok(page2.messages.length >= 1);
    const ids = [...page1.messages, ...page2.messages].map((m: Json) => m.id);
    assert.equal(new Set(ids).size, ids.length, 'pages do not overlap');
    assert.equal((await a.api('/api/v1/sent?limit=0', { token: alice })).status, 400);
  });

  it('exposes Prometheus metrics on both sides', async () => {
    const recipient = await (await b.api('/metrics')).text();
    assert.match(recipient, /pullmail_notify_decisions_total\{decision="fetch",reason="allowed"\} [1-9]/);
    assert.match(recipient, /pullmail_notify_decisions_total\{decision="hold",reason="first_contact"\} [1-9]/);
    assert.match(recipient, /pullmail_fetch_seconds_count\{outcome="stored"\} [1-9]/);
    assert.match(recipient, /pullmail_queue_depth\{queue="fetch"\} 0/);
    const sender = await (await a.api('/metrics')).text();
    assert.match(sender, /pullmail_deliveries\{state="fetched"\} [1-9]/);
    assert.match(sender, /pullmail_deliveries\{state="retracted"\} [1-9]/);
    assert.match(sender, /pullmail_fetches_served_total\{outcome="served"\} [1-9]/);
  });
});
