// Formatting for people: tables aligned by visible width (colour codes do not count), sizes, times.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatSize, formatTime, Output, paint, truncate, visibleLength, wantsColor } from './output.ts';

function capture(color: boolean): { out: Output; text: () => string } {
  let text = '';
  const sink = { write: (s: string | Uint8Array) => (text += String(s)) };
  return { out: new Output({ stdout: sink, stderr: sink, json: false, color }), text: () => text };
}

describe('Output.table', () => {
  it('pads columns to the widest cell and trims the line end', () => {
    const { out, text } = capture(false);
    out.table(['ID', 'STATE'], [['a', 'fetched'], ['bbbb', 'held']]);
    assert.equal(text(), 'ID    STATE\na     fetched\nbbbb  held\n');
  });

  it('aligns coloured cells by what is visible', () => {
    const { out, text } = capture(true);
    out.table(['A', 'B'], [[out.state('fetched'), 'x'], ['held-long', 'y']]);
    const lines = text().split('\n').map((l) => l.replace(/\x1b\[[0-9;]*m/g, ''));
    assert.equal(lines[1], 'fetched    x');
    assert.equal(lines[2], 'held-long  y');
  });
});

describe('formatting helpers', () => {
  const sizes: [number, string][] = [[0, '0 B'], [999, '999 B'], [1000, '1.0 kB'], [1234, '1.2 kB'], [2_500_000, '2.5 MB']];
  for (const [n, s] of sizes) it(`formatSize(${n}) = ${s}`, () => assert.equal(formatSize(n), s));
  it('formatTime prints local minutes and passes odd input through', () => {
    assert.match(formatTime('2025-03-04T05:06:07Z'), /^\d{4}-\d\d-\d\d \d\d:\d\d$/);
    assert.equal(formatTime('yesterday'), 'yesterday');
    assert.equal(formatTime(undefined), '');
  });
  it('truncate counts characters, not UTF-16 units', () => {
    assert.equal(truncate('héllo wörld', 6), 'héllo…');
    assert.equal(truncate('short', 6), 'short');
    assert.equal(visibleLength(paint(true).red('📬x')), 2);
  });
  it('wantsColor: a terminal yes, a pipe no, NO_COLOR never, FORCE_COLOR always', () => {
    assert.equal(wantsColor({ write: () => 0, isTTY: true }, {}), true);
    assert.equal(wantsColor({ write: () => 0 }, {}), false);
    assert.equal(wantsColor({ write: () => 0, isTTY: true }, { NO_COLOR: '1' }), false);
    assert.equal(wantsColor({ write: () => 0, isTTY: true }, { TERM: 'dumb' }), false);
    assert.equal(wantsColor({ write: () => 0 }, { FORCE_COLOR: '1' }), true);
    assert.equal(wantsColor({ write: () => 0 }, { FORCE_COLOR: '0' }), false);
  });
});
