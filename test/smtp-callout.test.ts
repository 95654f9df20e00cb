// Sender callout verification (docs/cri.md) against a scripted SMTP server on loopback acting as the
// MX of the sender's domain (PULLMAIL_CALLOUT_PORT points the probe at it; the fake resolver's MX
// records point at 127.0.0.1). swaks is the sending client; nothing reaches a real server.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createFakeResolver } from '../packages/server/src/peers/fake-resolver.ts';
import { freePort, startNode, type TestNode } from './harness/node.ts';
import { startScriptedSmtpPeer, type ScriptedSmtpPeer } from './harness/smtp-peer.ts';
import { requireSmtpTools, swaks } from './harness/smtp-tools.ts';

type Json = Record<string, any>;

describe('SMTP gateway: sender callout', () => {
  before(() => requireSmtpTools());
  let b: TestNode;
  let port: number;
  let peer: ScriptedSmtpPeer;
  let dave: string;
  const resolver = createFakeResolver({
    mx: {
      'callout.test': [{ exchange: '127.0.0.1', priority: 10 }],
      // nothing listens on 127.0.0.2: the check is impossible
      'dead.test': [{ exchange: '127.0.0.2', priority: 10 }],
    },
  });

  before(async () => {
    peer = await startScriptedSmtpPeer(['real@callout.test']);
    port = await freePort();
    b = await startNode({
      domain: 'b.test',
      env: { PULLMAIL_SMTP_PORT: String(port), PULLMAIL_GREYLIST_SECONDS: '0', PULLMAIL_SENDER_CALLOUT: '1', PULLMAIL_CALLOUT_PORT: String(peer.port) },
      resolver,
    });
    dave = await b.addUser('dave@b.test');
    const res = await b.api('/api/v1/rules', { method: 'POST', token: dave, json: { action: 'allow', pattern: 'friend@callout.test' } });
    assert.equal(res.status, 201);
  });
  after(async () => {
    await b?.stop();
    await peer?.close();
  });

  const send = (from: string, subject: string) => swaks(port, ['--from', from, '--to', 'dave@b.test', '--header', `Subject: ${subject}`, '--body', 'hello']);
  const rcptReply = (r: { replies: string[] }) => r.replies[3] ?? '';
  const requests = async () => ((await (await b.api('/api/v1/requests', { token: dave })).json()) as Json).requests as Json[];

  it('lets an address its own MX accepts through; the probe is EHLO, MAIL FROM:<>, RCPT, RSET, QUIT and never DATA', async () => {
    const r = await send('real@callout.test', 'probed and fine');
    assert.match(rcptReply(r), /^250 /, r.out);
    assert.ok(r.replies.some((x) => /^250 2\.0\.0 Ok: stored/.test(x)), r.out);
    assert.ok((await requests()).some((q) => q.subject === 'probed and fine'), 'then the ordinary policy: held for dave');
    assert.equal(peer.sessions.length, 1);
    assert.deepEqual(peer.sessions[0], ['EHLO [127.0.0.1]', 'MAIL FROM:<>', 'RCPT TO:<real@callout.test>', 'RSET', 'QUIT']);
  });

  it('defers an address its own MX refuses with 451 4.7.1, never a permanent refusal, and still ends the probe politely', async () => {
    const r = await send('ghost@callout.test', 'never stored');
    assert.match(rcptReply(r), /^451 4\.7\.1 Sender address <ghost@callout\.test> is refused by its own domain's mail server/, r.out);
    assert.ok(!r.replies.some((x) => /^5\d\d /.test(x)), r.out);
    assert.equal(peer.sessions.length, 2);
    assert.deepEqual(peer.sessions[1], ['EHLO [127.0.0.1]', 'MAIL FROM:<>', 'RCPT TO:<ghost@callout.test>', 'RSET', 'QUIT']);
    assert.equal((await requests()).some((q) => q.subject === 'never stored'), false);
  });

  it('answers the second check of each address from the cache, with the same reply', async () => {
    const again = await send('real@callout.test', 'probed once');
    assert.match(rcptReply(again), /^250 /, again.out);
    const ghost = await send('ghost@callout.test', 'still never stored');
    assert.match(rcptReply(ghost), /^451 4\.7\.1 /, ghost.out);
    assert.equal(peer.sessions.length, 2, 'no new probe');
    const metrics = await (await b.api('/metrics')).text();
    assert.match(metrics, /pullmail_sender_callouts_total\{verdict="exists",cached="true"\} 1/);
    assert.match(metrics, /pullmail_sender_callouts_total\{verdict="refused",cached="true"\} 1/);
  });

  it('defers with 451 4.7.0 when the check is impossible: MX unreachable, or no such domain', async () => {
    const dead = await send('someone@dead.test', 'unreachable');
    assert.match(rcptReply(dead), /^451 4\.7\.0 Sender address could not be verified now/, dead.out);
    const nowhere = await send('someone@nowhere.test', 'no domain');
    assert.match(rcptReply(nowhere), /^451 4\.7\.0 /, nowhere.out);
  });

  it('never probes for allowed senders or the null sender', async () => {
    const before = peer.sessions.length;
    const friend = await send('friend@callout.test', 'from a friend');
    assert.match(rcptReply(friend), /^250 /, friend.out);
    const bounce = await swaks(port, ['--from', '<>', '--to', 'dave@b.test', '--header', 'Subject: a bounce', '--body', 'x']);
    assert.match(rcptReply(bounce), /^250 /, bounce.out);
    assert.equal(peer.sessions.length, before);
  });
});
