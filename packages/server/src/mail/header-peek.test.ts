import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { peekHeaders } from './header-peek.ts';

describe('peekHeaders', () => {
  it('reads From, Subject and Message-ID as the MX does: 8-bit UTF-8 and encoded words decoded', () => {
    const cases: [string, { from: string; subject: string; messageId: string | null }][] = [
      ['From: Alice <Alice@A.test>\r\nSubject: plain\r\nMessage-ID: <x@a.test>', { from: 'alice@a.test', subject: 'plain', messageId: '<x@a.test>' }],
      [`From: a@a.test\r\nSubject: ${Buffer.from('Grüße', 'utf8').toString('latin1')}`, { from: 'a@a.test', subject: 'Grüße', messageId: null }],
      ['From: a@a.test\r\nSubject: =?utf-8?Q?caf=C3=A9?=\r\n =?utf-8?Q?_au_lait?=', { from: 'a@a.test', subject: 'café au lait', messageId: null }],
      ['From: a@a.test\r\nSubject: a=?utf-8?Q?=00?=b\r\nMessage-ID: <x\0y@a.test>', { from: 'a@a.test', subject: 'a\uFFFDb', messageId: null }],
      ['Subject: no author', { from: '', subject: 'no author', messageId: null }],
    ];
    for (const [head, want] of cases) assert.deepEqual(peekHeaders(Buffer.from(`${head}\r\n\r\nbody\r\n`, 'latin1')), want, head);
  });
});
