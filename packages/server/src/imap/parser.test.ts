import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ParseError, parseAuthLine, parseCommand, type Command } from './parser.ts';

const parse = (s: string | Buffer) => parseCommand(Buffer.isBuffer(s) ? s : Buffer.from(s, 'utf8'));

describe('IMAP command parser: accepted commands', () => {
  const cases: Array<[string, string, Partial<Command> & Record<string, unknown>]> = [
    ['simple command, case-insensitive name', 'a1 noop', { tag: 'a1', name: 'NOOP' }],
    ['LOGIN with atoms', 'a LOGIN alice@x.test secret', { name: 'LOGIN', user: 'alice@x.test', password: 'secret' }],
    ['LOGIN with quoted strings and escapes', 'a LOGIN "alice@x.test" "p\\"a\\\\ss"', { name: 'LOGIN', user: 'alice@x.test', password: 'p"a\\ss' }],
    ['LOGIN with a synchronizing literal', 'a LOGIN {5}\r\nalice {3}\r\npw!', { name: 'LOGIN', user: 'alice', password: 'pw!' }],
    ['LOGIN with a LITERAL+ literal', 'a LOGIN {5+}\r\nalice pw', { name: 'LOGIN', user: 'alice', password: 'pw' }],
    ['a literal may hold CRLF and quotes', 'a LOGIN u {4}\r\n"\r\n)', { name: 'LOGIN', user: 'u', password: '"\r\n)' }],
    ['AUTHENTICATE with SASL-IR', 'a AUTHENTICATE plain AGEAYg==', { name: 'AUTHENTICATE', mechanism: 'PLAIN', initial: 'AGEAYg==' }],
    ['AUTHENTICATE without initial response', 'a AUTHENTICATE PLAIN', { name: 'AUTHENTICATE', mechanism: 'PLAIN', initial: undefined }],
    ['SELECT with CONDSTORE', 'a SELECT INBOX (CONDSTORE)', { name: 'SELECT', mailbox: 'INBOX', condstore: true }],
    ['EXAMINE a quoted name', 'a EXAMINE "My Folder"', { name: 'EXAMINE', mailbox: 'My Folder', condstore: false }],
    ['LIST with wildcards', 'a LIST "" *', { name: 'LIST', reference: '', patterns: ['*'], selectSubscribed: false, selectSpecialUse: false }],
    ['LIST with % and a prefix', 'a LIST "" Archive/%', { name: 'LIST', patterns: ['Archive/%'] }],
    ['LIST-EXTENDED select and return options', 'a LIST (SPECIAL-USE) "" "*" RETURN (SPECIAL-USE)', { name: 'LIST', selectSpecialUse: true, patterns: ['*'] }],
    ['LSUB', 'a LSUB "" "*"', { name: 'LSUB', patterns: ['*'] }],
    ['STATUS items', 'a STATUS INBOX (MESSAGES UIDNEXT unseen HIGHESTMODSEQ)', { name: 'STATUS', mailbox: 'INBOX', items: ['MESSAGES', 'UIDNEXT', 'UNSEEN', 'HIGHESTMODSEQ'] }],
    ['RENAME', 'a RENAME old "new name"', { name: 'RENAME', from: 'old', to: 'new name' }],
    ['ID NIL', 'a ID NIL', { name: 'ID', params: null }],
    ['ID with pairs', 'a ID ("name" "imaplib" "version" NIL)', { name: 'ID', params: { name: 'imaplib', version: null } }],
    ['ENABLE', 'a ENABLE CONDSTORE utf8=accept', { name: 'ENABLE', capabilities: ['CONDSTORE', 'UTF8=ACCEPT'] }],
    ['UID EXPUNGE', 'a UID EXPUNGE 3:5,9', { name: 'UID EXPUNGE', set: [{ from: 3, to: 5 }, { from: 9, to: 9 }] }],
    ['COPY with *', 'a COPY 2:* Trash', { name: 'COPY', uid: false, set: [{ from: 2, to: '*' }], mailbox: 'Trash' }],
    ['UID MOVE', 'a uid move 1,4:7 Archive', { name: 'MOVE', uid: true, set: [{ from: 1, to: 1 }, { from: 4, to: 7 }], mailbox: 'Archive' }],
    ['STORE +FLAGS.SILENT with a list', 'a STORE 1:* +FLAGS.SILENT (\\seen $Label1)', { name: 'STORE', op: 'add', silent: true, flags: ['\\Seen', '$Label1'] }],
    ['STORE -FLAGS without parentheses', 'a STORE 1 -FLAGS \\Deleted \\Flagged', { name: 'STORE', op: 'remove', silent: false, flags: ['\\Deleted', '\\Flagged'] }],
    ['STORE FLAGS with UNCHANGEDSINCE', 'a UID STORE 5 (UNCHANGEDSINCE 12) FLAGS ()', { name: 'STORE', uid: true, op: 'set', flags: [], unchangedSince: 12 }],
    ['FETCH with CHANGEDSINCE', 'a FETCH 1:* (FLAGS) (CHANGEDSINCE 7)', { name: 'FETCH', changedSince: 7, items: [{ kind: 'FLAGS' }] }],
    ['APPEND with flags, date and a literal', 'a APPEND Sent (\\Seen) " 7-Feb-2026 10:00:00 +0100" {5}\r\nhello', { name: 'APPEND', mailbox: 'Sent', flags: ['\\Seen'], date: new Date(Date.UTC(2026, 1, 7, 9)), message: Buffer.from('hello') }],
    ['APPEND bare', 'a APPEND INBOX {2+}\r\nhi', { name: 'APPEND', mailbox: 'INBOX', flags: [], date: undefined, message: Buffer.from('hi') }],
  ];
  for (const [name, line, want] of cases) {
    it(name, () => {
      const got = parse(line) as unknown as Record<string, unknown>;
      for (const [k, v] of Object.entries(want)) assert.deepEqual(got[k], v, `${k} of ${line}`);
    });
  }
});

