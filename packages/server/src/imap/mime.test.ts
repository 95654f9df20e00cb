import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseAddressList } from './address-list.ts';
import { atom, encodeValue, toBuffer } from './encode.ts';
import { bodyStructure, envelope, parseMessage, sectionBytes } from './mime.ts';
import type { Section } from './parser.ts';

const crlf = (s: string) => s.replace(/\r?\n/g, '\r\n');
const wire = (v: Parameters<typeof encodeValue>[0]) => toBuffer(encodeValue(v)).toString('utf8');

// nested multipart: mixed( text, alternative(text, html), message/rfc822( mixed(text, pdf) ), image )
const NESTED = crlf(`From: =?utf-8?Q?J=C3=B6rg?= <jorg@example.com>
To: "Doe, Jane" <jane@example.net>, bob@example.org
Cc: team: ann@example.com, (the boss) boss@example.com;
Subject: =?utf-8?B?SGVsbG8g8J+Riw==?=
Date: Tue, 1 Dec 2026 10:00:00 +0100
Message-ID: <outer@example.com>
In-Reply-To: <prev@example.com>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

This is the preamble.
--outer
Content-Type: text/plain; charset=utf-8

First part.
--outer
Content-Type: multipart/alternative; boundary=alt

--alt
Content-Type: text/plain

plain
--alt
Content-Type: text/html; charset="utf-8"
Content-Transfer-Encoding: quoted-printable

<p>html=3D</p>
--alt--
--outer
Content-Type: message/rfc822
Content-Description: forwarded

From: carol@example.com
Subject: inner
Content-Type: multipart/mixed; boundary=inner

--inner

inner text, no content-type
--inner
Content-Type: application/pdf; name=a.pdf
Content-Disposition: attachment; filename="a.pdf"
Content-Transfer-Encoding: base64

JVBERi0=
--inner--
--outer
Content-Type: image/png
Content-ID: <img1>
Content-Transfer-Encoding: base64

iVBORw0K
--outer--
epilogue
`);

const SIMPLE = crlf(`From: alice@example.com
Subject: no content type
X-Long: folded
  header value

body line 1
body line 2
`);

