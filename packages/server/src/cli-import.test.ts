import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { progressLine } from './cli-import.ts';

describe('import progress line', () => {
  const counts = { added: 12, duplicates: 3, failed: 1 };
  it('a bar, the share done and the counts, within the terminal width', () => {
    const table: [{ done: number; total: number }, number, string][] = [
      [{ done: 0, total: 100 }, 80, `[${'.'.repeat(38)}]   0%  12 added  3 duplicates  1 failed`],
      [{ done: 50, total: 100 }, 80, `[${'#'.repeat(19)}${'.'.repeat(19)}]  50%  12 added  3 duplicates  1 failed`],
      // read ahead past the end: never more than 100%
      [{ done: 120, total: 100 }, 80, `[${'#'.repeat(38)}] 100%  12 added  3 duplicates  1 failed`],
      // a wide terminal: the bar stops at 40
      [{ done: 1, total: 3 }, 120, `[${'#'.repeat(13)}${'.'.repeat(27)}]  33%  12 added  3 duplicates  1 failed`],
      // a narrow terminal: a bar of 10 at least, the line cut to fit
      [{ done: 50, total: 100 }, 40, '[#####.....]  50%  12 added  3 duplicat'],
      // stdin: no total, only the counts
      [{ done: 5000, total: 0 }, 80, '12 added  3 duplicates  1 failed'],
    ];
    for (const [p, columns, line] of table) {
      const shown = progressLine({ ...p, unit: 'bytes' }, counts, columns);
      assert.ok(shown.length < columns, `${columns}: ${shown}`);
      assert.equal(shown, line);
    }
  });
});
