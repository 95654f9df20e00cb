import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { exportHeaders, statusFlags, takeExportHeaders } from './export-headers.ts';
import { maildirFlags, maildirFolder } from './maildir.ts';

describe('X-Pullmail-Folder and X-Pullmail-Flags', () => {
  it('are written in the message\'s own line ending and taken off again to the original bytes', () => {
    for (const raw of [Buffer.from('Subject: a\r\n\r\nhi\r\n'), Buffer.from('Subject: a\n\nhi\n')]) {
      const head = exportHeaders('Archive/2024 ü', ['\\Seen', '$Label1'], raw);
      const eol = raw.includes('\r\n') ? '\r\n' : '\n';
      assert.equal(head.toString(), `X-Pullmail-Folder: Archive/2024 ü${eol}X-Pullmail-Flags: \\Seen $Label1${eol}`);
      const taken = takeExportHeaders(Buffer.concat([head, raw]));
      assert.deepEqual(taken, { raw, folder: 'Archive/2024 ü', flags: ['\\Seen', '$Label1'] });
    }
  });

  it('fold a long flag list and unfold it', () => {
    const flags = Array.from({ length: 40 }, (_, i) => `$Keyword${i}`);
    const raw = Buffer.from('Subject: a\n\nx\n');
    const head = exportHeaders('INBOX', flags, raw);
    assert.ok(head.toString().split('\n').every((l) => l.length <= 78));
    assert.deepEqual(takeExportHeaders(Buffer.concat([head, raw])).flags, flags);
  });

  it('an empty flag list reads back as none; a message without the fields is left alone', () => {
    const raw = Buffer.from('Subject: a\n\nx\n');
    assert.deepEqual(takeExportHeaders(Buffer.concat([exportHeaders('Sent', [], raw), raw])), { raw, folder: 'Sent', flags: [] });
    assert.deepEqual(takeExportHeaders(raw), { raw });
  });

  it('only the fields on top are taken: the message\'s own X-Pullmail-Folder further down stays', () => {
    const raw = Buffer.from('X-Pullmail-Folder: mine\nSubject: a\n\nx\n');
    const taken = takeExportHeaders(Buffer.concat([exportHeaders('Sent', ['\\Seen'], raw), raw]));
    assert.deepEqual(taken.raw, raw);
  });

  it('round-trip any folder name and keywords (property)', () => {
    const keyword = fc.stringMatching(/^[A-Za-z$][A-Za-z0-9_.-]{0,20}$/);
    const folder = fc.string({ minLength: 1, maxLength: 40 }).map((s) => s.replace(/[\x00-\x1f\x7f]/g, 'x').trim() || 'f');
    fc.assert(fc.property(folder, fc.array(keyword, { maxLength: 50 }), fc.boolean(), (name, flags, crlf) => {
      const raw = Buffer.from(crlf ? 'A: b\r\n\r\nc\r\n' : 'A: b\n\nc\n');
      const taken = takeExportHeaders(Buffer.concat([exportHeaders(name, flags, raw), raw]));
      assert.deepEqual(taken, { raw, folder: name, flags });
    }));
  });

  it('Status and X-Status of other mbox writers give flags', () => {
    assert.deepEqual(statusFlags(Buffer.from('Status: RO\nX-Status: AF\nSubject: x\n\nStatus: D\n')), ['\\Seen', '\\Answered', '\\Flagged']);
    assert.deepEqual(statusFlags(Buffer.from('Subject: x\r\n\r\n')), []);
    // a Status line in the body is not a field
    assert.deepEqual(statusFlags(Buffer.from('Subject: x\r\n\r\nbody\n\nStatus: RO\n')), []);
  });
});

describe('Maildir names', () => {
  it('flags from the info suffix, keywords from dovecot-keywords', () => {
    const table: [string, string[]][] = [
      ['1700000000.M1P2.host:2,FRS', ['\\Flagged', '\\Answered', '\\Seen']],
      ['1700000000.M1P2.host:2,DT', ['\\Draft', '\\Deleted']],
      ['1700000000.M1P2.host:2,Pab', ['$Forwarded', '$Label1', 'Work']],
      // ';' and '!' stand for ':' where a file system refuses it
      ['1700000000.M1P2.host!2,S', ['\\Seen']],
      // new/ files have no info; experimental ":1," info carries no flags
      ['1700000000.M1P2.host', []],
      ['1700000000.M1P2.host:1,S', []],
      // a keyword letter with no keyword behind it is dropped
      ['x:2,Sz', ['\\Seen']],
    ];
    for (const [name, flags] of table) assert.deepEqual(maildirFlags(name, ['$Label1', 'Work']), flags, name);
  });

  it('Maildir++ folders', () => {
    assert.equal(maildirFolder('.Sent'), 'Sent');
    assert.equal(maildirFolder('.Archive.2024'), 'Archive/2024');
    assert.equal(maildirFolder('.Entw&APw-rfe'), 'Entwürfe');
    // not folders: cur/new/tmp, the directory itself, empty levels
    for (const name of ['cur', '.', '..', '.a..b', '.']) assert.equal(maildirFolder(name), undefined, name);
  });
});
