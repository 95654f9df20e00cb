import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { atom, encodeValue, responseLine, toBuffer, type ImapValue } from './encode.ts';
import { decodeMailboxName, encodeMailboxName } from './utf7.ts';

const enc = (v: ImapValue) => toBuffer(encodeValue(v)).toString('utf8');

describe('IMAP response encoding', () => {
  const cases: Array<[string, ImapValue, string]> = [
    ['NIL', null, 'NIL'],
    ['number', 42, '42'],
    ['atom as is', atom('\\Seen'), '\\Seen'],
    ['plain string quoted', 'hello world', '"hello world"'],
    ['empty string', '', '""'],
    ['quotes and backslashes escaped', 'a"b\\c', '"a\\"b\\\\c"'],
    // 8-bit, CR and LF cannot be quoted (RFC 3501 §4.3): a literal of the UTF-8 bytes
    ['8-bit text as a literal', 'café', '{5}\r\ncafé'],
    ['CRLF as a literal', 'a\r\nb', '{4}\r\na\r\nb'],
    ['bytes always as a literal', Buffer.from('x'), '{1}\r\nx'],
    ['adjacent values have no space between them', [{ adjacent: [['a'], ['b']] }, 'mixed'], '(("a")("b") "mixed")'],
    ['nested lists', [atom('UID'), 1, [null, 'a', []]], '(UID 1 (NIL "a" ()))'],
  ];
  for (const [name, v, want] of cases) it(name, () => assert.equal(enc(v), want));

  it('responseLine joins values with spaces and ends with CRLF', () => {
    assert.equal(toBuffer(responseLine('* 1 FETCH', [[atom('FLAGS'), [atom('\\Seen')]]])).toString(), '* 1 FETCH (FLAGS (\\Seen))\r\n');
  });
});

describe('modified UTF-7 mailbox names', () => {
  const cases: Array<[string, string]> = [
    ['INBOX', 'INBOX'],
    ['Entwürfe', 'Entw&APw-rfe'],
    ['R&D', 'R&-D'],
    ['日本語', '&ZeVnLIqe-'],
    ['a/ü/b', 'a/&APw-/b'],
  ];
  for (const [name, wire] of cases) {
    it(`${name} <-> ${wire}`, () => {
      assert.equal(encodeMailboxName(name), wire);
      assert.equal(decodeMailboxName(wire), name);
    });
  }
  it('keeps a malformed run as typed', () => assert.equal(decodeMailboxName('a&Jjo-b&A-'), 'a\u263ab&A-'));
});