describe('IMAP command parser: FETCH items', () => {
  const cases: Array<[string, string, unknown[]]> = [
    ['macro ALL', 'ALL', [{ kind: 'FLAGS' }, { kind: 'INTERNALDATE' }, { kind: 'RFC822.SIZE' }, { kind: 'ENVELOPE' }]],
    ['macro FAST', 'fast', [{ kind: 'FLAGS' }, { kind: 'INTERNALDATE' }, { kind: 'RFC822.SIZE' }]],
    ['macro FULL has BODY', 'FULL', [{ kind: 'FLAGS' }, { kind: 'INTERNALDATE' }, { kind: 'RFC822.SIZE' }, { kind: 'ENVELOPE' }, { kind: 'BODY' }]],
    ['single item without parentheses', 'UID', [{ kind: 'UID' }]],
    ['plain items', '(UID MODSEQ RFC822 RFC822.HEADER RFC822.TEXT BODYSTRUCTURE)', [{ kind: 'UID' }, { kind: 'MODSEQ' }, { kind: 'RFC822' }, { kind: 'RFC822.HEADER' }, { kind: 'RFC822.TEXT' }, { kind: 'BODYSTRUCTURE' }]],
    ['BODY[] whole message', 'BODY[]', [{ kind: 'BODY[]', peek: false, section: { part: [] }, partial: undefined }]],
    ['BODY.PEEK[HEADER] with partial', 'BODY.PEEK[HEADER]<0.1024>', [{ kind: 'BODY[]', peek: true, section: { part: [], text: 'HEADER' }, partial: { start: 0, length: 1024 } }]],
    ['part number', 'BODY[1.2]', [{ kind: 'BODY[]', peek: false, section: { part: [1, 2] }, partial: undefined }]],
    ['part MIME header', 'BODY[2.MIME]', [{ kind: 'BODY[]', peek: false, section: { part: [2], text: 'MIME' }, partial: undefined }]],
    ['part TEXT of an attached message', 'BODY.PEEK[3.TEXT]', [{ kind: 'BODY[]', peek: true, section: { part: [3], text: 'TEXT' }, partial: undefined }]],
    ['HEADER.FIELDS, names uppercased', 'BODY.PEEK[HEADER.FIELDS (From "Subject" date)]', [{ kind: 'BODY[]', peek: true, section: { part: [], text: 'HEADER.FIELDS', fields: ['FROM', 'SUBJECT', 'DATE'] }, partial: undefined }]],
    ['HEADER.FIELDS.NOT on a part', 'BODY[1.HEADER.FIELDS.NOT (X-Spam)]', [{ kind: 'BODY[]', peek: false, section: { part: [1], text: 'HEADER.FIELDS.NOT', fields: ['X-SPAM'] }, partial: undefined }]],
  ];
  for (const [name, items, want] of cases) {
    it(name, () => {
      const got = parse(`a FETCH 1 ${items}`);
      assert.equal(got.name, 'FETCH');
      assert.deepEqual((got as Extract<Command, { name: 'FETCH' }>).items, want);
    });
  }
});

