import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { composeCriResponse, readCriMail } from './cri-message.ts';
import { CRI_AGENT, isListOrSystemSender, loopExemption, parseRcptParams, withCriHeaders } from './cri.ts';
import { splitHeaders } from './headers.ts';
import { isSmtpReply } from './replies.ts';

const crlf = (s: string) => Buffer.from(s.replace(/\r?\n/g, '\r\n'), 'latin1');
const fieldsOf = (s: string) => splitHeaders(crlf(`${s}\n\nbody\n`)).fields;

/** The reply code a parse throws, or the parse result. */
function outcome(args: Record<string, string | boolean> | false) {
  try {
    return parseRcptParams(args);
  } catch (err) {
    assert.ok(isSmtpReply(err), `only SMTP replies escape: ${String(err)}`);
    return err.responseCode;
  }
}

describe('CRI RCPT TO parameters (draft §3.3 (5))', () => {
  const cases: [string, Record<string, string | boolean> | false, unknown][] = [
    ['no parameters', false, undefined],
    ['plain token', { 'CRI-TOKEN-TYPE': 'plain', 'CRI-TOKEN': 'crt_abc' }, { type: 'plain', token: 'crt_abc' }],
    // the draft's own example ends each value with ';'
    ['draft example form, upper-case type', { 'CRI-TOKEN-TYPE': 'PLAIN;', 'CRI-TOKEN': 'crt_abc;' }, { type: 'plain', token: 'crt_abc' }],
    ['a JWS-shaped token', { 'CRI-TOKEN-TYPE': 'plain', 'CRI-TOKEN': 'a.b.c' }, { type: 'plain', token: 'a.b.c' }],
    // refused: parameters we never advertised (DSN is hidden on the MX)
    ['unknown parameter', { FOO: 'bar' }, 555],
    ['NOTIFY without DSN advertised', { NOTIFY: 'NEVER' }, 555],
    ['unknown parameter beside a good token', { 'CRI-TOKEN-TYPE': 'plain', 'CRI-TOKEN': 'x', XYZ: true }, 555],
    ['a token type we do not take', { 'CRI-TOKEN-TYPE': 'hashcash', 'CRI-TOKEN': 'x' }, 555],
    // malformed: 501
    ['token without type', { 'CRI-TOKEN': 'x' }, 501],
    ['type without token (plain uses the token field)', { 'CRI-TOKEN-TYPE': 'plain' }, 501],
    ['valueless type', { 'CRI-TOKEN-TYPE': true, 'CRI-TOKEN': 'x' }, 501],
    ['valueless token', { 'CRI-TOKEN-TYPE': 'plain', 'CRI-TOKEN': true }, 501],
    ['only a semicolon', { 'CRI-TOKEN-TYPE': 'plain', 'CRI-TOKEN': ';' }, 501],
    ['a space inside (xtext-decoded +20)', { 'CRI-TOKEN-TYPE': 'plain', 'CRI-TOKEN': 'a b' }, 501],
    ['absurdly long', { 'CRI-TOKEN-TYPE': 'plain', 'CRI-TOKEN': 'x'.repeat(9000) }, 501],
  ];
  for (const [name, args, want] of cases) {
    it(name, () => assert.deepEqual(outcome(args), want));
  }

  it('never lets anything but a 501 or 555 reply escape (property)', () => {
    const key = fc.oneof(fc.constantFrom('CRI-TOKEN-TYPE', 'CRI-TOKEN', 'NOTIFY', 'FOO'), fc.string({ maxLength: 12 }));
    const value = fc.oneof(fc.constant(true as const), fc.string({ maxLength: 40 }), fc.constantFrom('plain', 'PLAIN;', 'crt_x'));
    fc.assert(
      fc.property(fc.dictionary(key, value, { maxKeys: 4 }), (args) => {
        const r = outcome(Object.keys(args).length ? args : false);
        assert.ok(r === undefined || typeof r === 'object' || r === 501 || r === 555, String(r));
      }),
    );
  });
});

