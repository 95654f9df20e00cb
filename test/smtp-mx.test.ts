// The MX listener against a real SMTP client nobody on the team wrote (swaks): delivery into a
// mailbox, held requests, every in-session refusal, greylisting with an injected clock, and SMTP
// smuggling attempts. DNS (SPF/DMARC) comes from the fake resolver; nothing reaches a real server.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { count } from 'drizzle-orm';
import { findRcpt } from '../packages/server/src/delivery/recipient-policy.ts';
import { createFakeResolver } from '../packages/server/src/peers/fake-resolver.ts';
import { storeAccepted } from '../packages/server/src/smtp/accept-inbound.ts';
import { addCorrespondents } from '../packages/server/src/store/policy-data.ts';
import { inbound } from '../packages/server/src/store/schema.ts';
import { freePort, startNode, type TestNode } from './harness/node.ts';
import { rawSmtp, requireSmtpTools, swaks } from './harness/smtp-tools.ts';
import { waitFor } from './harness/wait.ts';

type Json = Record<string, any>;
const MAX_BYTES = 20_000;

describe('SMTP gateway: MX listener', () => {
  before(() => requireSmtpTools());
  let b: TestNode;
  let port: number;
  let bob: string;
  let carol: string;
  let skewMs = 0;
  const dir = mkdtempSync(join(tmpdir(), 'pm-mx-'));
  const resolver = createFakeResolver({
    txt: {
      // SPF: legacy.test sends from this machine; spoof.test and strict.test send from nowhere
      'legacy.test': [['v=spf1 ip4:127.0.0.1 -all']],
      'spoof.test': [['v=spf1 -all']],
      'strict.test': [['v=spf1 -all']],
      '_dmarc.strict.test': [['v=DMARC1; p=reject']],
    },
  });

  before(async () => {
    port = await freePort();
    b = await startNode({
      domain: 'b.test',
      env: { PULLMAIL_SMTP_PORT: String(port), PULLMAIL_GREYLIST_SECONDS: '300', PULLMAIL_MAX_MESSAGE_BYTES: String(MAX_BYTES) },
      resolver,
      now: () => Date.now() + skewMs,
    });
    bob = await b.addUser('bob@b.test');
    carol = await b.addUser('carol@b.test');
    for (const pattern of ['alice@legacy.test', 'eve@spoof.test', '@strict.test']) {
      const res = await b.api('/api/v1/rules', { method: 'POST', token: bob, json: { action: 'allow', pattern } });
      assert.equal(res.status, 201);
    }
  });
  after(async () => {
    await b?.stop();
  });

  const json = async (res: Response): Promise<Json> => res.json() as Promise<Json>;
  const inbox = async (token: string) => json(await b.api('/api/v1/inbox', { token }));
  const requests = async (token: string) => (await json(await b.api('/api/v1/requests', { token }))).requests as Json[];
  const rawOf = async (token: string, id: string) => Buffer.from(await (await b.api(`/api/v1/inbox/${id}/raw`, { token })).arrayBuffer());
  const stored = async () => Number((await b.server.ctx.db.select({ n: count() }).from(inbound))[0].n);
  /** A DATA file for `swaks --no-data-fixup`: sent byte for byte, final dot included (swaks adds the last CRLF). */
  function dataFile(name: string, message: string): string {
    const path = join(dir, name);
    writeFileSync(path, `${message}.`, 'latin1');
    return path;
  }
  const message = (from: string, to: string, subject: string, body = 'Hello from the old world.\r\n') =>
    `From: ${from}\r\nTo: ${to}\r\nSubject: ${subject}\r\nMessage-ID: <${subject.replace(/\W/g, '')}@legacy.test>\r\n\r\n${body}`;
  const send = (from: string, to: string, data: string, extra: string[] = []) =>
    swaks(port, ['--from', from, '--to', to, '--data', data, '--no-data-fixup', ...extra]);
  const last = (r: { replies: string[] }) => r.replies.filter((x) => !x.startsWith('221')).at(-1) ?? '';

  it('delivers a known, SPF-verified sender into the inbox with trace and Authentication-Results on top of the exact bytes', async () => {
    const msg = message('Alice <alice@legacy.test>', 'bob@b.test', 'Hello Bob');
    const r = await send('alice@legacy.test', 'bob@b.test', dataFile('hello.eml', msg));
    assert.match(last(r), /^250 2\.0\.0 /, r.out);
    const list = await inbox(bob);
    const entry = list.messages.find((m: Json) => m.subject === 'Hello Bob');
    assert.ok(entry, 'in bob\'s inbox');
    assert.equal(entry.via, 'smtp');
    assert.equal(entry.from, 'alice@legacy.test');
    const raw = (await rawOf(bob, entry.id)).toString('latin1');
    assert.ok(raw.endsWith(msg), 'the received bytes follow our fields unchanged');
    const top = raw.slice(0, raw.length - msg.length);
    assert.match(top, /^Return-Path: <alice@legacy\.test>\r\nReceived: from [^\r\n]+\r\n\tby [^\r\n]+ \(pullmail\) with E?SMTP/);
    assert.match(top, /Authentication-Results: [^;]+;[\s\S]*spf=pass/);
    assert.equal(entry.size, raw.length);
  });

  it('holds mail from an allowed address whose domain does not verify it, and accepting moves the bytes to the inbox', async () => {
    const msg = message('eve@spoof.test', 'bob@b.test', 'Trust me');
    const r = await send('eve@spoof.test', 'bob@b.test', dataFile('spoof.eml', msg));
    assert.match(last(r), /^250 /, r.out);
    assert.equal((await inbox(bob)).messages.some((m: Json) => m.subject === 'Trust me'), false, 'a forged allowed sender is not let in');
    const req = (await requests(bob)).find((q) => q.subject === 'Trust me');
    assert.ok(req, 'held as a request');
    assert.equal(req.via, 'smtp');
    assert.equal((await b.api(`/api/v1/requests/${req.id}/accept`, { method: 'POST', token: bob })).status, 200);
    const entry = await waitFor('accepted into the inbox', async () => (await inbox(bob)).messages.find((m: Json) => m.subject === 'Trust me'));
    assert.ok((await rawOf(bob, entry.id)).toString('latin1').endsWith(msg));
  });

  it('refuses unknown users, relaying, oversize and DMARC p=reject inside the session, storing nothing', async () => {
    const before = await stored();
    const unknown = await send('alice@legacy.test', 'nobody@b.test', dataFile('u.eml', message('alice@legacy.test', 'nobody@b.test', 'u')));
    assert.ok(unknown.replies.includes('550 5.1.1 No such user here'), unknown.out);
    const relay = await send('alice@legacy.test', 'someone@elsewhere.test', dataFile('r.eml', message('alice@legacy.test', 'someone@elsewhere.test', 'r')));
    assert.ok(relay.replies.some((x) => /^550 5\.7\.1 Relaying denied/.test(x)), relay.out);
    const big = message('alice@legacy.test', 'bob@b.test', 'big', `${'x'.repeat(76)}\r\n`.repeat(400));
    const oversize = await send('alice@legacy.test', 'bob@b.test', dataFile('big.eml', big));
    assert.match(last(oversize), /^552 5\.3\.4 /, oversize.out);
    // SIZE= announced in MAIL FROM is refused before any data (smtp-server's own check)
    const announced = await rawSmtp(port, ['EHLO client.test\r\n', `MAIL FROM:<alice@legacy.test> SIZE=${MAX_BYTES + 1}\r\n`, 'QUIT\r\n']);
    assert.match(announced[2], /^552 /);
    const dmarc = await send('mallory@strict.test', 'bob@b.test', dataFile('d.eml', message('mallory@strict.test', 'bob@b.test', 'phish')));
    assert.match(last(dmarc), /^550 5\.7\.1 .*DMARC.*strict\.test/, dmarc.out);
    assert.equal(await stored(), before, 'nothing stored');
    // every reply our handlers gave is counted by code
    const metrics = await (await b.api('/metrics')).text();
    const counted = (code: number) => Number(new RegExp(`pullmail_smtp_replies_total\\{listener="mx",code="${code}"\\} (\\d+)`).exec(metrics)?.[1] ?? 0);
    assert.ok(counted(550) >= 3, `550s counted (unknown user, relay, DMARC):\n${metrics}`);
    assert.ok(counted(552) >= 1, '552 counted');
    assert.ok(counted(250) >= 4, '250s counted (MAIL FROM)');
  });

  it('greylists an unknown sender: 451 4.7.1 until the delay has passed, then accepts and remembers', async () => {
    const data = dataFile('grey.eml', message('dave@other.test', 'carol@b.test', 'grey'));
    const first = await send('dave@other.test', 'carol@b.test', data);
    assert.ok(first.replies.some((x) => /^451 4\.7\.1 Greylisted/.test(x)), first.out);
    const early = await send('dave@other.test', 'carol@b.test', data);
    assert.ok(early.replies.some((x) => /^451 4\.7\.1 /.test(x)), 'a retry before the delay is still deferred');
    skewMs += 301_000;
    const retry = await send('dave@other.test', 'carol@b.test', data);
    assert.match(last(retry), /^250 /, retry.out);
    const again = await send('dave@other.test', 'carol@b.test', dataFile('grey2.eml', message('dave@other.test', 'carol@b.test', 'grey again')));
    assert.match(last(again), /^250 /, 'the triplet is remembered');
    // a stranger for carol (first_contact hold) becomes a request, not inbox mail
    assert.deepEqual((await requests(carol)).map((q) => q.subject).sort(), ['grey', 'grey again']);
    assert.equal((await inbox(carol)).total, 0);
  });

  it('refuses SMTP smuggling sequences (\\n.\\n, \\r.\\r, \\n.\\r\\n) and never runs the smuggled commands', async () => {
    const before = await stored();
    const smuggled = 'MAIL FROM:<alice@legacy.test>\r\nRCPT TO:<bob@b.test>\r\nDATA\r\nSubject: smuggled\r\n\r\nowned\r\n';
    for (const [name, sep] of [['LF.LF', '\n.\n'], ['CR.CR', '\r.\r']]) {
      const data = dataFile(`smuggle-${name}.eml`, `${message('alice@legacy.test', 'bob@b.test', `carrier ${name}`, `hi${sep}${smuggled}`)}`);
      const r = await send('alice@legacy.test', 'bob@b.test', data);
      const afterData = r.replies.slice(r.replies.findIndex((x) => x.startsWith('354')) + 1);
      assert.match(afterData[0], /^554 5\.5\.2 /, `${name}: ${r.out}`);
      assert.deepEqual(afterData.slice(1), ['221 Bye'], `${name}: nothing answered the smuggled commands`);
    }
    // the same byte for byte on a raw socket, with a bare LF before the dot and CRLF after it
    const replies = await rawSmtp(port, [
      'EHLO client.test\r\n', 'MAIL FROM:<alice@legacy.test>\r\n', 'RCPT TO:<bob@b.test>\r\n', 'DATA\r\n',
      `Subject: carrier\r\n\r\nhi\n.\r\n${smuggled}.\r\n`, 'QUIT\r\n',
    ]);
    assert.match(replies[5], /^554 5\.5\.2 /);
    assert.deepEqual(replies.slice(6), ['221 Bye'], 'exactly one reply to the data, then the QUIT');
    assert.equal(await stored(), before, 'nothing stored');
    assert.equal((await inbox(bob)).messages.some((m: Json) => /smuggled|carrier/.test(m.subject)), false);
  });

  it('accepts a legitimate dot-stuffed line and stores it unstuffed', async () => {
    const replies = await rawSmtp(port, [
      'EHLO client.test\r\n', 'MAIL FROM:<alice@legacy.test>\r\n', 'RCPT TO:<bob@b.test>\r\n', 'DATA\r\n',
      'Subject: dots\r\n\r\nline one\r\n..\r\n...two\r\n.\r\n', 'QUIT\r\n',
    ]);
    assert.match(replies[5], /^250 /);
    const entry = (await inbox(bob)).messages.find((m: Json) => m.subject === 'dots');
    assert.ok((await rawOf(bob, entry.id)).toString('latin1').endsWith('Subject: dots\r\n\r\nline one\r\n.\r\n..two\r\n'));
  });

  it('refuses a looping message (more than 50 Received fields) in the session with 554 5.4.6, and stores nothing', async () => {
    const before = await stored();
    const hops = (n: number) => Array.from({ length: n }, (_, i) => `Received: from hop${i}.legacy.test by hop${i + 1}.legacy.test; Tue, 1 Dec 2026 10:00:00 +0000\r\n`).join('');
    const session = (n: number, subject: string) => rawSmtp(port, [
      'EHLO client.test\r\n', 'MAIL FROM:<alice@legacy.test>\r\n', 'RCPT TO:<bob@b.test>\r\n', 'DATA\r\n',
      `${hops(n)}From: alice@legacy.test\r\nTo: bob@b.test\r\nSubject: ${subject}\r\n\r\nround and round\r\n.\r\n`, 'QUIT\r\n',
    ]);
    const looping = await session(51, 'loop 51');
    assert.match(looping[5], /^554 5\.4\.6 /, looping.join(' | '));
    assert.equal(await stored(), before, 'nothing stored');
    // control: Postfix's hop_count_limit lets 50 through, and so do we
    const fifty = await session(50, 'loop 50');
    assert.match(fifty[5], /^250 /, fifty.join(' | '));
    assert.equal(await stored(), before + 1);
  });

  it('stores under the rules RCPT read only while they hold: a rule or correspondent added before DATA decides', async () => {
    const ctx = b.server.ctx;
    const sender = 'zed@legacy.test';
    const rcpt = async () => {
      const found = (await findRcpt(ctx, 'carol@b.test', sender))!;
      return { rcpts: new Map([['carol@b.test', found.mailbox]]), seen: { sender, byRcpt: new Map([['carol@b.test', found.facts]]) } };
    };
    const accept = async (at: Awaited<ReturnType<typeof rcpt>>, subject: string) =>
      (await storeAccepted(ctx, { raw: Buffer.from(`Subject: ${subject}\r\n\r\nhi\r\n`), tooLarge: false, sender, senderVerified: true, quarantine: false, subject }, at.rcpts, new Map(), { seen: at.seen }))[0];
    const rule = async (action: string) =>
      assert.equal((await b.api('/api/v1/rules', { method: 'POST', token: carol, json: { action, pattern: sender } })).status, 201);

    const first = await accept(await rcpt(), 'unchanged');
    assert.deepEqual([first.decision, first.reason, !!first.id], ['hold', 'first_contact', true], 'nothing changed: held as RCPT said');

    let at = await rcpt();
    await rule('allow');
    const allowed = await accept(at, 'allowed meanwhile');
    assert.deepEqual([allowed.decision, allowed.reason, !!allowed.id], ['fetch', 'allowed', true]);

    at = await rcpt();
    await rule('block');
    const before = await stored();
    const blocked = await accept(at, 'blocked meanwhile');
    assert.deepEqual([blocked.decision, blocked.reason, blocked.id], ['reject', 'blocked', undefined]);
    assert.equal(await stored(), before, 'nothing stored for a sender blocked after RCPT');

    const other = 'yan@legacy.test';
    const found = (await findRcpt(ctx, 'carol@b.test', other))!;
    await addCorrespondents(ctx.db, found.mailbox.id, [other], 'sent');
    const subject = 'a correspondent meanwhile';
    const [known] = await storeAccepted(ctx, { raw: Buffer.from('x'), tooLarge: false, sender: other, senderVerified: true, quarantine: false, subject },
      new Map([['carol@b.test', found.mailbox]]), new Map(), { seen: { sender: other, byRcpt: new Map([['carol@b.test', found.facts]]) } });
    assert.deepEqual([known.decision, known.reason], ['fetch', 'known_correspondent']);
  });

  it('stores the Subject with its encoded words decoded (RFC 2047)', async () => {
    const msg = `From: alice@legacy.test\r\nTo: bob@b.test\r\nSubject: =?utf-8?Q?caf=C3=A9?=\r\n =?utf-8?B?IGF1IGxhaXQ=?=\r\nMessage-ID: <cafe@legacy.test>\r\n\r\nhi\r\n`;
    const r = await send('alice@legacy.test', 'bob@b.test', dataFile('cafe.eml', msg));
    assert.match(last(r), /^250 /, r.out);
    assert.ok((await inbox(bob)).messages.some((m: Json) => m.subject === 'café au lait'), 'decoded subject in the inbox');
  });

  it('refuses address literals in MAIL FROM and RCPT TO (they would name a host to connect to)', async () => {
    const replies = await rawSmtp(port, [
      'EHLO client.test\r\n', 'MAIL FROM:<alice@[127.0.0.1]>\r\n', 'MAIL FROM:<alice@legacy.test>\r\n', 'RCPT TO:<bob@[127.0.0.1]>\r\n',
      'RCPT TO:<bob@[IPv6:::1]>\r\n', 'QUIT\r\n',
    ]);
    assert.match(replies[2], /^501 5\.1\.7 /);
    assert.match(replies[3], /^250 /);
    assert.match(replies[4], /^501 5\.1\.3 /);
    assert.match(replies[5], /^501 5\.1\.3 /);
  });
});
