import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { randomId } from './jws.ts';

describe('randomId', () => {
  it('is base64url of the asked length and never starts with a dash or underscore (a CLI would read a flag)', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 5000; i++) {
      const id = randomId(16);
      assert.match(id, /^[A-Za-z0-9][A-Za-z0-9_-]{21}$/);
      seen.add(id);
    }
    assert.equal(seen.size, 5000);
  });
});
