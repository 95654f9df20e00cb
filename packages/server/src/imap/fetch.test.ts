import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fetchRuns, type RunLimits } from './fetch.ts';

describe('fetchRuns: how a FETCH reads its messages', () => {
  const limits: RunLimits = { messages: 3, bytes: 100, streamOver: 60 };
  // [seq, uid] pairs with uid = 10 × seq; sizes by uid
  const t = (...seqs: number[]): [number, number][] => seqs.map((s) => [s, s * 10]);
  const table: { name: string; sizes: number[]; streamable: boolean; want: { seqs: number[]; stream: boolean }[] }[] = [
    { name: 'nothing', sizes: [], streamable: false, want: [] },
    { name: 'runs of at most `messages`', sizes: [1, 1, 1, 1, 1, 1, 1], streamable: false, want: [{ seqs: [1, 2, 3], stream: false }, { seqs: [4, 5, 6], stream: false }, { seqs: [7], stream: false }] },
    { name: 'a run ends before it would pass `bytes`', sizes: [40, 40, 30, 50], streamable: false, want: [{ seqs: [1, 2], stream: false }, { seqs: [3, 4], stream: false }] },
    { name: 'a message over `bytes` is read alone when it cannot be streamed', sizes: [10, 500, 10], streamable: false, want: [{ seqs: [1], stream: false }, { seqs: [2], stream: false }, { seqs: [3], stream: false }] },
    { name: 'a large message asked for whole is streamed alone, the run around it split', sizes: [10, 61, 10, 10], streamable: true, want: [{ seqs: [1], stream: false }, { seqs: [2], stream: true }, { seqs: [3, 4], stream: false }] },
    { name: 'exactly `streamOver` is read, not streamed', sizes: [60, 10], streamable: true, want: [{ seqs: [1, 2], stream: false }] },
  ];
  for (const row of table) {
    it(row.name, () => {
      const targets = t(...row.sizes.map((_, i) => i + 1));
      const size = new Map(targets.map(([, uid], i) => [uid, row.sizes[i]]));
      const runs = fetchRuns(targets, (uid) => size.get(uid)!, row.streamable, limits);
      assert.deepEqual(runs.map((r) => ({ seqs: r.targets.map(([s]) => s), stream: r.stream })), row.want);
    });
  }
});
