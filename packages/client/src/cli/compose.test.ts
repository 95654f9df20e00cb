// Recipient lists and attachment types as `send` reads them from flags.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addressList, contentTypeOf } from './compose.ts';
import { UsageError } from './exit-codes.ts';

describe('addressList', () => {
  it('joins repeated flags and comma lists, trimming blanks', () => {
    assert.deepEqual(addressList(['a@x.test, b@x.test', 'c@y.test', ' , '], 'to'), ['a@x.test', 'b@x.test', 'c@y.test']);
  });
  const bad: [string, string][] = [
    ['bob', 'no domain'],
    ['@x.test', 'no local part'],
    ['a@b@c.test', 'two @'],
    ['a b@x.test', 'a space inside'],
  ];
  for (const [input, why] of bad) {
    it(`refuses ${JSON.stringify(input)} (${why})`, () => assert.throws(() => addressList([input], 'cc'), (err: unknown) => err instanceof UsageError && err.message.startsWith('--cc:')));
  }
});

describe('contentTypeOf', () => {
  const cases: [string, string][] = [
    ['report.pdf', 'application/pdf'],
    ['Photo.JPG', 'image/jpeg'],
    ['notes.txt', 'text/plain'],
    ['archive.tar.gz', 'application/gzip'],
    // unknown or missing extensions are plain bytes
    ['data.xyz', 'application/octet-stream'],
    ['Makefile', 'application/octet-stream'],
  ];
  for (const [file, type] of cases) it(`${file} → ${type}`, () => assert.equal(contentTypeOf(file), type));
});
