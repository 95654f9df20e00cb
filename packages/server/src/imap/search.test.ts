import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MessageInfo } from './backend.ts';
import { parseCommand, type Command } from './parser.ts';
import { decodeWords, matches, needsContent, searchContent } from './search.ts';

const MSG = [
  'From: =?iso-8859-1?Q?Andr=E9?= <andre@example.com>',
  'To: bob@example.org',
  'Subject: =?utf-8?B?UmVwb3J0IGbDvHIgTcOkcno=?=',
  'Date: Mon, 30 Nov 2026 23:30:00 -0800',
  'Message-ID: <m1@example.com>',
  'Content-Type: multipart/alternative; boundary=x',
  '',
  '--x',
  'Content-Type: text/plain; charset=utf-8',
  'Content-Transfer-Encoding: quoted-printable',
  '',
  'Gr=C3=BC=C3=9Fe aus K=C3=B6ln',
  '--x',
  'Content-Type: text/html',
  'Content-Transfer-Encoding: base64',
  '',
  Buffer.from('<b>needle</b>').toString('base64'),
  '--x--',
  '',
].join('\r\n');

const info: MessageInfo = { uid: 7, flags: ['\\Seen', '$Fetched'], modseq: 12, internalDate: new Date(Date.UTC(2026, 11, 1, 8)), size: 900 };
const target = { seq: 3, info, maxSeq: 5, maxUid: 20, content: searchContent(Buffer.from(MSG)) };
const key = (text: string) => (parseCommand(Buffer.from(`a SEARCH ${text}`)) as Extract<Command, { name: 'SEARCH' }>).key;

describe('SEARCH evaluation', () => {
  const cases: Array<[string, boolean]> = [
    ['ALL', true],
    ['SEEN', true],
    ['UNSEEN', false],
    ['KEYWORD $fetched', true],
    ['UNKEYWORD $Fetched', false],
    ['FLAGGED', false],
    ['NEW', false],
    ['3', true],
    ['4:*', false],
    ['*', false],
    ['UID 7', true],
    ['UID 8:*', false],
    // a range given high to low means the same (RFC 3501 §9 seq-range)
    ['UID 9:5', true],
    ['LARGER 899', true],
    ['LARGER 900', false],
    ['SMALLER 901', true],
    ['MODSEQ 12', true],
    ['MODSEQ 13', false],
    ['ON 1-Dec-2026', true],
    ['BEFORE 1-Dec-2026', false],
    ['SINCE 1-Dec-2026', true],
    // the sent date is the Date header's own calendar day, not converted to UTC
    ['SENTON 30-Nov-2026', true],
    ['SENTSINCE 1-Dec-2026', false],
    // encoded words are decoded before matching, case-insensitively
    ['CHARSET UTF-8 FROM "andré"', true],
    ['FROM ANDRE@EXAMPLE', true],
    ['SUBJECT "für märz"', true],
    ['TO carol', false],
    ['HEADER Message-ID m1@', true],
    ['HEADER X-Absent ""', false],
    ['HEADER Message-ID ""', true],
    // quoted-printable and base64 bodies are decoded in their charset
    ['BODY "grüße aus köln"', true],
    ['BODY needle', true],
    ['BODY Content-Type', false],
    ['TEXT bob@example', true],
    ['TEXT needle', true],
    ['OR FLAGGED SEEN', true],
    ['NOT SEEN', false],
    ['(SEEN FROM andre) LARGER 10', true],
    ['SEEN FROM nobody', false],
  ];
  for (const [text, want] of cases) it(`${text} -> ${want}`, () => assert.equal(matches(key(text), target), want));

  it('only keys that read headers, text or the sent date need the bytes', () => {
    assert.equal(needsContent(key('SEEN UID 1:* LARGER 4 SINCE 1-Jan-2026')), false);
    assert.equal(needsContent(key('NOT OR SEEN SUBJECT x')), true);
    assert.equal(needsContent(key('SENTBEFORE 1-Jan-2026')), true);
  });
  it('decodes encoded words and drops the space between adjacent ones', () => {
    assert.equal(decodeWords('=?utf-8?Q?a_b?= =?utf-8?B?Yw==?= d'), 'a bc d');
    assert.equal(decodeWords('=?x-unknown?B?YQ==?='), 'a');
  });
});
