import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { mboxrdBody, postmarkDate, postmarkLine, readMbox, type MboxItem } from './mbox.ts';

async function* chunksOf(buf: Buffer, sizes: number[]): AsyncGenerator<Buffer> {
  let at = 0;
  for (let i = 0; at < buf.length; i++) {
    const n = Math.max(1, sizes.length ? sizes[i % sizes.length] : buf.length);
    yield buf.subarray(at, at + n);
    at += n;
  }
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

async function writeMbox(messages: Buffer[], sizes: number[] = []): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (const m of messages) {
    parts.push(Buffer.from(postmarkLine('a@x.test', new Date('2026-12-02T05:45:26Z'))));
    parts.push(...(await collect(mboxrdBody(chunksOf(m, sizes)))));
  }
  return Buffer.concat(parts);
}

const read = async (file: Buffer, sizes: number[] = [], maxMessageBytes = 1 << 20): Promise<MboxItem[]> => collect(readMbox(chunksOf(file, sizes), { maxMessageBytes }));
const raws = (items: MboxItem[]) => items.map((i) => (i.kind === 'message' ? i.raw.toString('latin1') : `FAILED ${i.reason}`));

describe('mboxrd', () => {
  it('writes the postmark in asctime form and reads its date back', () => {
    const line = postmarkLine('a@x.test', new Date('2026-12-02T05:45:26Z'));
    assert.equal(line, 'From a@x.test Wed Dec  2 05:45:26 2026\n');
    assert.equal(postmarkDate(line)?.toISOString(), '2026-12-02T05:45:26.000Z');
    // Gmail's takeout writes a zone before the year
    assert.equal(postmarkDate('From 123@xxx Sat Jan 03 01:05:34 +0100 2015')?.toISOString(), '2015-01-03T00:05:34.000Z');
    // a sender with a space would read back as two words
    assert.match(postmarkLine('a b@x', new Date(0)), /^From MAILER-DAEMON Thu Jan  1 00:00:00 1970\n$/);
  });

  it('quotes From lines (and already quoted ones) and unquotes them on reading', async () => {
    const m = Buffer.from('Subject: x\r\n\r\nFrom here\r\n>From there\r\n>>From far\r\nFromage\r\n');
    const file = await writeMbox([m]);
    assert.match(file.toString(), /\n>From here\r\n>>From there\r\n>>>From far\r\nFromage\r\n\n$/);
    assert.deepEqual(raws(await read(file)), [m.toString('latin1')]);
  });

  it('reads mboxo from other writers: unquoted From inside a paragraph stays, a blank line then From splits', async () => {
    const file = Buffer.from('From a Mon Jan  1 00:00:00 2024\nSubject: 1\n\nline\nFrom me, hello\n\nFrom b Mon Jan  1 00:00:00 2024\nSubject: 2\n\nbody\n');
    assert.deepEqual(raws(await read(file)), ['Subject: 1\n\nline\nFrom me, hello\n', 'Subject: 2\n\nbody\n']);
  });

  it('a postmark without a blank line before it still starts a message', async () => {
    const file = Buffer.from('From a Mon Jan  1 00:00:00 2024\nSubject: 1\n\nx\nFrom b Tue Jan  2 00:00:00 2024\nSubject: 2\n\ny\n');
    assert.deepEqual(raws(await read(file)), ['Subject: 1\n\nx\n', 'Subject: 2\n\ny\n']);
  });

  it('reports text before the first From line and a message over the limit, and reads on', async () => {
    const big = `From b Mon Jan  1 00:00:00 2024\nSubject: big\n\n${'x'.repeat(2000)}\n\n`;
    const file = Buffer.from(`Subject: not mbox\n\nstray\n\n${big}From c Mon Jan  1 00:00:00 2024\nSubject: ok\n\nfine\n\n`);
    const items = await read(file, [7], 1000);
    assert.equal(items.length, 3);
    assert.deepEqual(items.map((i) => i.kind), ['failed', 'failed', 'message']);
    assert.equal(items[0].offset, 0);
    assert.equal(items[1].offset, file.indexOf('From b'));
    assert.match((items[1] as { reason: string }).reason, /larger than 1000 bytes/);
    assert.equal(items[2].offset, file.indexOf('From c'));
  });

  it('a line longer than what is held whole goes through unchanged', async () => {
    const m = Buffer.from(`Subject: long\n\n${'y'.repeat(200_000)}\nFrom x\n`);
    assert.deepEqual(raws(await read(await writeMbox([m]), [5000])), [m.toString('latin1')]);
  });

  it('round-trips any messages, cut into any chunks (property)', async () => {
    const line = fc.oneof(
      fc.constantFrom('From ', '>From x', '>>From y', 'From a Mon Jan  1 00:00:00 2024', '', '\r', 'Fro', '>', 'F'),
      fc.string({ maxLength: 20 }),
    );
    const eol = fc.constantFrom('\n', '\r\n');
    const message = fc.array(fc.tuple(line, eol), { minLength: 1, maxLength: 12 }).map((ls) => Buffer.from(`Subject: t\n${ls.map(([l, e]) => l.replace(/[\r\n]/g, '') + e).join('')}`, 'utf8'));
    await fc.assert(fc.asyncProperty(fc.array(message, { minLength: 1, maxLength: 5 }), fc.array(fc.integer({ min: 1, max: 40 }), { maxLength: 5 }), fc.array(fc.integer({ min: 1, max: 40 }), { maxLength: 5 }), async (messages, writeSizes, readSizes) => {
      const file = await writeMbox(messages, writeSizes);
      const items = await read(file, readSizes);
      assert.deepEqual(raws(items), messages.map((m) => m.toString('latin1')));
    }), { numRuns: 300 });
  });

  it('a message not ending in a line break gains one, nothing else (property)', async () => {
    await fc.assert(fc.asyncProperty(fc.string({ minLength: 1, maxLength: 60 }).filter((s) => !s.endsWith('\n')), async (tail) => {
      const m = Buffer.from(`Subject: t\n\n${tail}`);
      const items = await read(await writeMbox([m]));
      assert.deepEqual(raws(items), [`${m.toString('latin1')}\n`]);
    }), { numRuns: 100 });
  });

  it('never throws on arbitrary bytes and accounts for every postmark (property)', async () => {
    await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 400 }), fc.integer({ min: 1, max: 50 }), async (bytes, size) => {
      const items = await read(Buffer.from(bytes), [size], 100);
      for (const i of items) assert.ok(i.offset >= 0 && i.offset <= bytes.length);
    }), { numRuns: 300 });
  });
});