describe('IMAP command parser: SEARCH keys', () => {
  const day = (y: number, m: number, d: number) => Date.UTC(y, m - 1, d);
  const cases: Array<[string, string, unknown]> = [
    ['ALL', 'ALL', { op: 'all' }],
    ['flags and their negations', 'SEEN UNANSWERED', { op: 'and', keys: [{ op: 'flag', flag: '\\Seen', set: true }, { op: 'flag', flag: '\\Answered', set: false }] }],
    ['keywords', 'KEYWORD $Fetched UNKEYWORD Junk', { op: 'and', keys: [{ op: 'flag', flag: '$Fetched', set: true }, { op: 'flag', flag: 'Junk', set: false }] }],
    ['no \\Recent is kept: NEW and RECENT match nothing, OLD everything', 'NEW', { op: 'none' }],
    ['OLD', 'OLD', { op: 'all' }],
    ['header keys', 'FROM alice SUBJECT "hello world"', { op: 'and', keys: [{ op: 'header', field: 'FROM', value: 'alice' }, { op: 'header', field: 'SUBJECT', value: 'hello world' }] }],
    ['HEADER with a field', 'HEADER Message-ID "<x@y>"', { op: 'header', field: 'MESSAGE-ID', value: '<x@y>' }],
    ['BODY and TEXT', 'BODY foo TEXT {3}\r\nbar', { op: 'and', keys: [{ op: 'body', value: 'foo' }, { op: 'text', value: 'bar' }] }],
    ['dates', 'SINCE 1-Feb-2026 SENTBEFORE "15-mar-2026"', { op: 'and', keys: [{ op: 'date', which: 'internal', cmp: 'since', day: day(2026, 2, 1) }, { op: 'date', which: 'sent', cmp: 'before', day: day(2026, 3, 15) }] }],
    ['sizes', 'LARGER 100 SMALLER 5000', { op: 'and', keys: [{ op: 'size', cmp: 'larger', size: 100 }, { op: 'size', cmp: 'smaller', size: 5000 }] }],
    ['sequence and uid sets', '1:3 UID 10:*', { op: 'and', keys: [{ op: 'seq', set: [{ from: 1, to: 3 }] }, { op: 'uid', set: [{ from: 10, to: '*' }] }] }],
    ['NOT and OR', 'NOT OR SEEN FLAGGED', { op: 'not', key: { op: 'or', a: { op: 'flag', flag: '\\Seen', set: true }, b: { op: 'flag', flag: '\\Flagged', set: true } } }],
    ['parenthesized group', '(DELETED DRAFT)', { op: 'and', keys: [{ op: 'flag', flag: '\\Deleted', set: true }, { op: 'flag', flag: '\\Draft', set: true }] }],
    ['MODSEQ', 'MODSEQ 42', { op: 'modseq', modseq: 42 }],
    ['MODSEQ with an entry name', 'MODSEQ "/flags/\\\\draft" all 620162338', { op: 'modseq', modseq: 620162338 }],
  ];
  for (const [name, keys, want] of cases) {
    it(name, () => {
      const got = parse(`a UID SEARCH ${keys}`) as Extract<Command, { name: 'SEARCH' }>;
      assert.equal(got.uid, true);
      assert.deepEqual(got.key, want);
    });
  }
  it('CHARSET is kept for the session to check', () => {
    const got = parse('a SEARCH CHARSET UTF-8 TEXT x') as Extract<Command, { name: 'SEARCH' }>;
    assert.equal(got.charset, 'UTF-8');
    assert.deepEqual(got.key, { op: 'text', value: 'x' });
  });
});