describe('MIME sections', () => {
  const buf = Buffer.from(NESTED);
  const root = parseMessage(buf);
  const cases: Array<[string, Section, string]> = [
    ['whole message', { part: [] }, NESTED],
    ['TEXT starts after the blank line', { part: [], text: 'TEXT' }, NESTED.slice(NESTED.indexOf('\r\n\r\n') + 4)],
    ['HEADER ends with the blank line', { part: [], text: 'HEADER' }, NESTED.slice(0, NESTED.indexOf('\r\n\r\n') + 4)],
    ['HEADER.FIELDS in message order, plus CRLF', { part: [], text: 'HEADER.FIELDS', fields: ['SUBJECT', 'FROM', 'X-ABSENT'] }, 'From: =?utf-8?Q?J=C3=B6rg?= <jorg@example.com>\r\nSubject: =?utf-8?B?SGVsbG8g8J+Riw==?=\r\n\r\n'],
    ['HEADER.FIELDS.NOT', { part: [3], text: 'HEADER.FIELDS.NOT', fields: ['CONTENT-TYPE', 'SUBJECT'] }, 'From: carol@example.com\r\n\r\n'],
    ['part 1, the line break before the delimiter excluded', { part: [1] }, 'First part.'],
    ['part 1 MIME header', { part: [1], text: 'MIME' }, 'Content-Type: text/plain; charset=utf-8\r\n\r\n'],
    ['part 2.1 inside the alternative', { part: [2, 1] }, 'plain'],
    ['part 2.2, raw (transfer encoding not undone)', { part: [2, 2] }, '<p>html=3D</p>'],
    ['part 2 is the alternative body with its delimiters', { part: [2] }, '--alt\r\nContent-Type: text/plain\r\n\r\nplain\r\n--alt\r\nContent-Type: text/html; charset="utf-8"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n<p>html=3D</p>\r\n--alt--'],
    ['part 3 (message/rfc822) is the whole attached message', { part: [3] }, NESTED.slice(NESTED.indexOf('From: carol'), NESTED.indexOf('--inner--') + 9)],
    ['3.HEADER is the attached message header', { part: [3], text: 'HEADER' }, 'From: carol@example.com\r\nSubject: inner\r\nContent-Type: multipart/mixed; boundary=inner\r\n\r\n'],
    ['3.1 counts inside the attached message', { part: [3, 1] }, 'inner text, no content-type'],
    ['3.2.MIME', { part: [3, 2], text: 'MIME' }, 'Content-Type: application/pdf; name=a.pdf\r\nContent-Disposition: attachment; filename="a.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\n'],
    ['3.2', { part: [3, 2] }, 'JVBERi0='],
    ['part 4', { part: [4] }, 'iVBORw0K'],
    ['a part that does not exist is empty', { part: [9] }, ''],
    ['HEADER of a part that holds no message is empty', { part: [1], text: 'HEADER' }, ''],
  ];
  for (const [name, section, want] of cases) it(name, () => assert.equal(sectionBytes(buf, root, section).toString(), want));

  const simple = Buffer.from(SIMPLE);
  const sroot = parseMessage(simple);
  it('a single-part message: part 1 is its body', () => assert.equal(sectionBytes(simple, sroot, { part: [1] }).toString(), 'body line 1\r\nbody line 2\r\n'));
  it('folded header fields are returned with their folding', () =>
    assert.equal(sectionBytes(simple, sroot, { part: [], text: 'HEADER.FIELDS', fields: ['X-LONG'] }).toString(), 'X-Long: folded\r\n  header value\r\n\r\n'));
  it('LF-only messages split the same way', () => {
    const lf = Buffer.from(NESTED.replace(/\r\n/g, '\n'));
    const r = parseMessage(lf);
    assert.equal(sectionBytes(lf, r, { part: [3, 1] }).toString(), 'inner text, no content-type');
    assert.equal(sectionBytes(lf, r, { part: [1], text: 'MIME' }).toString(), 'Content-Type: text/plain; charset=utf-8\n\n');
  });
  it('a missing closing delimiter ends the last part at the end of the message', () => {
    const m = Buffer.from(crlf('Content-Type: multipart/mixed; boundary=b\n\n--b\n\none\n--b\n\ntwo, cut off'));
    const r = parseMessage(m);
    assert.equal(r.children.length, 2);
    assert.equal(sectionBytes(m, r, { part: [2] }).toString(), 'two, cut off');
  });
  it('a multipart without a boundary is shown as text', () => {
    const m = Buffer.from(crlf('Content-Type: multipart/mixed\n\nno parts here\n'));
    assert.equal(wire(bodyStructure(m, parseMessage(m), false)), '("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 15 1)');
  });
  it('a boundary that is a prefix of a longer line is not a delimiter', () => {
    const m = Buffer.from(crlf('Content-Type: multipart/mixed; boundary=b\n\n--b\n\n--bx is text\n--b--\n'));
    assert.equal(sectionBytes(m, parseMessage(m), { part: [1] }).toString(), '--bx is text');
  });
});

describe('ENVELOPE', () => {
  it('keeps header values raw and lists addresses and groups', () => {
    const env = envelope(parseMessage(Buffer.from(NESTED)));
    assert.equal(
      wire(env),
      '("Tue, 1 Dec 2026 10:00:00 +0100" "=?utf-8?B?SGVsbG8g8J+Riw==?=" ' +
        '(("=?utf-8?Q?J=C3=B6rg?=" NIL "jorg" "example.com")) (("=?utf-8?Q?J=C3=B6rg?=" NIL "jorg" "example.com")) (("=?utf-8?Q?J=C3=B6rg?=" NIL "jorg" "example.com")) ' +
        '(("Doe, Jane" NIL "jane" "example.net") (NIL NIL "bob" "example.org")) ' +
        '((NIL NIL "team" NIL) (NIL NIL "ann" "example.com") (NIL NIL "boss" "example.com") (NIL NIL NIL NIL)) ' +
        'NIL "<prev@example.com>" "<outer@example.com>")',
    );
  });
  it('absent fields are NIL; a message with no header at all still has an envelope', () => {
    assert.equal(wire(envelope(parseMessage(Buffer.from('\r\nbody')))), '(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)');
  });
  it('8-bit header values go as literals', () => {
    const env = envelope(parseMessage(Buffer.from('Subject: café\r\n\r\n')));
    assert.equal(wire(env), '(NIL {5}\r\ncafé NIL NIL NIL NIL NIL NIL NIL NIL)');
  });
});

