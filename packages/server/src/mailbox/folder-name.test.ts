import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkFolderName } from './folder-name.ts';

describe('checkFolderName', () => {
  for (const [input, out] of [['Projects', 'Projects'], [' Travel ', 'Travel'], ['Work/2026', 'Work/2026'], ['Reçus', 'Reçus'], ['\u{1F4EC} Post', '\u{1F4EC} Post']]) {
    it(`takes ${JSON.stringify(input)}`, () => assert.equal(checkFolderName(input), out));
  }
  const bad: [string, string][] = [
    ['', 'empty'],
    ['   ', 'only blanks'],
    ['a\nb', 'a line break could end an IMAP command'],
    ['a\u0000b', 'PostgreSQL text cannot hold a NUL'],
    ['a\uD800b', 'a lone surrogate would be stored as U+FFFD, another name'],
    ['a*', 'LIST wildcard'],
    ['50%', 'LIST wildcard'],
    ['/top', 'empty first level'],
    ['a//b', 'empty middle level'],
    ['a/', 'empty last level'],
    ['inbox', 'INBOX is one folder in any case'],
    ['INBOX/sub', 'INBOX has no children here'],
    ['x'.repeat(201), 'too long'],
  ];
  for (const [input, why] of bad) it(`refuses ${JSON.stringify(input.slice(0, 20))} (${why})`, () => assert.throws(() => checkFolderName(input), { code: 'bad_request' }));
});
