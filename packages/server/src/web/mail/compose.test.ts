import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAddresses } from './compose.ts';

describe('parseAddresses (the compose form\'s To, Cc and Bcc)', () => {
  it('takes the bare addresses, and keeps what is no address for the send schema to refuse', () => {
    const cases: [string, string[]][] = [
      ['bob@b.test', ['bob@b.test']],
      ['Amy <amy@a.test>, bob@b.test', ['amy@a.test', 'bob@b.test']],
      ['friends: amy@a.test, bob@b.test;', ['amy@a.test', 'bob@b.test']],
      ['not an address', ['not an address']],
      ['', []],
      // addressparser would drop the control character and send to another address (ab@a.test)
      ['a\u0000b@a.test, bob@b.test', ['a\u0000b@a.test', 'bob@b.test']],
      ['Amy <amy\u0001@a.test>', ['Amy <amy\u0001@a.test>']],
      ['a\rb@a.test', ['a\rb@a.test']],
      // separated by a space only: both were typed as recipients
      ['x@a.test y@a.test', ['x@a.test', 'y@a.test']],
      ['x@a.test;y@a.test', ['x@a.test', 'y@a.test']],
    ];
    for (const [text, want] of cases) assert.deepEqual(parseAddresses(text), want, JSON.stringify(text));
  });
});
