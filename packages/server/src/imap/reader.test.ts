import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { createCommandReader, type ReaderEvent } from './reader.ts';

const limits = { maxLineBytes: 100, maxLiteralBytes: 50 };

function feed(input: string, chunkSize = Infinity, lim = limits): Array<ReaderEvent | { kind: 'command'; text: string }> {
  const r = createCommandReader(lim);
  const buf = Buffer.from(input, 'latin1');
  const step = Number.isFinite(chunkSize) ? chunkSize : buf.length || 1;
  const out: ReaderEvent[] = [];
  for (let i = 0; i < buf.length; i += step) out.push(...r.push(buf.subarray(i, i + step)));
  return out.map((e) => (e.kind === 'command' ? { kind: 'command', text: e.bytes.toString('latin1') } : e));
}

describe('IMAP command reader', () => {
  const cases: Array<[string, string, unknown[]]> = [
    ['one line, CRLF removed', 'a NOOP\r\n', [{ kind: 'command', text: 'a NOOP' }]],
    ['two pipelined lines', 'a NOOP\r\nb CHECK\r\n', [{ kind: 'command', text: 'a NOOP' }, { kind: 'command', text: 'b CHECK' }]],
    ['a bare LF ends a line too', 'a NOOP\n', [{ kind: 'command', text: 'a NOOP' }]],
    ['an unfinished line is kept for later', 'a NO', []],
    ['a synchronizing literal asks for a continuation', 'a LOGIN {3}\r\nabc pw\r\n', [{ kind: 'continue', size: 3 }, { kind: 'command', text: 'a LOGIN {3}\r\nabc pw' }]],
    ['a LITERAL+ literal does not', 'a LOGIN {3+}\r\nabc pw\r\n', [{ kind: 'command', text: 'a LOGIN {3+}\r\nabc pw' }]],
    ['literal bytes may hold CRLF and {n}', 'a LOGIN {8+}\r\n{9}\r\n\r\nx pw\r\n', [{ kind: 'command', text: 'a LOGIN {8+}\r\n{9}\r\n\r\nx pw' }]],
    ['a zero-length literal', 'a LOGIN {0}\r\n pw\r\n', [{ kind: 'continue', size: 0 }, { kind: 'command', text: 'a LOGIN {0}\r\n pw' }]],
    // a too-long line is answered and skipped; the next command is read normally
    ['line over the cap', `a ${'x'.repeat(120)}\r\nb NOOP\r\n`, [{ kind: 'reject', tag: 'a', text: 'Line too long' }, { kind: 'command', text: 'b NOOP' }]],
    // the client waits for "+", so refusing keeps both sides in step
    ['synchronizing literal over the cap', 'a APPEND INBOX {51}\r\nb NOOP\r\n', [{ kind: 'reject', tag: 'a', text: 'Literal too large' }, { kind: 'command', text: 'b NOOP' }]],
    // the bytes are already on their way: the only safe answer is to close
    ['non-synchronizing literal over the cap', 'a APPEND INBOX {51+}\r\nxxxx', [{ kind: 'fatal', text: 'Literal too large' }]],
  ];
  for (const [name, input, want] of cases) {
    it(name, () => {
      assert.deepEqual(feed(input), want);
      // the same events whatever the chunking
      assert.deepEqual(feed(input, 1), want);
      assert.deepEqual(feed(input, 7), want);
    });
  }

  it('frames any chunking of a command stream the same way', () => {
    const commands = fc.array(fc.oneof(fc.stringMatching(/^[a-z0-9 ]{1,30}$/), fc.string({ maxLength: 20 }).map((s) => ({ literal: s }))), { minLength: 1, maxLength: 6 });
    fc.assert(
      fc.property(commands, fc.integer({ min: 1, max: 17 }), (parts, chunk) => {
        const input = parts.map((p) => (typeof p === 'string' ? `t ${p}\r\n` : `t X {${Buffer.byteLength(p.literal, 'latin1')}+}\r\n${p.literal}\r\n`)).join('');
        assert.deepEqual(feed(input, chunk, { maxLineBytes: 1000, maxLiteralBytes: 1000 }), feed(input, Infinity, { maxLineBytes: 1000, maxLiteralBytes: 1000 }));
      }),
    );
  });
});