describe('loop and list exemptions (draft §4, RFC 3834 §2)', () => {
  const cases: [string, string, string, string | undefined][] = [
    ['ordinary mail', 'From: a@x.test\nSubject: hi', 'a@x.test', undefined],
    ['Auto-Submitted: no is a person', 'Auto-Submitted: no', 'a@x.test', undefined],
    ['the null sender', 'Subject: bounce', '', 'null_sender'],
    ['an autoresponder', 'Auto-Submitted: auto-replied', 'a@x.test', 'auto_submitted'],
    ['auto-generated with a comment', 'Auto-Submitted: auto-generated (nightly)', 'a@x.test', 'auto_submitted'],
    ['Precedence: bulk', 'Precedence: bulk', 'a@x.test', 'precedence'],
    ['Precedence: JUNK', 'Precedence: JUNK', 'a@x.test', 'precedence'],
    ['a mailing list', 'List-Id: <announce.lists.test>', 'a@x.test', 'mailing_list'],
    ['List-Unsubscribe alone', 'List-Unsubscribe: <mailto:u@lists.test>', 'a@x.test', 'mailing_list'],
    ['CRI-Sender-Exempt', 'CRI-Sender-Exempt: yes', 'a@x.test', 'cri_sender_exempt'],
    // Precedence values that do not exempt
    ['Precedence: first-class', 'Precedence: first-class', 'a@x.test', undefined],
  ];
  for (const [name, head, sender, want] of cases) it(name, () => assert.equal(loopExemption(fieldsOf(head), sender), want));

  const envelopes: [string, boolean][] = [
    ['owner-announce@lists.test', true],
    ['announce-request@lists.test', true],
    ['announce-bounces@lists.test', true],
    ['announce-bounces+bob=b.test@lists.test', true],
    ['bounces+123@mail.test', true],
    ['MAILER-DAEMON@mx.test', true],
    ['alice@x.test', false],
    ['bounce-house-fan@x.test', false],
    ['owner@x.test', false],
  ];
  for (const [sender, want] of envelopes) it(`${sender} ${want ? 'is' : 'is not'} a list or system sender`, () => assert.equal(isListOrSystemSender(sender), want));
});

describe('CRI header fields on outgoing mail (draft §3.2.1)', () => {
  it('adds the three fields of an initial message once', () => {
    const raw = crlf('From: a@a.test\nSubject: hi\n\nbody\n');
    const out = withCriHeaders(raw).toString('latin1');
    assert.ok(out.startsWith(`CRI-Message-Type: informational\r\nCRI-Sender-Accept-Token: plain\r\nCRI-Sender-Agent: ${CRI_AGENT}\r\n`));
    assert.ok(out.endsWith(raw.toString('latin1')));
    assert.equal(withCriHeaders(Buffer.from(out, 'latin1')).toString('latin1'), out, 'already CRI: unchanged');
  });

  it('leaves a response alone', () => {
    const raw = crlf('From: a@a.test\nCRI-Message-Type: response\n\nbody\n');
    assert.equal(withCriHeaders(raw), raw);
  });
});

/** The challenge of the draft's §3.4.1 example, with the references a real challenger adds. */
const DRAFT_CHALLENGE = crlf(`From: challenger@irtf.org
To: research@solidmatrix.com
Subject: Challenge message
Message-ID: <ch1@irtf.org>
In-Reply-To: <orig-1@solidmatrix.com>
CRI-Reply-Until: Mon, 22 Sep 2003 15:16:26 -0400
CRI-Recipient-Accept-Token: plain
CRI-Recipient-Agent: CRI Tester 0.1
Content-Type: multipart/cri; boundary="opopo54545/irtf.org"

--opopo54545/irtf.org

This is a challenge message. To verify, please go here:

www.irtf.org/asrg/verify/

--opopo54545/irtf.org
Content-Type: message/cri
CRI-Sender: research@solidmatrix.com
CRI-Recipient: asrg@irtf.org
CRI-Verification-Level: 1
CRI-Message-Type: challenge
CRI-Recipient-Accept-Type: plain
CRI-Token-Type: plain
CRI-Token: this is a challenge token

--opopo54545/irtf.org
Content-Type: message/rfc822

Message-ID: <orig-2@solidmatrix.com>
Subject: test message

--opopo54545/irtf.org--
`);