describe('IMAP command parser: refused input', () => {
  const cases: Array<[string, string | Buffer, string | undefined]> = [
    ['empty line', '', undefined],
    ['tag only', 'a1', 'a1'],
    ['unknown command', 'a1 FROB', 'a1'],
    ['a tag may not contain +', 'a+ NOOP', undefined],
    ['trailing garbage', 'a NOOP x', 'a'],
    ['double space', 'a LOGIN  u p', 'a'],
    ['unterminated quoted string', 'a LOGIN "u p', 'a'],
    ['bad escape in quoted string', 'a LOGIN "u\\x" p', 'a'],
    ['literal shorter than announced', 'a LOGIN {10}\r\nabc', 'a'],
    ['literal size without CRLF', 'a LOGIN {3}abc p', 'a'],
    ['sequence number 0', 'a FETCH 0 FLAGS', 'a'],
    ['empty sequence set', 'a FETCH , FLAGS', 'a'],
    ['unknown fetch item', 'a FETCH 1 (FLAGS BOGUS)', 'a'],
    ['MIME needs a part', 'a FETCH 1 BODY[MIME]', 'a'],
    ['empty HEADER.FIELDS list', 'a FETCH 1 BODY[HEADER.FIELDS ()]', 'a'],
    ['unknown section text', 'a FETCH 1 BODY[1.FOO]', 'a'],
    ['part number 0', 'a FETCH 1 BODY[0]', 'a'],
    ['partial with zero length', 'a FETCH 1 BODY[]<0.0>', 'a'],
    ['STORE without an operation', 'a STORE 1 (\\Seen)', 'a'],
    ['unknown search key', 'a SEARCH FOO', 'a'],
    ['bad date', 'a SEARCH SINCE 31-Foo-2026', 'a'],
    ['unbalanced parentheses', 'a SEARCH (SEEN', 'a'],
    ['search nested past the depth cap', `a SEARCH ${'NOT '.repeat(40)}SEEN`, 'a'],
    ['APPEND without a literal', 'a APPEND INBOX "hello"', 'a'],
    ['APPEND with a bad date-time', 'a APPEND INBOX "yesterday" {1}\r\nx', 'a'],
    ['odd ID list', 'a ID ("name")', 'a'],
    ['unknown SELECT parameter', 'a SELECT INBOX (QRESYNC (1 2))', 'a'],
    ['number beyond 2^53', 'a FETCH 99999999999999999999 FLAGS', 'a'],
    ['8-bit bytes in an atom', Buffer.from([0x61, 0x20, 0x4c, 0x4f, 0x47, 0x49, 0x4e, 0x20, 0xc3, 0xa9, 0x20, 0x70]), 'a'],
  ];
  for (const [name, line, tag] of cases) {
    it(name, () => {
      assert.throws(() => parse(line), (err: unknown) => err instanceof ParseError && err.tag === tag);
    });
  }
});

describe('IMAP AUTHENTICATE response lines', () => {
  it('decodes base64 and recognises cancel', () => {
    assert.deepEqual(parseAuthLine(Buffer.from('AGEAYg==')), { cancel: false, data: Buffer.from('\0a\0b') });
    assert.deepEqual(parseAuthLine(Buffer.from('*')), { cancel: true });
    assert.throws(() => parseAuthLine(Buffer.from('not base64!')), ParseError);
  });
});

describe('IMAP command parser: property', () => {
  const fragments = ['a', ' ', '(', ')', '"', '\\', '{', '}', '{3}\r\n', '{2+}\r\n', '[', ']', '<', '>', '.', ':', '*', '%', ',', '1', '0', '\r\n', 'UID', 'FETCH', 'SEARCH', 'STORE', 'BODY', 'BODY.PEEK[', 'HEADER.FIELDS', 'NOT', 'OR', 'LOGIN', 'APPEND', 'FLAGS', '+FLAGS', 'LIST', 'SELECT', '\u00e9', '\0'];
  it('throws nothing but ParseError on arbitrary input', () => {
    const check = (input: Buffer) => {
      try {
        parseCommand(input);
      } catch (err) {
        if (!(err instanceof ParseError)) throw err;
      }
    };
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => check(Buffer.from(bytes))), { numRuns: 3000 });
    // command-shaped input reaches deeper into the grammar than random bytes do
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...fragments), { maxLength: 40 }), (parts) => check(Buffer.from(`t ${parts.join('')}`, 'utf8'))),
      { numRuns: 5000 },
    );
  });
  it('reads back any LOGIN credentials it is given as literals', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 50 }), fc.string({ maxLength: 50 }), (user, password) => {
        const u = Buffer.from(user);
        const p = Buffer.from(password);
        const line = Buffer.concat([Buffer.from(`x LOGIN {${u.length}+}\r\n`), u, Buffer.from(` {${p.length}}\r\n`), p]);
        const got = parseCommand(line);
        assert.deepEqual(got, { name: 'LOGIN', user, password, tag: 'x' });
      }),
    );
  });
});
