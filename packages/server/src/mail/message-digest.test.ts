import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { sameMessageDigests, withoutFinalLineBreak } from './message-digest.ts';

const sha = (s: string) => createHash('sha256').update(s).digest('base64url');

describe('sameMessageDigests', () => {
  const table: [string, string, string[]][] = [
    ['no final line break', 'Subject: x\n\nbody', ['Subject: x\n\nbody', 'Subject: x\n\nbody\n', 'Subject: x\n\nbody\r\n']],
    ['a final LF (the mbox round trip of the first)', 'Subject: x\n\nbody\n', ['Subject: x\n\nbody\n', 'Subject: x\n\nbody', 'Subject: x\n\nbody\r\n']],
    ['a final CRLF', 'Subject: x\r\n\r\nbody\r\n', ['Subject: x\r\n\r\nbody\r\n', 'Subject: x\r\n\r\nbody', 'Subject: x\r\n\r\nbody\n']],
    // only one line break comes and goes: a blank last line is part of the message
    ['a blank last line', 'Subject: x\n\nbody\n\n', ['Subject: x\n\nbody\n\n', 'Subject: x\n\nbody\n', 'Subject: x\n\nbody\n\r\n']],
    ['a lone CR at the end', 'Subject: x\n\nbody\r', ['Subject: x\n\nbody\r', 'Subject: x\n\nbody\r\n', 'Subject: x\n\nbody\r\r\n']],
  ];
  for (const [name, raw, same] of table) {
    it(name, () => {
      const out = sameMessageDigests(Buffer.from(raw));
      assert.equal(out[0], sha(raw), 'the first is the digest of the bytes themselves');
      assert.deepEqual([...out].sort(), same.map(sha).sort());
    });
  }
  it('every form of one message gives the same set', () => {
    const forms = ['a\n\nb', 'a\n\nb\n', 'a\n\nb\r\n'].map((s) => [...sameMessageDigests(Buffer.from(s))].sort());
    assert.deepEqual(forms[1], forms[0]);
    assert.deepEqual(forms[2], forms[0]);
  });
  it('withoutFinalLineBreak takes one CRLF or LF, nothing else', () => {
    for (const [raw, out] of [['x\r\n', 'x'], ['x\n', 'x'], ['x\n\n', 'x\n'], ['x', 'x'], ['', ''], ['\n', ''], ['x\r', 'x\r']]) {
      assert.equal(withoutFinalLineBreak(Buffer.from(raw)).toString(), out, JSON.stringify(raw));
    }
  });
});