describe('reading CRI challenges (draft §3.1.2, §3.2.2)', () => {
  it("reads the draft's example challenge", () => {
    const cri = readCriMail(DRAFT_CHALLENGE)!;
    assert.equal(cri.type, 'challenge');
    assert.deepEqual(cri.messageIds, ['<orig-1@solidmatrix.com>', '<orig-2@solidmatrix.com>']);
    assert.equal(cri.ownMessageId, '<ch1@irtf.org>');
    assert.equal(cri.challenges.length, 1);
    const [c] = cri.challenges;
    assert.equal(c.sender, 'research@solidmatrix.com');
    assert.equal(c.recipient, 'asrg@irtf.org');
    assert.equal(c.level, 1);
    assert.equal(c.tokenType, 'plain');
    assert.equal(c.token, 'this is a challenge token');
    assert.equal(c.replyUntil?.toISOString(), '2003-09-22T19:16:26.000Z');
  });

  it('takes CRI fields from the body of a message/cri part, and a header-only challenge', () => {
    const inBody = readCriMail(crlf('Content-Type: multipart/cri; boundary=b\n\n--b\nContent-Type: message/cri\n\nCRI-Message-Type: challenge\nCRI-Token: t1\n--b--\n'))!;
    assert.equal(inBody.challenges[0].token, 't1');
    const headerOnly = readCriMail(crlf('CRI-Message-Type: challenge\nCRI-Token: t2\nReferences: <a@x> <b@y>\n\nPlease confirm.\n'))!;
    assert.equal(headerOnly.type, 'challenge');
    assert.equal(headerOnly.challenges[0].token, 't2');
    assert.deepEqual(headerOnly.messageIds, ['<a@x>', '<b@y>']);
  });

  it('ignores mail that does not speak CRI, and knows a response is no challenge', () => {
    assert.equal(readCriMail(crlf('Subject: hi\nContent-Type: multipart/mixed; boundary=b\n\n--b\n\nx\n--b--\n')), undefined);
    const response = readCriMail(crlf('CRI-Message-Type: response\nCRI-Token: t\n\nx\n'))!;
    assert.equal(response.type, 'response');
    assert.equal(response.challenges.length, 0);
  });

  it('drops tokens it would not echo (control characters, too long)', () => {
    assert.equal(readCriMail(crlf('CRI-Message-Type: challenge\nCRI-Token: a\x01b\n\nx\n'))!.challenges[0].token, undefined);
    assert.equal(readCriMail(crlf(`CRI-Message-Type: challenge\nCRI-Token: ${'x'.repeat(600)}\n\nx\n`))!.challenges[0].token, undefined);
  });

  it('never throws on arbitrary bytes that claim to be CRI (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), fc.string({ maxLength: 20 }), (body, boundary) => {
        for (const head of [`Content-Type: multipart/cri; boundary="${boundary}"`, 'CRI-Message-Type: challenge']) readCriMail(Buffer.from(`${head}\r\n\r\n${body}`, 'latin1'));
      }),
    );
  });
});

describe('writing a CRI response (draft §3.2.3)', () => {
  it('is a multipart/cri response carrying the token, marked so nobody answers it again', () => {
    const challenge = readCriMail(DRAFT_CHALLENGE)!.challenges[0];
    const { raw, subject } = composeCriResponse({
      from: 'research@solidmatrix.com',
      to: 'challenger@irtf.org',
      challengedRcpt: 'asrg@irtf.org',
      about: '<orig-1@solidmatrix.com>',
      challenge: { ...challenge, token: challenge.token! },
      inReplyTo: '<ch1@irtf.org>',
      subject: 'Challenge message',
      messageIdHeader: '<r1@solidmatrix.com>',
      date: new Date('2026-11-25T12:00:00Z'),
    });
    assert.equal(subject, 'Re: Challenge message');
    const { fields } = splitHeaders(raw);
    assert.equal(loopExemption(fields, 'research@solidmatrix.com'), 'auto_submitted');
    const back = readCriMail(raw)!;
    assert.equal(back.type, 'response');
    assert.equal(back.challenges.length, 0, 'a response is never read as a challenge');
    assert.match(raw.toString('latin1'), /\r\nContent-Type: message\/cri\r\nCRI-Sender: research@solidmatrix\.com\r\nCRI-Recipient: asrg@irtf\.org\r\nCRI-Verification-Level: 1\r\nCRI-Message-Type: response\r\nCRI-Token-Type: plain\r\nCRI-Token: this is a challenge token\r\n/);
    assert.match(raw.toString('latin1'), /^In-Reply-To: <ch1@irtf\.org>\r$/m);
  });
});
