// Challenge/response interworking on the SMTP gateway (docs/cri.md) with clients nobody on the team
// wrote: swaks, and Python's smtplib where RCPT TO needs CRI parameters. One node (a.test) with its MX
// listener and Postfix's smtp-sink as relay for outgoing legacy mail; the clock can be moved.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { count, eq } from 'drizzle-orm';
import { dkimVerify } from 'mailauth';
import { createFakeResolver } from '../packages/server/src/peers/fake-resolver.ts';
import { dkimKey, dkimRecord } from '../packages/server/src/smtp/dkim.ts';
import { findDelivery } from '../packages/server/src/store/deliveries.ts';
import { challenges, criAnswers, inbound } from '../packages/server/src/store/schema.ts';
import { freePort, startNode, type TestNode } from './harness/node.ts';
import { rawSmtp, sinkMessage, requireSmtpTools, smtplib, startSmtpSink, swaks, type SmtpSink } from './harness/smtp-tools.ts';
import { drainOutbound, waitFor } from './harness/wait.ts';

type Json = Record<string, any>;
const QUESTION = 'What is the name of my cat?';

describe('SMTP gateway: challenge/response interworking (CRI)', () => {
  before(() => requireSmtpTools({ python: true }));
  let a: TestNode;
  let mx: number;
  let sink: SmtpSink;
  let skewMs = 0;
  const tokens: Record<string, string> = {};
  const dir = mkdtempSync(join(tmpdir(), 'pm-cri-'));
  const resolver = createFakeResolver({ txt: { 'spf.test': [['v=spf1 ip4:127.0.0.1 -all']] } });

  before(async () => {
    mx = await freePort();
    sink = await startSmtpSink();
    a = await startNode({
      domain: 'a.test',
      env: { PULLMAIL_SMTP_PORT: String(mx), PULLMAIL_GREYLIST_SECONDS: '0', PULLMAIL_SMTP_RELAY: `smtp://127.0.0.1:${sink.port}` },
      resolver,
      now: () => Date.now() + skewMs,
    });
    for (const user of ['alice', 'carol', 'dora', 'erin']) tokens[user] = await a.addUser(`${user}@a.test`);
    // alice, carol and erin challenge strangers with a question; dora chose challenge mode but set none
    for (const user of ['alice', 'carol', 'erin']) await settings(user, { first_contact: 'challenge', challenge_question: QUESTION, challenge_answer: 'Tiger' });
    await settings('dora', { first_contact: 'challenge' });
  });
  after(async () => {
    await a?.stop();
    await sink?.stop();
  });

  async function settings(user: string, body: Json) {
    const res = await a.api('/api/v1/settings', { method: 'PUT', token: tokens[user], json: body });
    assert.equal(res.status, 200, await res.text());
  }
  const json = async (res: Response): Promise<Json> => res.json() as Promise<Json>;
  const inbox = async (user: string) => (await json(await a.api('/api/v1/inbox', { token: tokens[user] }))).messages as Json[];
  const requests = async (user: string) => (await json(await a.api('/api/v1/requests', { token: tokens[user] }))).requests as Json[];
  const db = () => a.server.ctx.db;
  const challengeRows = async (sender: string) => Number((await db().select({ n: count() }).from(challenges).where(eq(challenges.sender, sender)))[0].n);
  const storedCount = async () => Number((await db().select({ n: count() }).from(inbound))[0].n);
  const captured = (rcpt: string) => sink.messages().filter((m) => m.includes(`X-Rcpt-Args: <${rcpt}>`));
  const last = (r: { replies: string[] }) => r.replies.filter((x) => !x.startsWith('221')).at(-1) ?? '';
  const rcptReply = (r: { replies: string[] }) => r.replies[3] ?? '';
  const message = (from: string, to: string, subject: string, extra = '') =>
    `From: ${from}\r\nTo: ${to}\r\nSubject: ${subject}\r\nMessage-ID: <${subject.replace(/\W/g, '')}@far.test>\r\n${extra}\r\nHello.\r\n`;
  /** A DATA file for `swaks --no-data-fixup`: sent byte for byte, final dot included. */
  function dataFile(name: string, text: string): string {
    const path = join(dir, name);
    writeFileSync(path, `${text}.`, 'latin1');
    return path;
  }
  const challengeUrl = (reply: string) => /retry with CRI token: (http:\/\/\S+\/challenge\/[A-Za-z0-9_-]+)$/.exec(reply)?.[1];
  const answerPage = async (url: string, answer: string) => {
    const path = new URL(url).pathname;
    // the form as a browser gets it, with its token (http/form-token.ts)
    const csrf = /name="csrf" value="([^"]+)"/.exec(await (await a.api(path)).text())?.[1] ?? '';
    const res = await a.api(path, { method: 'POST', body: new URLSearchParams({ csrf, answer }).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    return { status: res.status, html: await res.text() };
  };
  const withToken = (token: string) => ['CRI-TOKEN-TYPE=plain', `CRI-TOKEN=${token}`];

  describe('the ESMTP CRI extension at RCPT TO', () => {
    let firstUrl: string;
    let pageToken: string;

    it('advertises CRI with its verification level in the EHLO reply', async () => {
      const [, ehlo] = await rawSmtp(mx, ['EHLO client.test\r\n', 'QUIT\r\n']);
      assert.match(ehlo, /^250[- ]CRI HUMAN$/m, ehlo);
      const session = await smtplib(mx, { from: 'x@far.test', rcpts: [] });
      assert.match(session.ehlo[1], /^CRI HUMAN$/m);
    });

    it('answers an unknown sender to a user in challenge mode with 452 and the URL of the challenge page, the same URL each time', async () => {
      const before = await storedCount();
      const r = await swaks(mx, ['--from', 'stranger@far.test', '--to', 'carol@a.test', '--header', 'Subject: first try', '--body', 'hi']);
      assert.match(rcptReply(r), /^452 4\.7\.1 Unverified sender, issuing challenge, retry with CRI token: /, r.out);
      firstUrl = challengeUrl(rcptReply(r))!;
      assert.ok(firstUrl?.startsWith(`${a.url}/challenge/`), rcptReply(r));
      const again = await swaks(mx, ['--from', 'stranger@far.test', '--to', 'carol@a.test', '--header', 'Subject: second try', '--body', 'hi']);
      assert.equal(challengeUrl(rcptReply(again)), firstUrl, 'one page per sender and user');
      assert.equal(await storedCount(), before, 'nothing is stored for a challenged sender');
      const page = await a.api(new URL(firstUrl).pathname);
      assert.equal(page.status, 200);
      const html = await page.text();
      assert.ok(html.includes('What is the name of my cat?') && html.includes('stranger@far.test'));
    });

    it('hands out a CRI token for the right answer, and a retry with CRI-TOKEN is accepted into the inbox', async () => {
      assert.equal((await answerPage(firstUrl, 'Mouse')).status, 403);
      const right = await answerPage(firstUrl, ' tiger ');
      assert.equal(right.status, 200);
      pageToken = /<pre id="cri-token">(crt_[A-Za-z0-9_-]+)<\/pre>/.exec(right.html)?.[1] ?? '';
      assert.match(pageToken, /^crt_[A-Za-z0-9_-]{43}$/, right.html);
      assert.equal((await answerPage(firstUrl, 'tiger')).html.includes(pageToken), false, 'the token is shown once');

      const retry = await smtplib(mx, { from: 'stranger@far.test', rcpts: [{ to: 'carol@a.test', options: withToken(pageToken) }], data: message('stranger@far.test', 'carol@a.test', 'with token') });
      assert.equal(retry.rcpt[0][0], 250, retry.rcpt[0][1]);
      assert.equal(retry.data?.[0], 250, retry.data?.[1]);
      // far.test publishes no SPF: the token, not the sender address, is what let it in
      assert.ok((await inbox('carol')).some((m) => m.subject === 'with token' && m.via === 'smtp'));
      const plain = await swaks(mx, ['--from', 'stranger@far.test', '--to', 'carol@a.test', '--header', 'Subject: without token', '--body', 'hi']);
      assert.match(last(plain), /^250 /, plain.out);
      assert.ok((await requests('carol')).some((q) => q.subject === 'without token'), 'answering allowed the address, but unproven it is held');
    });

    it('refuses forged and misused tokens and malformed parameters clearly, and the session carries on', async () => {
      const forged = `crt_${'A'.repeat(43)}`;
      const s = await smtplib(mx, {
        from: 'stranger@far.test',
        rcpts: [
          { to: 'carol@a.test', options: withToken(forged) },
          { to: 'alice@a.test', options: withToken(pageToken) }, // carol's token, not alice's
          { to: 'carol@a.test', options: withToken('not!a!token') },
          { to: 'carol@a.test', options: withToken('eyJhbGciOiJFZERTQSJ9.e30.c2ln') }, // JWS-shaped, unsigned by us
          { to: 'carol@a.test', options: ['FOO=bar'] },
          { to: 'carol@a.test', options: ['CRI-TOKEN-TYPE=hashcash', 'CRI-TOKEN=1:20:x'] },
          { to: 'carol@a.test', options: [`CRI-TOKEN=${pageToken}`] },
          { to: 'carol@a.test', options: ['CRI-TOKEN-TYPE=plain'] },
          // the draft's own example syntax, with trailing semicolons
          { to: 'carol@a.test', options: ['CRI-TOKEN-TYPE=plain;', `CRI-TOKEN=${pageToken};`] },
        ],
        data: message('stranger@far.test', 'carol@a.test', 'after the refusals'),
      });
      assert.deepEqual(s.rcpt.map(([code, text]) => `${code} ${text.split(' ').slice(0, 2).join(' ')}`), [
        '550 5.7.1 CRI', '550 5.7.1 CRI', '501 5.5.4 CRI-TOKEN', '550 5.7.1 CRI', '555 5.5.4 Unsupported', '555 5.5.4 CRI-TOKEN-TYPE', '501 5.5.4 CRI-TOKEN', '501 5.5.4 CRI-TOKEN-TYPE=plain', '250 Accepted',
      ]);
      assert.equal(s.data?.[0], 250, 'the last, good RCPT goes through in the same session');
      const other = await smtplib(mx, { from: 'someone-else@far.test', rcpts: [{ to: 'carol@a.test', options: withToken(pageToken) }] });
      assert.match(other.rcpt[0].join(' '), /^550 5\.7\.1 CRI token not valid for this sender and recipient/, 'a token belongs to the sender who answered');
    });

    it('accepts a consent token the user issued the same way, and counts its uses', async () => {
      const res = await a.api('/api/v1/consent-tokens', { method: 'POST', token: tokens.carol, json: { sender: '@shop.test', max_uses: 1, expires_in_days: 30 } });
      assert.equal(res.status, 201);
      const { token, id } = await json(res);
      const wrongSender = await smtplib(mx, { from: 'spam@elsewhere.test', rcpts: [{ to: 'carol@a.test', options: withToken(token) }] });
      assert.equal(wrongSender.rcpt[0][0], 550);
      const first = await smtplib(mx, { from: 'orders@shop.test', rcpts: [{ to: 'carol@a.test', options: withToken(token) }], data: message('orders@shop.test', 'carol@a.test', 'your order') });
      assert.deepEqual([first.rcpt[0][0], first.data?.[0]], [250, 250], JSON.stringify(first));
      assert.ok((await inbox('carol')).some((m) => m.subject === 'your order'));
      const listed = (await json(await a.api('/api/v1/consent-tokens', { token: tokens.carol }))).tokens.find((t: Json) => t.id === id);
      assert.equal(listed.uses, 1, 'the use was spent when the message was stored');
      const second = await smtplib(mx, { from: 'orders@shop.test', rcpts: [{ to: 'carol@a.test', options: withToken(token) }] });
      assert.match(second.rcpt[0].join(' '), /^550 5\.7\.1 /, 'used up');
    });

    it('holds SMTP mail as before for a user in challenge mode who set no question (no 452 without a page)', async () => {
      const r = await swaks(mx, ['--from', 'stranger@far.test', '--to', 'dora@a.test', '--header', 'Subject: for dora', '--body', 'hi']);
      assert.match(rcptReply(r), /^250 /, r.out);
      assert.ok((await requests('dora')).some((q) => q.subject === 'for dora'));
    });

    it('never challenges mail from a list: its envelope sender reaches DATA and the ordinary policy holds it', async () => {
      const list = 'List-Id: <announce.lists.test>\r\nPrecedence: list\r\n';
      const r = await swaks(mx, ['--from', 'announce-bounces+carol=a.test@lists.test', '--to', 'carol@a.test', '--data', dataFile('list.eml', message('announce@lists.test', 'carol@a.test', 'list news', list)), '--no-data-fixup']);
      assert.match(rcptReply(r), /^250 /, r.out);
      assert.match(last(r), /^250 2\.0\.0 Ok: stored/, r.out);
      assert.ok((await requests('carol')).some((q) => q.subject === 'list news'));
      assert.equal(await challengeRows('announce-bounces+carol=a.test@lists.test'), 0);
    });

    it('refuses a token once the allow window is over, issuing a new challenge', async () => {
      skewMs += 30 * 86_400_000 + 60_000;
      const r = await smtplib(mx, { from: 'stranger@far.test', rcpts: [{ to: 'carol@a.test', options: withToken(pageToken) }] });
      assert.equal(r.rcpt[0][0], 452, r.rcpt[0][1]);
      assert.match(r.rcpt[0][1], /^4\.7\.1 CRI token expired, issuing challenge, retry with CRI token: http/);
      assert.notEqual(challengeUrl(r.rcpt[0][1]), firstUrl, 'a new page: the old one was answered');
    });
  });

  describe('CRI challenges to our users', () => {
    let sentId: string;
    let sentMessageId: string;

    /** A challenge in the shape of the draft's §3.4.1 example. */
    const challenge = (o: { to: string; about: string; criRecipient?: string; token?: string; extra?: string; level?: number }) =>
      [
        'From: C/R robot <cri@cr.test>',
        `To: ${o.to}`,
        'Subject: Please confirm your message',
        `Message-ID: <ch-${Math.random().toString(36).slice(2)}@cr.test>`,
        `In-Reply-To: ${o.about}`,
        'CRI-Recipient-Accept-Token: plain',
        'CRI-Recipient-Agent: CRI Tester 0.1',
        ...(o.extra ? [o.extra] : []),
        'Content-Type: multipart/cri; boundary="opopo54545/cr.test"',
        '',
        '--opopo54545/cr.test',
        '',
        'This is a challenge message. To verify, please go here: https://cr.test/verify/',
        '',
        '--opopo54545/cr.test',
        'Content-Type: message/cri',
        `CRI-Sender: ${o.to}`,
        `CRI-Recipient: ${o.criRecipient ?? 'zed@cr.test'}`,
        `CRI-Verification-Level: ${o.level ?? 1}`,
        'CRI-Message-Type: challenge',
        'CRI-Token-Type: plain',
        `CRI-Token: ${o.token ?? 'this is a challenge token'}`,
        '',
        '--opopo54545/cr.test--',
        '',
      ].join('\r\n');
    const sendChallenge = (name: string, from: string, to: string, text: string) => swaks(mx, ['--from', from, '--to', to, '--data', dataFile(name, text), '--no-data-fixup']);
    const responses = () => captured('cri@cr.test');
    const answeredRows = async () => Number((await db().select({ n: count() }).from(criAnswers))[0].n);
    /** Drains the outbound queue, so a response that was (wrongly) queued has reached the relay. */
    const settle = () => drainOutbound(a.server.ctx);

    before(async () => {
      const res = await a.api('/api/v1/messages', { method: 'POST', token: tokens.alice, json: { to: ['zed@cr.test'], subject: 'Hello Zed', text: 'Shall we meet?' } });
      assert.equal(res.status, 201);
      sentId = (await json(res)).id;
      await waitFor('handed to the relay', async () => (await findDelivery(db(), sentId, 'zed@cr.test'))?.state === 'fetched');
      sentMessageId = /^Message-ID: (<[^>]+>)/im.exec(sinkMessage(captured('zed@cr.test')[0]).toString('latin1'))![1];
    });

    it('sends legacy mail with the CRI fields of an initial message, covered by the DKIM signature', async () => {
      const raw = sinkMessage(captured('zed@cr.test')[0]);
      const text = raw.toString('latin1');
      assert.match(text, /^CRI-Message-Type: informational\r$/m);
      assert.match(text, /^CRI-Sender-Accept-Token: plain\r$/m);
      assert.match(text, /^CRI-Sender-Agent: pullmail\/\d+\.\d+\.\d+\r$/m);
      const record = dkimRecord(await dkimKey(db(), 'a.test', new Date()));
      const dns = createFakeResolver({ txt: { [record.name]: [[record.value]] } });
      const verified = await dkimVerify(raw, { resolver: async (name: string, type: string) => dns.resolve(name, type) as never });
      assert.equal(verified.results[0].status.result, 'pass');
      const signed = /\bh=([^;]+)/.exec(verified.results[0].signingHeaders?.keys ? `h=${verified.results[0].signingHeaders.keys}` : text)![1].toLowerCase().replace(/\s+/g, '');
      for (const f of ['cri-message-type', 'cri-sender-accept-token', 'cri-sender-agent']) assert.ok(signed.split(':').includes(f), `${f} is signed: ${signed}`);
    });

    it('answers no challenge about a message alice never sent, nor one sent to someone else, nor one sent by somebody else', async () => {
      const before = { stored: await storedCount(), answered: await answeredRows(), responses: responses().length };
      // (carol never wrote to cr.test, so cri@cr.test would get a 452 at RCPT: that one comes from the null sender)
      const cases: [string, string, string, string][] = [
        ['forged Message-ID', 'cri@cr.test', 'alice@a.test', challenge({ to: 'alice@a.test', about: '<never-sent@a.test>' })],
        // PostgreSQL text cannot hold a NUL: no message of ours has such an id
        ['a Message-ID with a NUL', 'cri@cr.test', 'alice@a.test', challenge({ to: 'alice@a.test', about: '<never\0sent@a.test>' })],
        ['real message, other recipient', 'cri@cr.test', 'alice@a.test', challenge({ to: 'alice@a.test', about: sentMessageId, criRecipient: 'victim@cr.test' })],
        ['real message, not carol\'s', '<>', 'carol@a.test', challenge({ to: 'carol@a.test', about: sentMessageId })],
      ];
      for (const [name, from, to, text] of cases) {
        const r = await sendChallenge(`forged-${to}.eml`, from, to, text);
        assert.match(last(r), /^250 2\.0\.0 Ok: CRI challenge handled/, `${name}: ${r.out}`);
      }
      await settle();
      // (nothing was answered yet, so none of these could have been taken for a repeat)
      assert.equal(responses().length, before.responses, 'no response left');
      assert.equal(await answeredRows(), before.answered);
      assert.equal(await storedCount(), before.stored, 'dropped: stored nowhere');
    });

    it('answers a challenge about a message alice really sent exactly once, to the challenger, and stores nothing', async () => {
      const before = await storedCount();
      const text = challenge({ to: 'alice@a.test', about: sentMessageId });
      const first = await sendChallenge('ch1.eml', 'cri@cr.test', 'alice@a.test', text);
      // no 452 for the C/R system of a domain alice wrote to: its challenges must reach DATA
      assert.match(rcptReply(first), /^250 /, first.out);
      assert.match(last(first), /^250 2\.0\.0 Ok: CRI challenge handled/, first.out);
      const again = await sendChallenge('ch1b.eml', 'cri@cr.test', 'alice@a.test', text);
      assert.match(last(again), /^250 /, again.out);
      await waitFor('the response at the relay', async () => responses().length > 0);
      await settle();
      assert.equal(responses().length, 1, 'exactly one response');
      assert.equal(await answeredRows(), 1);

      const raw = sinkMessage(responses()[0]);
      const response = raw.toString('latin1');
      assert.match(response, /^DKIM-Signature: /);
      assert.match(response, /^From: alice@a\.test\r$/m);
      assert.match(response, /^To: cri@cr\.test\r$/m);
      assert.match(response, /^Auto-Submitted: auto-replied\r$/m);
      assert.match(response, /^CRI-Message-Type: response\r$/m);
      assert.doesNotMatch(response, /CRI-Message-Type: informational/, 'a response is no initial message');
      assert.match(response, /\r\nContent-Type: message\/cri\r\nCRI-Sender: alice@a\.test\r\nCRI-Recipient: zed@cr\.test\r\nCRI-Verification-Level: 1\r\nCRI-Message-Type: response\r\nCRI-Token-Type: plain\r\nCRI-Token: this is a challenge token\r\n/);
      assert.equal(await storedCount(), before, 'the challenge is not put before alice');
      assert.equal(await challengeRows('cri@cr.test'), 0, 'and the challenger was never challenged');
      const sent = (await json(await a.api('/api/v1/sent', { token: tokens.alice }))).messages as Json[];
      assert.ok(sent.some((m) => m.subject === 'Re: Please confirm your message'), 'alice can see what her server answered');
    });

    it('never challenges nor answers a challenge that is itself automatic mail or comes from the null sender', async () => {
      const before = { answered: await answeredRows(), responses: responses().length };
      // the null sender is never issued a 452; this challenge is about nothing erin sent: dropped
      const bounce = await sendChallenge('null.eml', '<>', 'erin@a.test', challenge({ to: 'erin@a.test', about: '<whatever@a.test>' }));
      assert.match(rcptReply(bounce), /^250 /, bounce.out);
      assert.match(last(bounce), /^250 /, bounce.out);
      // about alice's real message but marked automatic and sent from a list: left to the ordinary policy
      const auto = challenge({ to: 'alice@a.test', about: sentMessageId, token: 'second token', extra: 'Auto-Submitted: auto-replied\r\nList-Id: <cr.lists.test>' });
      const r = await sendChallenge('auto.eml', 'cri@cr.test', 'alice@a.test', auto);
      assert.match(last(r), /^250 2\.0\.0 Ok: stored/, r.out);
      assert.ok((await requests('alice')).some((q) => q.subject === 'Please confirm your message'), 'held for alice to read');
      // a CRI response from a stranger's null sender is no challenge either: held, never answered
      const resp = await sendChallenge('resp.eml', '<>', 'erin@a.test', 'From: someone@far.test\r\nSubject: a response\r\nCRI-Message-Type: response\r\nCRI-Token: t\r\n\r\nhere\r\n');
      assert.match(last(resp), /^250 2\.0\.0 Ok: stored/, resp.out);
      assert.ok((await requests('erin')).some((q) => q.subject === 'a response'));
      await settle();
      assert.equal(responses().length, before.responses);
      assert.equal(await answeredRows(), before.answered);
      assert.equal(await challengeRows(''), 0);
      assert.equal(await challengeRows('cri@cr.test'), 0);
    });

    it('leaves a human-level challenge (level 3) to alice instead of answering it', async () => {
      await db().delete(criAnswers);
      const before = responses().length;
      const r = await sendChallenge('human.eml', 'cri@cr.test', 'alice@a.test', challenge({ to: 'alice@a.test', about: sentMessageId, level: 3 }));
      assert.match(last(r), /^250 2\.0\.0 Ok: stored/, r.out);
      await settle();
      assert.equal(responses().length, before);
    });
  });
});
