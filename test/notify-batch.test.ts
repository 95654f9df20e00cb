// POST /pm/v1/notify/batch handled a batch at a time (delivery/receive-batch.ts): the answers are the
// ones receive.ts gives item by item, in order, and idempotent (protocol §2): a copy in the same batch,
// a retried batch and two identical batches at once each leave one inbound row per notification.
// One node serving both domains, so a.test's notifications are signed with keys it has; PGlite, or
// PostgreSQL with DATABASE_URL.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { NotifyResult } from '@pullmail/client/wire';
import { and, asc, count, eq, inArray } from 'drizzle-orm';
import { sha256b64url } from '../packages/server/src/protocol/jws.ts';
import { signNotification, type NotificationInput } from '../packages/server/src/protocol/notification.ts';
import { folderChanges, folderMessages, folders, inbound, mailboxes, notifyLog } from '../packages/server/src/store/schema.ts';
import { startNode, type TestNode } from './harness/node.ts';

let node: TestNode;
let seq = 0;
const nowS = () => Math.floor(Date.now() / 1000);

before(async () => {
  node = await startNode({ domain: 'a.test,b.test' });
  const bob = await node.addUser('bob@b.test');
  const carol = await node.addUser('carol@b.test');
  await node.addUser('dave@b.test');
  for (const [token, action, pattern] of [[bob, 'allow', 'alice@a.test'], [bob, 'block', 'mallory@a.test']]) {
    const res = await node.api('/api/v1/rules', { method: 'POST', token, json: { action, pattern } });
    assert.equal(res.status, 201);
  }
  const res = await node.api('/api/v1/settings', { method: 'PUT', token: carol, json: { first_contact: 'challenge' } });
  assert.equal(res.status, 200, await res.text());
});
after(() => node?.stop());

function input(from: string, rcpt: string, id = `m${++seq}_${Date.now()}`): NotificationInput {
  return {
    iss: 'a.test',
    aud: 'b.test',
    kind: 'new',
    msg: { id, from, rcpt, version: 1, size: 10, sha256: sha256b64url('x'), subject: 'hi', sent_at: nowS() },
    fetch: { url: `${node.server.ctx.publicUrl}/pm/v1/messages/${id}`, cap: 'cap-token' },
  };
}
const sign = (i: NotificationInput) => signNotification(node.server.ctx.keys, i, nowS());

async function batch(notifications: string[]): Promise<(NotifyResult & { error?: string })[]> {
  const res = await node.api('/pm/v1/notify/batch', { method: 'POST', json: { notifications } });
  assert.equal(res.status, 200, await res.clone().text());
  return ((await res.json()) as { results: (NotifyResult & { error?: string })[] }).results;
}

async function rows(remoteId: string): Promise<number> {
  const [r] = await node.server.ctx.db.select({ n: count() }).from(inbound).where(and(eq(inbound.iss, 'a.test'), eq(inbound.remoteId, remoteId)));
  return Number(r.n);
}

