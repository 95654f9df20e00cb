// The mailbox model through the REST API (docs/mailbox.md): mail is filed in INBOX, Requests and Sent
// by whichever door it came through, and a folder or flag changed through one route is what every
// other route shows (the /inbox routes and the /mail and /folders routes read one state).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fetch as undiciFetch } from 'undici';
import { PullmailClient, type FetchLike } from '../packages/client/src/index.ts';
import { startNodes, type TestNode } from './harness/node.ts';
import { waitFor } from './harness/wait.ts';

type Json = Record<string, any>;

describe('folders and flags through the REST API', () => {
  let a: TestNode;
  let b: TestNode;
  let alice: string;
  let bob: string;
  let eve: string;
  const call = async (node: TestNode, token: string, path: string, init: Parameters<TestNode['api']>[1] = {}): Promise<{ status: number; body: Json }> => {
    const res = await node.api(path, { ...init, token });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : {} };
  };
  const folder = async (node: TestNode, token: string, name: string) =>
    ((await call(node, token, '/api/v1/folders')).body.folders as Json[]).find((f) => f.name === name)!;
  const listing = async (node: TestNode, token: string, name: string) => (await call(node, token, `/api/v1/folders/${encodeURIComponent(name)}/messages`)).body;

  before(async () => {
    [a, b] = await startNodes([{ domain: 'a.test', https: true }, { domain: 'b.test', https: true }]);
    alice = await a.addUser('alice@a.test');
    bob = await b.addUser('bob@b.test');
    eve = await b.addUser('eve@b.test');
  });
  after(async () => {
    await a?.stop();
    await b?.stop();
  });

  it('gives every mailbox its seven folders, with IMAP counters', async () => {
    const { status, body } = await call(b, bob, '/api/v1/folders');
    assert.equal(status, 200);
    assert.deepEqual(body.folders.map((f: Json) => [f.name, f.role, f.special_use]), [
      ['INBOX', 'inbox', null], ['Archive', 'archive', '\\Archive'], ['Drafts', 'drafts', '\\Drafts'], ['Junk', 'junk', '\\Junk'],
      ['Requests', 'requests', null], ['Sent', 'sent', '\\Sent'], ['Trash', 'trash', '\\Trash'],
    ]);
    for (const f of body.folders) {
      assert.equal(f.total, 0);
      assert.ok(f.uidvalidity > 0 && f.uidnext === 1 && f.highestmodseq >= 1 && f.subscribed === true);
    }
  });

  it('files a first contact in Requests, and in INBOX once accepted; the sender finds it in Sent', async () => {
    const sent = await call(a, alice, '/api/v1/messages', { method: 'POST', json: { to: ['bob@b.test'], subject: 'Hello Bob', text: 'first contact' } });
    assert.equal(sent.status, 201);
    const sentFolder = await listing(a, alice, 'Sent');
    assert.equal(sentFolder.total, 1);
    assert.equal(sentFolder.messages[0].subject, 'Hello Bob');
    assert.deepEqual(sentFolder.messages[0].flags, ['\\Seen']);

    const held = await waitFor('the request in Requests', async () => (await listing(b, bob, 'Requests')).messages[0]);
    assert.equal(held.from, 'alice@a.test');
    assert.equal(held.subject, 'Hello Bob');
    // a request reads as a summary, not as the sender's message (which has not been fetched)
    const summary = await b.api(`/api/v1/mail/${held.id}/raw`, { token: bob });
    assert.match(await summary.text(), /first-contact request from alice@a\.test/);
    // it is decided through the requests API, not filed by hand
    assert.equal((await call(b, bob, `/api/v1/mail/${held.id}`, { method: 'PATCH', json: { folder: 'INBOX' } })).status, 409);

    const [request] = (await call(b, bob, '/api/v1/requests')).body.requests;
    assert.equal((await call(b, bob, `/api/v1/requests/${request.id}/accept`, { method: 'POST' })).status, 200);
    const inbox = await waitFor('the accepted message in INBOX', async () => {
      // the count and the page are two reads: wait until both see the filed message
      const l = await listing(b, bob, 'INBOX');
      return l.total === 1 && l.messages.length === 1 && l;
    });
    assert.equal((await listing(b, bob, 'Requests')).total, 0);
    assert.equal(inbox.messages[0].uid, 1);
    assert.deepEqual(inbox.messages[0].flags, []);
    // the /inbox routes list the same message under the same id
    const classic = (await call(b, bob, '/api/v1/inbox')).body;
    assert.equal(classic.messages[0].id, inbox.messages[0].id);
    assert.equal(classic.messages[0].id, request.id, 'the accepted request keeps its id in the inbox');
  });

  it('shows flags set through /mail in /inbox and the folder counts, and reading marks \\Seen', async () => {
    const [m] = (await listing(b, bob, 'INBOX')).messages;
    assert.equal((await folder(b, bob, 'INBOX')).unseen, 1);
    const peek = await call(b, bob, `/api/v1/mail/${m.id}?peek=1`);
    assert.equal(peek.status, 200);
    assert.match(peek.body.text, /first contact/);
    assert.equal((await folder(b, bob, 'INBOX')).unseen, 1, 'a peek leaves \\Seen alone');
    await call(b, bob, `/api/v1/inbox/${m.id}`);
    assert.equal((await folder(b, bob, 'INBOX')).unseen, 0, 'reading through /inbox marks it \\Seen');

    const flagged = await call(b, bob, `/api/v1/mail/${m.id}`, { method: 'PATCH', json: { add_flags: ['\\flagged', '$Work'], remove_flags: ['\\Seen'] } });
    assert.equal(flagged.status, 200);
    assert.deepEqual(flagged.body.flags.sort(), ['$Work', '\\Flagged']);
    assert.ok(flagged.body.modseq > m.modseq, 'a flag change raises the modseq');
    assert.deepEqual((await listing(b, bob, 'INBOX')).messages[0].flags.sort(), ['$Work', '\\Flagged']);
    assert.equal((await call(b, bob, `/api/v1/mail/${m.id}`, { method: 'PATCH', json: { add_flags: ['\\Recent'] } })).status, 400);
  });

  it('moves a message to another folder under a new uid; it leaves /inbox and the journal says so', async () => {
    const { cursor: start } = (await call(b, bob, '/api/v1/changes?since=0')).body;
    const [m] = (await listing(b, bob, 'INBOX')).messages;
    const moved = await call(b, bob, `/api/v1/mail/${m.id}`, { method: 'PATCH', json: { folder: 'Archive' } });
    assert.equal(moved.status, 200);
    assert.equal(moved.body.folder, 'Archive');
    assert.equal(moved.body.uid, 1);
    assert.deepEqual(moved.body.flags.sort(), ['$Work', '\\Flagged'], 'flags move with the message');
    assert.equal((await call(b, bob, '/api/v1/inbox')).body.total, 0);
    assert.equal((await call(b, bob, `/api/v1/inbox/${m.id}`)).status, 404);
    const raw = await b.api(`/api/v1/mail/${moved.body.id}/raw?peek=1`, { token: bob });
    assert.equal(raw.status, 200);
    assert.match(await raw.text(), /Subject: Hello Bob/);
    const changes = (await call(b, bob, `/api/v1/changes?since=${start}`)).body.changes.map((c: Json) => [c.folder, c.kind, c.uid]);
    assert.deepEqual(changes, [['Archive', 'added', 1], ['INBOX', 'removed', 1]]);
  });

  it('creates, renames and deletes user folders; the fixed ones stay', async () => {
    assert.equal((await call(b, bob, '/api/v1/folders', { method: 'POST', json: { name: 'Projects' } })).status, 201);
    assert.equal((await call(b, bob, '/api/v1/folders', { method: 'POST', json: { name: 'Projects' } })).status, 409);
    assert.equal((await call(b, bob, '/api/v1/folders', { method: 'POST', json: { name: 'bad*name' } })).status, 400);
    const [m] = (await listing(b, bob, 'Archive')).messages;
    const copy = await call(b, bob, `/api/v1/mail/${m.id}/copy`, { method: 'POST', json: { folder: 'Projects' } });
    assert.equal(copy.status, 201);
    assert.equal((await call(b, bob, '/api/v1/folders/Projects', { method: 'PATCH', json: { name: 'Work/2026' } })).status, 200);
    assert.equal((await listing(b, bob, 'Work/2026')).total, 1);
    assert.equal((await call(b, bob, '/api/v1/folders/Sent', { method: 'PATCH', json: { name: 'Outbox' } })).status, 409);
    assert.equal((await call(b, bob, '/api/v1/folders/INBOX', { method: 'DELETE' })).status, 409);
    assert.equal((await call(b, bob, `/api/v1/folders/${encodeURIComponent('Work/2026')}`, { method: 'DELETE' })).status, 204);
    // the copy went with its folder; the original is still readable
    assert.equal((await b.api(`/api/v1/mail/${m.id}/raw`, { token: bob })).status, 200);
  });

  it('appends a message once; a copy of a message the node sent adds nothing to Sent', async () => {
    const raw = 'From: bob@b.test\r\nTo: x@y.test\r\nSubject: =?UTF-8?B?RHJhZnQgw6k=?=\r\nMessage-ID: <draft-1@b.test>\r\n\r\nnot yet\r\n';
    const add = (name: string, body: string) => b.api(`/api/v1/folders/${name}/messages?flags=%5CDraft`, { method: 'POST', token: bob, body, headers: { 'content-type': 'message/rfc822' } });
    const first = await add('Drafts', raw);
    assert.equal(first.status, 201);
    const entry = (await first.json()) as Json;
    assert.equal(entry.subject, 'Draft é');
    assert.deepEqual(entry.flags, ['\\Draft']);
    assert.equal((await add('Drafts', raw)).status, 200, 'the same message again is the same entry');
    assert.equal((await listing(b, bob, 'Drafts')).total, 1);
    assert.equal(await (await b.api(`/api/v1/mail/${entry.id}/raw`, { token: bob })).text(), raw);

    const sentRaw = await (await a.api(`/api/v1/mail/${(await listing(a, alice, 'Sent')).messages[0].id}/raw`, { token: alice })).text();
    const again = await a.api('/api/v1/folders/Sent/messages', { method: 'POST', token: alice, body: sentRaw, headers: { 'content-type': 'message/rfc822' } });
    assert.equal(again.status, 200);
    assert.equal((await listing(a, alice, 'Sent')).total, 1);
    assert.equal((await add('Requests', raw)).status, 409);
  });

  it('refiles an edited message in Sent under a new uid, flags kept', async () => {
    // eve has never heard of alice: the message is held there, so it can still be edited
    const sent = await call(a, alice, '/api/v1/messages', { method: 'POST', json: { to: ['eve@b.test'], subject: 'v1', text: 'one' } });
    const before = (await listing(a, alice, 'Sent')).messages.find((m: Json) => m.subject === 'v1');
    await call(a, alice, `/api/v1/mail/${before.id}`, { method: 'PATCH', json: { add_flags: ['\\Flagged'] } });
    const edit = await call(a, alice, `/api/v1/messages/${sent.body.id}`, { method: 'PUT', json: { to: ['eve@b.test'], subject: 'v2', text: 'two' } });
    assert.equal(edit.status, 200);
    const after = (await listing(a, alice, 'Sent')).messages.find((m: Json) => m.subject === 'v2');
    assert.ok(after.uid > before.uid);
    assert.deepEqual(after.flags.sort(), ['\\Flagged', '\\Seen']);
    assert.equal((await listing(a, alice, 'Sent')).messages.filter((m: Json) => m.subject === 'v1').length, 0);
  });

  it('keeps each user to their own mail', async () => {
    const [m] = (await listing(b, bob, 'Archive')).messages;
    assert.equal((await call(b, eve, `/api/v1/mail/${m.id}`)).status, 404);
    assert.equal((await call(b, eve, `/api/v1/mail/${m.id}`, { method: 'PATCH', json: { add_flags: ['\\Seen'] } })).status, 404);
    assert.equal((await call(b, eve, `/api/v1/mail/${m.id}`, { method: 'DELETE' })).status, 404);
    assert.equal((await listing(b, eve, 'Archive')).total, 0);
    assert.ok((await call(b, eve, '/api/v1/changes?since=0')).body.changes.every((c: Json) => c.folder === 'Requests'), 'eve sees only her own request');
    assert.equal((await b.api('/api/v1/folders')).status, 401);
  });

  it('offers the same calls through the SDK', async () => {
    const sdk = new PullmailClient({ baseUrl: b.url, token: bob, fetch: undiciFetch as unknown as FetchLike, dispatcher: b.server.ctx.fetcher.dispatcher });
    const created = await sdk.createFolder('Receipts');
    assert.equal(created.name, 'Receipts');
    const added = await sdk.appendMessage('Receipts', 'From: shop@x.test\r\nSubject: Order 7\r\n\r\nthanks\r\n', ['$Paid']);
    assert.deepEqual(added.flags, ['$Paid']);
    const { cursor } = await sdk.changes();
    const moved = await sdk.updateMail(added.id, { add_flags: ['\\Seen'], folder: 'Archive' });
    assert.equal(moved.folder, 'Archive');
    assert.deepEqual((await sdk.readMail(moved.id, { peek: true })).subject, 'Order 7');
    assert.deepEqual((await sdk.changes(cursor)).changes.map((c) => c.kind), ['flags', 'added', 'removed']);
    assert.ok((await sdk.folders()).folders.some((f) => f.name === 'Receipts' && f.total === 0));
    await sdk.deleteMail(moved.id);
    await sdk.deleteFolder('Receipts');
    assert.equal((await sdk.folderMessages('Archive')).messages.some((m) => m.id === moved.id), false);
  });

  it('deletes a message for good', async () => {
    const [m] = (await listing(b, bob, 'Archive')).messages;
    assert.equal((await call(b, bob, `/api/v1/mail/${m.id}`, { method: 'DELETE' })).status, 204);
    assert.equal((await call(b, bob, `/api/v1/mail/${m.id}`)).status, 404);
    assert.equal((await folder(b, bob, 'Archive')).total, 0);
  });
});
