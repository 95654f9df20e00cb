import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { createLineGuard } from './line-guard.ts';

function check(data: string, chunkSize = Infinity): boolean {
  const g = createLineGuard();
  const buf = Buffer.from(data, 'latin1');
  for (let i = 0; i < buf.length; i += Number.isFinite(chunkSize) ? chunkSize : buf.length) g.feed(buf.subarray(i, i + (Number.isFinite(chunkSize) ? chunkSize : buf.length)));
  return g.end();
}

describe('SMTP smuggling line guard', () => {
  const cases: [string, string, boolean][] = [
    ['plain CRLF text', 'Subject: x\r\n\r\nhello\r\nworld\r\n', false],
    ['a dot-stuffed single-dot line arrives as CRLF . CRLF: legitimate', 'a\r\n.\r\nb\r\n', false],
    ['dots inside lines are fine', 'a.b\r\n..x\r\n.x\r\n', false],
    ['bare LF without a lone dot is tolerated', 'a\nb\n.x\n', false],
    // each of these ends DATA on some server and would smuggle what follows
    ['LF . LF', 'a\n.\nMAIL FROM:<x@y>\r\n', true],
    ['CR . CR', 'a\r.\rMAIL FROM:<x@y>\r\n', true],
    ['LF . CRLF', 'a\n.\r\nRCPT TO:<x@y>\r\n', true],
    ['CRLF . LF', 'a\r\n.\nDATA\r\n', true],
    ['CR . CRLF', 'a\r.\r\nx\r\n', true],
    ['CRLF . CR', 'a\r\n.\rx\r\n', true],
    ['lone dot LF at the very start', '.\nx\r\n', true],
    ['a bare CR at the end after a lone dot', 'a\r\n.\r', true],
  ];
  for (const [name, data, bad] of cases) {
    it(`${bad ? 'refuses' : 'passes'}: ${name}`, () => {
      assert.equal(check(data), bad);
      // split at every possible point: chunk boundaries must not change the answer
      for (let size = 1; size <= 6; size++) assert.equal(check(data, size), bad, `chunks of ${size}`);
    });
  }

  it('gives the same answer for any chunking (property)', () => {
    const alphabet = fc.constantFrom('a', '.', '\r', '\n', '\r\n');
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 40 }), fc.integer({ min: 1, max: 7 }), (parts, size) => {
        const data = parts.join('');
        const whole = check(data);
        assert.equal(check(data, size), whole);
        // reference: a regex over the whole text with DATA's leading CRLF
        const ref = [...`\r\n${data}`.matchAll(/(?=(\r\n|\r(?!\n)|(?<!\r)\n)\.(\r\n|\r(?!\n)|\n))/g)].some((m) => !(m[1] === '\r\n' && m[2] === '\r\n'));
        assert.equal(whole, ref, JSON.stringify(data));
      }),
    );
  });
});