describe('address lists', () => {
  const cases: Array<[string, string, unknown]> = [
    ['bare address', 'a@b.c', [{ mailbox: 'a', host: 'b.c' }]],
    ['display name', 'Alice Smith <alice@x.test>', [{ name: 'Alice Smith', mailbox: 'alice', host: 'x.test' }]],
    ['quoted name with a comma', '"Smith, A." <a@x.test>, b@y.test', [{ name: 'Smith, A.', mailbox: 'a', host: 'x.test' }, { mailbox: 'b', host: 'y.test' }]],
    ['comments are dropped', 'a@x.test (Alice)', [{ mailbox: 'a', host: 'x.test' }]],
    ['obsolete route', '<@relay.test:a@x.test>', [{ name: undefined, mailbox: 'a', host: 'x.test' }]],
    ['empty group', 'undisclosed-recipients:;', [{ group: 'undisclosed-recipients', members: [] }]],
    ['no domain', 'root', [{ mailbox: 'root', host: '' }]],
    ['garbage gives nothing', ',,;', []],
  ];
  for (const [name, value, want] of cases) it(name, () => assert.deepEqual(parseAddressList(value), want));
});

describe('BODYSTRUCTURE', () => {
  it('describes nested multiparts, an attached message and extension data', () => {
    const buf = Buffer.from(NESTED);
    const got = wire(bodyStructure(buf, parseMessage(buf), true));
    const inner =
      '(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 27 1 NIL NIL NIL NIL)' +
      '("application" "pdf" ("name" "a.pdf") NIL NIL "base64" 8 NIL ("attachment" ("filename" "a.pdf")) NIL NIL) "mixed" ("boundary" "inner") NIL NIL NIL)';
    const innerEnv = '(NIL "inner" ((NIL NIL "carol" "example.com")) ((NIL NIL "carol" "example.com")) ((NIL NIL "carol" "example.com")) NIL NIL NIL NIL NIL)';
    const rfc822Size = Buffer.byteLength(sectionBytes(buf, parseMessage(buf), { part: [3] }));
    assert.equal(
      got,
      '(("text" "plain" ("charset" "utf-8") NIL NIL "7bit" 11 1 NIL NIL NIL NIL)' +
        '(("text" "plain" NIL NIL NIL "7bit" 5 1 NIL NIL NIL NIL)("text" "html" ("charset" "utf-8") NIL NIL "quoted-printable" 14 1 NIL NIL NIL NIL) "alternative" ("boundary" "alt") NIL NIL NIL)' +
        `("message" "rfc822" NIL NIL "forwarded" "7bit" ${rfc822Size} ${innerEnv} ${inner} 14 NIL NIL NIL NIL)` +
        '("image" "png" NIL "<img1>" NIL "base64" 8 NIL NIL NIL NIL) "mixed" ("boundary" "outer") NIL NIL NIL)',
    );
  });
  // a Content-Type without charset is reported as written (NIL); only a missing one gets the RFC 2045 default
  it('BODY leaves out extension data; a message without Content-Type is text/plain us-ascii', () => {
    const buf = Buffer.from(SIMPLE);
    assert.equal(wire(bodyStructure(buf, parseMessage(buf), false)), '("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 26 2)');
  });
  it('a digest defaults its parts to message/rfc822', () => {
    const buf = Buffer.from(crlf('Content-Type: multipart/digest; boundary=d\n\n--d\n\nSubject: one\n\nhi\n--d--\n'));
    const root = parseMessage(buf);
    assert.equal(root.children[0].type, 'message');
    assert.equal(sectionBytes(buf, root, { part: [1], text: 'HEADER' }).toString(), 'Subject: one\r\n\r\n');
  });
  it('never throws and keeps offsets in bounds on arbitrary bytes', () => {
    const pieces = ['--b', '--b--', '\r\n', '\n', 'Content-Type: multipart/mixed; boundary=b', 'Content-Type: message/rfc822', ': ', 'x', ' '];
    const arb = fc.oneof(fc.uint8Array({ maxLength: 400 }).map((b) => Buffer.from(b)), fc.array(fc.constantFrom(...pieces), { maxLength: 60 }).map((p) => Buffer.from(p.join(''))));
    fc.assert(
      fc.property(arb, (buf) => {
        const root = parseMessage(buf);
        const walk = (e: typeof root): void => {
          assert.ok(e.start <= e.bodyStart && e.bodyStart <= e.end && e.end <= buf.length);
          e.children.forEach(walk);
          if (e.message) walk(e.message);
        };
        walk(root);
        wire(bodyStructure(buf, root, true));
        wire([atom('ENVELOPE'), envelope(root)]);
        sectionBytes(buf, root, { part: [1, 1], text: 'HEADER' });
      }),
      { numRuns: 2000 },
    );
  });
});