describe('POST /pm/v1/notify/batch, a batch at a time', () => {
  it('answers each kind of item as receive.ts would, in order', async () => {
    const items = [
      input('alice@a.test', 'bob@b.test'), // allowed → fetch
      input('stranger@a.test', 'bob@b.test'), // first contact → hold
      input('mallory@a.test', 'bob@b.test'), // block rule
      input('alice@a.test', 'nobody@b.test'), // no such mailbox
      input('stranger@a.test', 'carol@b.test'), // carol challenges first contact
      input('stranger@a.test', 'dave@b.test'),
    ];
    const results = await batch([...(await Promise.all(items.map(sign))), 'not-a-jws']);
    assert.deepEqual(results.slice(0, 4), [
      { decision: 'fetch', reason: 'allowed' },
      { decision: 'hold', reason: 'first_contact' },
      { decision: 'reject', reason: 'blocked' },
      { decision: 'reject', reason: 'unknown_recipient' },
    ]);
    assert.equal(results[4].decision, 'challenge');
    assert.equal(results[4].challenge?.type, 'pow');
    assert.deepEqual(results[5], { decision: 'hold', reason: 'first_contact' });
    assert.equal(results[6].error, 'bad_request');
    // pending rows only for what will be fetched, held or challenged
    assert.deepEqual(await Promise.all(items.map((i) => rows(i.msg.id))), [1, 1, 0, 0, 1, 1]);
  });

  it('answers a copy in the same batch and a retried batch the same, storing one row each', async () => {
    const a = input('alice@a.test', 'bob@b.test');
    const b = input('stranger@a.test', 'dave@b.test');
    const jwsA = await sign(a);
    // the copy is freshly signed (new jti): still the same notification (protocol §2)
    const first = await batch([jwsA, await sign(b), await sign(a)]);
    assert.deepEqual(first, [{ decision: 'fetch', reason: 'allowed' }, { decision: 'hold', reason: 'first_contact' }, { decision: 'fetch', reason: 'allowed' }]);
    const again = await batch([await sign(b), jwsA]);
    assert.deepEqual(again, [first[1], first[0]]);
    assert.equal(await rows(a.msg.id), 1);
    assert.equal(await rows(b.msg.id), 1);
  });

  it('leaves one row per notification when the same batch arrives twice at once', async () => {
    const items = Array.from({ length: 20 }, (_, i) => input(i % 2 ? 'alice@a.test' : 'stranger@a.test', i % 3 ? 'bob@b.test' : 'dave@b.test'));
    const jws = await Promise.all(items.map(sign));
    const [x, y] = await Promise.all([batch(jws), batch([...jws].reverse())]);
    assert.deepEqual(x, [...y].reverse());
    for (const i of items) assert.equal(await rows(i.msg.id), 1, i.msg.id);
  });

  it('answers a batch of 300 in order: a refused item in place, a later copy answered as the first', async () => {
    const items = Array.from({ length: 300 }, (_, i) => input(i % 2 ? 'alice@a.test' : `stranger${i}@a.test`, i % 5 ? 'bob@b.test' : 'dave@b.test')); // alice is allowed by bob only
    const jws = await Promise.all(items.map(sign));
    jws[150] = 'not-a-jws';
    const copyOfFirst = await sign(items[1]);
    const results = await batch([...jws, copyOfFirst]);
    assert.equal(results.length, 301);
    for (const [i, r] of results.slice(0, 300).entries()) {
      if (i === 150) assert.equal(r.error, 'bad_request');
      else assert.deepEqual(r, i % 2 && i % 5 ? { decision: 'fetch', reason: 'allowed' } : { decision: 'hold', reason: 'first_contact' }, `item ${i}`);
    }
    assert.deepEqual(results[300], results[1]);
    for (const [i, it] of items.entries()) assert.equal(await rows(it.msg.id), i === 150 ? 0 : 1, it.msg.id);
  });

  it('files a batch of held requests in Requests as one at a time would: one entry each, consecutive uids and modseqs, a change line each', async () => {
    const db = node.server.ctx.db;
    const requestsOf = async (address: string) => {
      const [f] = await db.select({ id: folders.id, uidNext: folders.uidNext, highestModseq: folders.highestModseq }).from(folders).innerJoin(mailboxes, eq(mailboxes.id, folders.mailboxId)).where(and(eq(mailboxes.address, address), eq(folders.role, 'requests')));
      return f;
    };
    const [bob0, dave0] = [await requestsOf('bob@b.test'), await requestsOf('dave@b.test')];
    const items = Array.from({ length: 12 }, (_, i) => input(`stranger${i}@a.test`, i % 3 ? 'bob@b.test' : 'dave@b.test'));
    const results = await batch(await Promise.all(items.map(sign)));
    assert.ok(results.every((r) => r.decision === 'hold'), JSON.stringify(results));
    for (const [address, before, n] of [['bob@b.test', bob0, 8], ['dave@b.test', dave0, 4]] as const) {
      const after = await requestsOf(address);
      assert.equal(after.uidNext, before.uidNext + n, address);
      assert.equal(after.highestModseq, before.highestModseq + n, address);
      const entries = await db.select({ uid: folderMessages.uid, modseq: folderMessages.modseq, subject: folderMessages.subject, inboundId: folderMessages.inboundId }).from(folderMessages).where(and(eq(folderMessages.folderId, after.id), inArray(folderMessages.uid, Array.from({ length: n }, (_, i) => before.uidNext + i)))).orderBy(asc(folderMessages.uid));
      assert.deepEqual(entries.map((e) => [e.uid, e.modseq]), Array.from({ length: n }, (_, i) => [before.uidNext + i, before.highestModseq + i + 1]), address);
      assert.ok(entries.every((e) => e.subject === 'hi' && e.inboundId), address);
      const changes = await db.select({ uid: folderChanges.uid, modseq: folderChanges.modseq, kind: folderChanges.kind }).from(folderChanges).where(and(eq(folderChanges.folderId, after.id), inArray(folderChanges.uid, entries.map((e) => e.uid)))).orderBy(asc(folderChanges.uid));
      assert.deepEqual(changes, entries.map((e) => ({ uid: e.uid, modseq: e.modseq, kind: 'added' })), address);
    }
  });

  it('stores a subject PostgreSQL cannot hold (NUL, a lone surrogate) with U+FFFD, and refuses a cap that is not ASCII or a URL with a NUL, one at a time and in a batch', async () => {
    // valid JSON strings in a signed notification, but neither a text column nor jsonb takes them as they are
    const hostile = (i: NotificationInput): NotificationInput => ({ ...i, msg: { ...i.msg, subject: 'a\u0000b\ud800c' } });
    const one = hostile(input('alice@a.test', 'bob@b.test'));
    const res = await node.api('/pm/v1/notify', { method: 'POST', headers: { 'content-type': 'application/jose' }, body: await sign(one) });
    assert.equal(res.status, 200, await res.clone().text());
    assert.deepEqual(await res.json(), { decision: 'fetch', reason: 'allowed' });
    const many = [hostile(input('alice@a.test', 'bob@b.test')), hostile(input('stranger@a.test', 'bob@b.test'))];
    const badCap = input('alice@a.test', 'bob@b.test');
    badCap.fetch.cap = 'cap\u0000\udfff';
    const badUrl = input('alice@a.test', 'bob@b.test');
    badUrl.fetch.url = badUrl.fetch.url.replace('/pm/v1/', '/pm/\u0000/../v1/');
    const results = await batch(await Promise.all([...many, badCap, badUrl].map(sign)));
    assert.deepEqual(results.slice(0, 2), [{ decision: 'fetch', reason: 'allowed' }, { decision: 'hold', reason: 'first_contact' }]);
    assert.deepEqual(results.slice(2).map((r) => r.error), ['bad_request', 'bad_request']);
    assert.equal(await rows(badCap.msg.id), 0);
    assert.equal(await rows(badUrl.msg.id), 0);
    for (const i of [one, ...many]) {
      const [row] = await node.server.ctx.db.select({ subject: inbound.subject }).from(inbound).where(and(eq(inbound.iss, 'a.test'), eq(inbound.remoteId, i.msg.id)));
      assert.equal(row.subject, 'a\ufffdb\ufffdc', i.msg.id);
      const [answer] = await node.server.ctx.db.select({ n: count() }).from(notifyLog).where(and(eq(notifyLog.iss, 'a.test'), eq(notifyLog.remoteId, i.msg.id)));
      assert.equal(Number(answer.n), 1);
    }
  });
});
