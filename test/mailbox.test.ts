// The mailbox side of the user API: raw and MIME sends arrive intact, attachments are listed,
// deleting works, and held requests expire (the sender then sees `expired`).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { expireRequests } from '../packages/server/src/queue/maintenance.ts';
import { startNodes, type TestNode } from './harness/node.ts';
import { waitFor } from './harness/wait.ts';

type Json = Record<string, any>;
const json = async (res: Response): Promise<Json> => JSON.parse(await res.text());

describe('mailbox API between two nodes', () => {
  let a: TestNode;
  let b: TestNode;
  let alice: string;
  let bob: string;
  let offsetMs = 0;
  const now = () => Date.now() + offsetMs;

  before(async () => {
    [a, b] = await startNodes([
      { domain: 'a.test', https: true, now, env: { PULLMAIL_HELD_RECHECK_SECONDS: '1' } },
      { domain: 'b.test', https: true, now },
    ]);
    alice = await a.addUser('alice@a.test');
    bob = await b.addUser('bob@b.test');
  });
  after(async () => {
    await a?.stop();
    await b?.stop();
  });

  const state = async (id: string) => (await json(await a.api(`/api/v1/messages/${id}`, { token: alice }))).deliveries.map((d: Json) => d.state).join(',');

  it('a held request expires after PULLMAIL_REQUEST_EXPIRY_DAYS and the sender sees it', async () => {
    const sent = await json(await a.api('/api/v1/messages', { method: 'POST', token: alice, json: { to: ['bob@b.test'], subject: 'ignored', text: 'x' } }));
    await waitFor('held', async () => (await state(sent.id)) === 'held');
    assert.equal(await expireRequests(b.server.ctx), 0, 'not yet');
    offsetMs += 15 * 86_400_000; // both nodes' clock: past the 14-day default
    assert.equal(await expireRequests(b.server.ctx), 1);
    assert.deepEqual((await json(await b.api('/api/v1/requests', { token: bob }))).requests, []);
    a.server.ctx.kick();
    await waitFor('sender sees rejected', async () => (await state(sent.id)) === 'rejected');
    assert.equal((await json(await a.api(`/api/v1/messages/${sent.id}`, { token: alice }))).deliveries[0].reason, 'expired');
    offsetMs = 0;
  });

  it('sends a raw message/rfc822 as given, with Message-ID and Date added and Bcc removed', async () => {
    await b.api('/api/v1/rules', { method: 'POST', token: bob, json: { action: 'allow', pattern: '@a.test' } });
    const raw = 'From: Alice <alice@a.test>\r\nTo: bob@b.test\r\nBcc: hidden@b.test\r\nSubject: raw one\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nGrüße aus dem Rohtext.\r\n';
    const res = await a.api('/api/v1/messages', { method: 'POST', token: alice, body: raw, headers: { 'content-type': 'message/rfc822' } });
    const sent = await json(res);
    assert.equal(res.status, 201, JSON.stringify(sent));
    assert.deepEqual(sent.deliveries.map((d: Json) => d.rcpt).sort(), ['bob@b.test', 'hidden@b.test']);
    await waitFor('fetched by bob', async () => (await state(sent.id)).includes('fetched'));
    const list = await json(await b.api('/api/v1/inbox', { token: bob }));
    const entry = list.messages.find((m: Json) => m.subject === 'raw one');
    const stored = Buffer.from(await (await b.api(`/api/v1/inbox/${entry.id}/raw`, { token: bob })).arrayBuffer()).toString('utf8');
    assert.match(stored, /^Message-ID: <[^>]+@a\.test>\r\n/m);
    assert.match(stored, /^Date: /m);
    assert.doesNotMatch(stored, /hidden@b\.test/, 'Bcc never travels in the bytes');
    assert.ok(stored.endsWith('Subject: raw one\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nGrüße aus dem Rohtext.\r\n'));
  });

  it('refuses a raw message from someone else or without headers', async () => {
    const forged = await a.api('/api/v1/messages', { method: 'POST', token: alice, body: 'From: mallory@a.test\r\nTo: bob@b.test\r\n\r\nhi\r\n', headers: { 'content-type': 'message/rfc822' } });
    assert.equal(forged.status, 403);
    const headless = await a.api('/api/v1/messages', { method: 'POST', token: alice, body: 'just text', headers: { 'content-type': 'message/rfc822' } });
    assert.equal(headless.status, 400);
    const injected = await a.api('/api/v1/messages', { method: 'POST', token: alice, json: { to: ['bob@b.test'], subject: 'x\r\nBcc: evil@c.test', text: 'x' } });
    assert.equal(injected.status, 400);
  });

  it('carries HTML and attachments; the parsed read lists them; delete removes the message', async () => {
    const pdf = Buffer.from('%PDF-1.4 fake but binary \x00\x01\x02').toString('base64');
    const res = await a.api('/api/v1/messages', {
      method: 'POST',
      token: alice,
      json: { to: ['bob@b.test'], subject: 'with files', text: 'plain part', html: '<p>html part</p>', attachments: [{ filename: 'report.pdf', contentType: 'application/pdf', content: pdf }] },
    });
    const sent = await json(res);
    await waitFor('fetched', async () => (await state(sent.id)) === 'fetched');
    const list = await json(await b.api('/api/v1/inbox', { token: bob }));
    const entry = list.messages.find((m: Json) => m.subject === 'with files');
    const parsed = await json(await b.api(`/api/v1/inbox/${entry.id}`, { token: bob }));
    assert.equal(parsed.text.trim(), 'plain part');
    assert.equal(parsed.html.trim(), '<p>html part</p>');
    assert.deepEqual(parsed.attachments, [{ filename: 'report.pdf', contentType: 'application/pdf', size: Buffer.from(pdf, 'base64').length }]);
    assert.ok(parsed.headers.some((h: Json) => h.name === 'subject' && h.value === 'with files'));
    const total = list.total;
    assert.equal((await b.api(`/api/v1/inbox/${entry.id}`, { method: 'DELETE', token: bob })).status, 204);
    assert.equal((await b.api(`/api/v1/inbox/${entry.id}`, { token: bob })).status, 404);
    assert.equal((await json(await b.api('/api/v1/inbox', { token: bob }))).total, total - 1);
  });

  it('a user never reaches another user\'s data on the same node', async () => {
    const amy = await a.addUser('amy@a.test');
    const sent = await json(await a.api('/api/v1/messages', { method: 'POST', token: alice, json: { to: ['bob@b.test'], subject: 'private', text: 'x' } }));
    assert.equal((await a.api(`/api/v1/messages/${sent.id}`, { token: amy })).status, 404);
    assert.equal((await a.api(`/api/v1/messages/${sent.id}/retract`, { method: 'POST', token: amy })).status, 404);
    assert.equal((await a.api(`/api/v1/messages/${sent.id}`, { method: 'PUT', token: amy, json: { to: ['bob@b.test'], subject: 'mine now', text: 'y' } })).status, 404);
    assert.deepEqual((await json(await a.api('/api/v1/sent', { token: amy }))).messages, []);
    const rule = await json(await a.api('/api/v1/rules', { method: 'POST', token: alice, json: { action: 'allow', pattern: '@b.test' } }));
    assert.equal((await a.api(`/api/v1/rules/${rule.id}`, { method: 'DELETE', token: amy })).status, 404);
    assert.equal((await json(await a.api('/api/v1/rules', { token: amy }))).rules.length, 0);
    const consent = await json(await a.api('/api/v1/consent-tokens', { method: 'POST', token: alice, json: { sender: '@b.test', max_uses: 1, expires_in_days: 1 } }));
    assert.equal((await a.api(`/api/v1/consent-tokens/${consent.id}`, { method: 'DELETE', token: amy })).status, 404);
    const [entry] = (await json(await b.api('/api/v1/inbox', { token: bob }))).messages;
    const carl = await b.addUser('carl@b.test');
    assert.equal((await b.api(`/api/v1/inbox/${entry.id}/raw`, { token: carl })).status, 404);
    assert.equal((await b.api(`/api/v1/inbox/${entry.id}`, { method: 'DELETE', token: carl })).status, 404);
    assert.equal((await b.api(`/api/v1/requests/${entry.id}/accept`, { method: 'POST', token: carl })).status, 404);
    // and without a token, or with a made-up one, nothing at all
    assert.equal((await a.api('/api/v1/sent')).status, 401);
    assert.equal((await a.api('/api/v1/sent', { token: 'pm_made-up' })).status, 401);
  });
});
