import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isStorableText, storableText } from './text.ts';

describe('storableText', () => {
  it('replaces what PostgreSQL text cannot hold with U+FFFD and keeps everything else', () => {
    const cases: [string, string][] = [
      ['plain', 'plain'],
      ['', ''],
      ['caf\u00e9 \u{1F44B}', 'caf\u00e9 \u{1F44B}'],
      ['a\u0000b', 'a\uFFFDb'],
      ['\u0000\u0000', '\uFFFD\uFFFD'],
      ['lone high \uD800 here', 'lone high \uFFFD here'],
      ['lone low \uDFFF', 'lone low \uFFFD'],
      ['pair split \u{1F44B}'.slice(0, -1), 'pair split \uFFFD'],
      ['tab\tand\x7f stay', 'tab\tand\x7f stay'],
    ];
    for (const [input, want] of cases) {
      assert.equal(storableText(input), want, JSON.stringify(input));
      assert.equal(isStorableText(input), input === want, JSON.stringify(input));
    }
  });
});
