// The MIME writer of `send --attach`: header encodings as tables, and whole messages read back by a
// MIME parser (mailparser, as the node uses) with files that span several read slices.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { simpleParser } from 'mailparser';
import { base64Lines, encodeWords, mimeParam, mimeStream, type MimeMessage } from './mime.ts';

describe('encodeWords', () => {
  const cases: [string, string][] = [
    ['Report', 'Report'],
    ['', ''],
    ['Grüße', '=?UTF-8?B?R3LDvMOfZQ==?='],
    // a line break in a subject is encoded, never a new header line
    ['a\r\nBcc: x@y.test', '=?UTF-8?B?YQ0KQmNjOiB4QHkudGVzdA==?='],
  ];
  for (const [input, want] of cases) it(`${JSON.stringify(input)} → ${want || '""'}`, () => assert.equal(encodeWords(input), want));

  it('splits a long value into words of at most 75 characters without cutting a character', () => {
    const value = 'ü'.repeat(100);
    const words = encodeWords(value).split('\r\n ');
    assert.ok(words.length > 1);
    for (const w of words) assert.ok(w.length <= 75, w);
    assert.equal(words.map((w) => Buffer.from(w.slice(10, -2), 'base64').toString('utf8')).join(''), value);
  });
});

describe('mimeParam', () => {
  const cases: [string, string, string][] = [
    ['filename', 'report.pdf', 'filename="report.pdf"'],
    ['name', 'Überblick 1.pdf', "name*=UTF-8''%C3%9Cberblick%201.pdf"],
    ['filename', 'a"b.txt', "filename*=UTF-8''a%22b.txt"],
  ];
  for (const [name, value, want] of cases) it(`${value} → ${want}`, () => assert.equal(mimeParam(name, value), want));
});

describe('base64Lines', () => {
  it('writes lines of 76 characters, each ending in CRLF', () => {
    const out = base64Lines(randomBytes(200));
    const lines = out.split('\r\n');
    assert.equal(lines.pop(), '');
    assert.deepEqual(lines.map((l) => l.length), [76, 76, 76, 40]);
  });
  it('writes nothing for no bytes', () => assert.equal(base64Lines(new Uint8Array(0)), ''));
});

describe('mimeStream', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pm-mime-'));
  const collect = async (m: MimeMessage) => {
    const chunks: Buffer[] = [];
    for await (const c of mimeStream(m)) chunks.push(Buffer.from(c));
    return Buffer.concat(chunks);
  };

  it('text and HTML as alternatives, then attachments with their exact bytes', async () => {
    // 57 KiB slices: sizes across slice and line boundaries, and an empty file
    const files = [randomBytes(57 * 1024 * 3 + 5), randomBytes(56), Buffer.alloc(0)];
    const names = ['big.bin', 'Überblick.pdf', 'empty.txt'];
    files.forEach((f, i) => writeFileSync(join(dir, names[i]), f));
    const raw = await collect({
      from: 'alice@a.test',
      to: ['bob@b.test', 'carol@c.test'],
      cc: ['dan@d.test'],
      bcc: ['eve@e.test'],
      subject: 'Grüße',
      text: 'Hello\nworld\n',
      html: '<p>Hello</p>',
      attachments: names.map((n, i) => ({ filename: n, contentType: ['application/octet-stream', 'application/pdf', 'text/plain'][i], path: join(dir, n) })),
    });
    assert.doesNotMatch(raw.toString('latin1'), /\r(?!\n)|(?<!\r)\n/, 'every line ends in CRLF');
    const m = await simpleParser(raw);
    assert.equal(m.from?.text, 'alice@a.test');
    assert.deepEqual([m.to, m.cc, m.bcc].map((a) => (Array.isArray(a) ? a : [a]).flatMap((x) => x?.value.map((v) => v.address))), [['bob@b.test', 'carol@c.test'], ['dan@d.test'], ['eve@e.test']]);
    assert.equal(m.subject, 'Grüße');
    assert.equal(m.text, 'Hello\nworld\n');
    assert.equal(m.html, '<p>Hello</p>');
    assert.deepEqual(m.attachments.map((a) => [a.filename, a.contentType]), [['big.bin', 'application/octet-stream'], ['Überblick.pdf', 'application/pdf'], ['empty.txt', 'text/plain']]);
    m.attachments.forEach((a, i) => assert.ok(a.content.equals(files[i]), names[i]));
  });

  it('an HTML body alone', async () => {
    writeFileSync(join(dir, 'a.txt'), 'x');
    const m = await simpleParser(await collect({ from: 'a@a.test', to: ['b@b.test'], subject: 'S', html: '<b>hi</b>', attachments: [{ filename: 'a.txt', contentType: 'text/plain', path: join(dir, 'a.txt') }] }));
    assert.equal(m.html, '<b>hi</b>');
    assert.equal(m.attachments[0].content.toString(), 'x');
  });

  it('a file that cannot be read makes the stream throw', async () => {
    await assert.rejects(collect({ from: 'a@a.test', to: ['b@b.test'], subject: 'S', text: 't', attachments: [{ filename: 'gone', contentType: 'text/plain', path: join(dir, 'gone') }] }), { code: 'ENOENT' });
  });
});
