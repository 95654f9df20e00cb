import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyFlags, canonicalFlag, canonicalFlags, partitionFlags, sameFlags } from './flags.ts';

describe('canonicalFlag', () => {
  const good: [string, string][] = [
    ['\\Seen', '\\Seen'],
    ['\\seen', '\\Seen'], // system flags are case-insensitive
    ['\\FLAGGED', '\\Flagged'],
    ['$Label1', '$Label1'],
    ['$Forwarded', '$Forwarded'],
    ['Junk', 'Junk'],
  ];
  for (const [input, out] of good) it(`takes ${input}`, () => assert.equal(canonicalFlag(input), out));
  const bad: [string, string][] = [
    ['\\Recent', 'set by the server only'],
    ['\\Important', 'no such system flag'],
    ['', 'empty'],
    ['two words', 'space ends an atom'],
    ['a(b', 'list delimiter'],
    ['a]b', 'resp-special'],
    ['"q"', 'quoted'],
    ['é', 'not ASCII'],
    ['x'.repeat(65), 'too long'],
    // an atom may hold one (RFC 3501), but `?flags=` lists are comma-separated
    ['a,b', 'the list separator'],
    [',', 'the list separator alone'],
  ];
  for (const [input, why] of bad) it(`refuses ${JSON.stringify(input)} (${why})`, () => assert.throws(() => canonicalFlag(input), { code: 'bad_request' }));
});

describe('applyFlags', () => {
  const table: [string, string[], Parameters<typeof applyFlags>[1], string[]][] = [
    ['add to none', [], { add: ['\\Seen'] }, ['\\Seen']],
    ['add twice is once', ['\\Seen'], { add: ['\\seen'] }, ['\\Seen']],
    ['remove', ['\\Seen', '\\Flagged'], { remove: ['\\Seen'] }, ['\\Flagged']],
    ['remove in other case', ['\\Seen'], { remove: ['\\SEEN'] }, []],
    ['remove wins over add', [], { add: ['$x'], remove: ['$x'] }, []],
    ['set replaces', ['\\Seen', '$a'], { set: ['\\Draft'] }, ['\\Draft']],
    ['set deduplicates', [], { set: ['$a', '$a'] }, ['$a']],
  ];
  for (const [name, current, change, out] of table) it(name, () => assert.deepEqual(applyFlags(current, change), out));
  it('refuses more than 64 flags', () => assert.throws(() => canonicalFlags(Array.from({ length: 65 }, (_, i) => `$k${i}`)), { code: 'bad_request' }));
  it('compares lists as sets', () => {
    assert.ok(sameFlags(['\\Seen', '$a'], ['$a', '\\Seen']));
    assert.ok(!sameFlags(['\\Seen'], ['\\Seen', '$a']));
  });
});

describe('partitionFlags', () => {
  const table: [string, string[], string[], string[]][] = [
    ['all good, canonical', ['\\seen', '$Label1'], ['\\Seen', '$Label1'], []],
    ['duplicates once', ['\\Seen', '\\SEEN', '$a', '$a'], ['\\Seen', '$a'], []],
    ['bad ones left off as given', ['\\Seen', 'a,b', '\\Recent', 'two words'], ['\\Seen'], ['a,b', '\\Recent', 'two words']],
    ['none', [], [], []],
  ];
  for (const [name, input, flags, ignored] of table) it(name, () => assert.deepEqual(partitionFlags(input), { flags, ignored }));
  it('keeps at most 64 flags', () => {
    const many = Array.from({ length: 70 }, (_, i) => `$k${i}`);
    assert.deepEqual(partitionFlags([...many, ...many]).flags, many.slice(0, 64));
  });
});
