import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodedHeader, fromAddress, headerValue, splitHeaders, withTraceHeaders } from './headers.ts';

const msg = Buffer.from('From: "Alice A." <Alice@X.test>\r\nSubject: hello\r\n  there\r\nAuthentication-Results: mx.b.test; spf=pass\r\nAuthentication-Results: other.test; dkim=pass\r\n\r\nbody\r\n');

describe('gateway header handling', () => {
  it('reads fields, unfolding continuation lines', () => {
    const { fields, body } = splitHeaders(msg);
    assert.equal(headerValue(fields, 'subject'), 'hello  there', 'unfolding removes only the line break (RFC 5322 §2.2.3)');
    assert.equal(fromAddress(fields), 'alice@x.test');
    assert.equal(body, '\r\nbody\r\n');
    assert.equal(fields.map((f) => f.text).join('') + body, msg.toString('latin1'), 'fields and body rebuild the message');
  });

  it('decodes an unstructured field as mailparser did: encoded words, 8-bit UTF-8, the first of several; NUL made storable', () => {
    const cases: [string, string | undefined][] = [
      ['Subject: plain', 'plain'],
      ['Subject: =?UTF-8?B?SGVsbG8g8J+Ri/CfjI0=?=', 'Hello \u{1F44B}\u{1F30D}'],
      // whitespace between encoded words goes, also across a fold (RFC 2047 §6.2)
      ['Subject: =?utf-8?Q?caf=C3=A9?=\r\n =?utf-8?Q?_au_lait?=', 'café au lait'],
      ['Subject: =?iso-8859-1?Q?r=E9sum=E9?= and more', 'résumé and more'],
      ['Subject: 50% =?utf-8?q?off?= now', '50% off now'],
      // raw UTF-8 bytes (RFC 6532), as they arrive on the wire
      [`Subject: ${Buffer.from('café', 'utf8').toString('latin1')}`, 'café'],
      ['Subject: first\r\nSubject: second', 'first'],
      ['Subject:', ''],
      // what a text column cannot hold becomes U+FFFD (mailparser passed it on, and the INSERT failed)
      ['Subject: =?utf-8?Q?a=00b?= c\u0000d', 'a\uFFFDb c\uFFFDd'],
      ['X-Other: 1', undefined],
    ];
    for (const [field, want] of cases) {
      const { fields } = splitHeaders(Buffer.from(`From: a@x.test\r\n${field}\r\n\r\nbody\r\n`, 'latin1'));
      assert.equal(decodedHeader(fields, 'subject'), want, field);
    }
  });

  it('prepends trace fields and drops Authentication-Results forged with our authserv-id (RFC 8601 §5)', () => {
    const out = withTraceHeaders(msg, ['Authentication-Results: mx.b.test; spf=none'], 'mx.b.test').toString('latin1');
    assert.equal(out.split('mx.b.test').length - 1, 1, 'only our own result names us');
    assert.match(out, /^Authentication-Results: mx\.b\.test; spf=none\r\nFrom:/);
    assert.match(out, /Authentication-Results: other\.test; dkim=pass\r\n\r\nbody\r\n$/);
  });

  it('keeps the bytes untouched when nothing is forged', () => {
    const clean = Buffer.from('From: a@x.test\r\n\r\nhi\r\n');
    assert.deepEqual(withTraceHeaders(clean, ['X-Trace: 1'], 'mx.b.test'), Buffer.concat([Buffer.from('X-Trace: 1\r\n'), clean]));
  });
});
