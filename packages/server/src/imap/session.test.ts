import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { OutPart } from './encode.ts';
import { RUN_LIMITS } from './fetch.ts';
import { createMemoryBackend } from './memory-backend.ts';
import { createSession, type SessionLogin } from './session.ts';

const MSG = (subject: string, body = 'hello') => `From: alice@x.test\r\nTo: bob@y.test\r\nSubject: ${subject}\r\nMessage-ID: <${subject}@x.test>\r\n\r\n${body}\r\n`;

/** A session with its output collected as text; `send` returns what one command produced. */
function connect(backend = createMemoryBackend(), users: Record<string, string> = { 'bob@y.test': 'pw', 'eve@y.test': 'pw2' }, grant?: Omit<SessionLogin, 'user'>) {
  let out = '';
  let closed = false;
  const session = createSession({
    backend,
    login: async (user, password) => (users[user] === password ? { user, ...grant } : undefined),
    write: async (parts: OutPart[]) => {
      for (const p of parts) {
        if (typeof p === 'string') out += p;
        else if (Buffer.isBuffer(p)) out += p.toString('utf8');
        else for await (const chunk of p.stream) out += (chunk as Buffer).toString('utf8');
      }
    },
    close: () => {
      closed = true;
    },
    now: () => new Date(Date.UTC(2026, 11, 2, 0, 0, 0)),
  });
  const take = () => {
    const got = out;
    out = '';
    return got;
  };
  return {
    backend,
    session,
    take,
    get closed() {
      return closed;
    },
    async send(line: string) {
      await session.receive(Buffer.from(line, 'utf8'));
      return take();
    },
    async login(user = 'bob@y.test', password = 'pw') {
      await session.start();
      take();
      const got = await this.send(`l LOGIN ${user} ${password}`);
      assert.match(got, /^l OK/m);
    },
  };
}

describe('IMAP session: not authenticated', () => {
  it('greets with its capabilities and refuses mail commands before login', async () => {
    const c = connect();
    await c.session.start();
    assert.match(c.take(), /^\* OK \[CAPABILITY IMAP4rev1 .*IDLE.*UIDPLUS.*MOVE.*SPECIAL-USE.*CONDSTORE.*AUTH=PLAIN\] /);
    assert.match(await c.send('a SELECT INBOX'), /^a BAD Log in first/);
    assert.match(await c.send('b LIST "" *'), /^b BAD/);
  });
  it('answers a parse error with BAD and the tag', async () => {
    const c = connect();
    assert.equal(await c.send('x7 FETCH'), 'x7 BAD Expected a space\r\n');
    assert.match(await c.send('((('), /^\* BAD/);
  });
  it('refuses a wrong password and says BYE after three', async () => {
    const c = connect();
    for (let i = 0; i < 2; i++) assert.match(await c.send(`a${i} LOGIN bob@y.test nope`), /^a\d NO \[AUTHENTICATIONFAILED\]/);
    assert.match(await c.send('a3 LOGIN bob@y.test nope'), /a3 NO \[AUTHENTICATIONFAILED\].*\r\n\* BYE Too many failed logins/);
    assert.equal(c.closed, true);
  });
  it('AUTHENTICATE PLAIN with an initial response and with a continuation', async () => {
    const c = connect();
    const plain = Buffer.from('\0bob@y.test\0pw').toString('base64');
    assert.match(await c.send(`a AUTHENTICATE PLAIN ${plain}`), /^a OK \[CAPABILITY /);
    const d = connect();
    assert.equal(await d.send('b AUTHENTICATE PLAIN'), '+ \r\n');
    assert.match(await d.send(plain), /^b OK /);
    const e = connect();
    await e.send('c AUTHENTICATE PLAIN');
    assert.match(await e.send('*'), /^c BAD Authentication cancelled/);
    // another user named as authorization identity: no proxy logins
    const f = connect();
    assert.match(await f.send(`d AUTHENTICATE PLAIN ${Buffer.from('eve@y.test\0bob@y.test\0pw').toString('base64')}`), /^d NO/);
  });
  it('LOGOUT says BYE, answers OK and closes', async () => {
    const c = connect();
    assert.equal(await c.send('z LOGOUT'), '* BYE Logging out\r\nz OK LOGOUT completed\r\n');
    assert.equal(c.closed, true);
  });
});

describe('IMAP session: folders', () => {
  it('lists the default folders with special-use attributes', async () => {
    const c = connect();
    await c.login();
    const got = await c.send('a LIST "" "*"');
    for (const line of ['(\\HasNoChildren) "/" "INBOX"', '(\\HasNoChildren \\Sent) "/" "Sent"', '(\\HasNoChildren \\Trash) "/" "Trash"', '(\\HasNoChildren \\Junk) "/" "Junk"', '(\\HasNoChildren \\Archive) "/" "Archive"', '(\\HasNoChildren \\Drafts) "/" "Drafts"', '(\\HasNoChildren) "/" "Requests"']) {
      assert.ok(got.includes(`* LIST ${line}\r\n`), `${line} in\n${got}`);
    }
    assert.match(await c.send('b LIST "" ""'), /^\* LIST \(\\Noselect\) "\/" ""\r\nb OK/);
    const special = await c.send('c LIST (SPECIAL-USE) "" "*"');
    assert.ok(!special.includes('"INBOX"') && special.includes('\\Sent'));
  });
  it('creates nested folders, lists them with % and renames and deletes them', async () => {
    const c = connect();
    await c.login();
    assert.match(await c.send('a CREATE Projects/2026/Q4'), /^a OK/);
    assert.match(await c.send('b CREATE Projects'), /^b NO \[ALREADYEXISTS\]/);
    assert.equal(await c.send('c LIST "" Projects/%'), '* LIST (\\HasChildren) "/" "Projects/2026"\r\nc OK LIST completed\r\n');
    assert.match(await c.send('d RENAME Projects Work'), /^d OK/);
    const after = await c.send('e LIST "" *');
    assert.ok(after.includes('"Work/2026/Q4"') && !after.includes('Projects'));
    assert.match(await c.send('f DELETE Work/2026/Q4'), /^f OK/);
    assert.match(await c.send('g DELETE INBOX'), /^g NO \[CANNOT\]/);
    assert.match(await c.send('h DELETE Nowhere'), /^h NO \[NONEXISTENT\]/);
  });
  it('LIST wildcards: * crosses levels, % does not, INBOX in any case; hostile patterns stay cheap', async () => {
    const c = connect();
    await c.login();
    await c.send('a CREATE Archive/2025/Jan');
    const names = async (pattern: string) => [...(await c.send(`l LIST "" "${pattern}"`)).matchAll(/"\/" "([^"]*)"/g)].map((m) => m[1]);
    assert.deepEqual(await names('Archive/*'), ['Archive/2025', 'Archive/2025/Jan']);
    assert.deepEqual(await names('Archive/%'), ['Archive/2025']);
    assert.deepEqual(await names('%/%/J%'), ['Archive/2025/Jan']);
    assert.deepEqual(await names('*r*h*'), ['Archive', 'Archive/2025', 'Archive/2025/Jan', 'Trash']);
    assert.deepEqual(await names('inBox'), ['INBOX']);
    assert.deepEqual(await names('J_nk'), []);
    const started = Date.now();
    assert.deepEqual(await names(`${'*a'.repeat(250)}b`), []);
    assert.ok(Date.now() - started < 2000, 'a pattern full of wildcards is answered quickly');
    assert.match(await c.send(`m LIST "" "${'*'.repeat(600)}x"`), /^m BAD Pattern too long/);
  });
  it('encodes non-ASCII names in modified UTF-7 both ways', async () => {
    const c = connect();
    await c.login();
    assert.match(await c.send('a CREATE Entw&APw-rfe'), /^a OK/);
    assert.ok((await c.send('b LIST "" *')).includes('"Entw&APw-rfe"'));
    assert.ok((await c.backend.account('bob@y.test').listFolders()).some((f) => f.name === 'Entwürfe'));
  });
  it('SUBSCRIBE and LSUB, STATUS', async () => {
    const c = connect();
    await c.login();
    await c.send('a UNSUBSCRIBE Junk');
    const lsub = await c.send('b LSUB "" *');
    assert.ok(!lsub.includes('Junk') && lsub.includes('"Sent"'));
    await c.send(`c APPEND INBOX {${MSG('one').length}+}\r\n${MSG('one')}`);
    assert.match(await c.send('d STATUS INBOX (MESSAGES UNSEEN UIDNEXT UIDVALIDITY HIGHESTMODSEQ)'), /^\* STATUS "INBOX" \(MESSAGES 1 UNSEEN 1 UIDNEXT 2 UIDVALIDITY \d+ HIGHESTMODSEQ \d+\)\r\nd OK/);
  });
  it('NAMESPACE, ID and ENABLE', async () => {
    const c = connect();
    await c.login();
    assert.equal(await c.send('a NAMESPACE'), '* NAMESPACE (("" "/")) NIL NIL\r\na OK NAMESPACE completed\r\n');
    assert.equal(await c.send('b ID ("name" "test")'), '* ID ("name" "pullmail")\r\nb OK ID completed\r\n');
    assert.equal(await c.send('c ENABLE CONDSTORE QRESYNC'), '* ENABLED CONDSTORE\r\nc OK ENABLE completed\r\n');
  });
});

describe('IMAP session: messages', () => {
  async function withMessages(n: number) {
    const c = connect();
    await c.login();
    for (let i = 1; i <= n; i++) await c.send(`a${i} APPEND INBOX (\\Flagged) "01-Dec-2026 10:00:00 +0000" {${MSG(`m${i}`).length}+}\r\n${MSG(`m${i}`)}`);
    return c;
  }

  it('APPEND answers APPENDUID; SELECT reports the folder', async () => {
    const c = connect();
    await c.login();
    assert.match(await c.send(`a APPEND INBOX {${MSG('x').length}+}\r\n${MSG('x')}`), /^a OK \[APPENDUID \d+ 1\] APPEND completed/);
    assert.match(await c.send(`b APPEND Nowhere {${MSG('x').length}+}\r\n${MSG('x')}`), /^b NO \[TRYCREATE\]/);
    const sel = await c.send('c SELECT INBOX');
    assert.match(sel, /\* 1 EXISTS\r\n\* 0 RECENT\r\n\* OK \[UNSEEN 1\].*\r\n\* OK \[UIDVALIDITY \d+\].*\r\n\* OK \[UIDNEXT 2\].*\r\n\* OK \[HIGHESTMODSEQ \d+\].*\r\nc OK \[READ-WRITE\] SELECT completed/);
    assert.match(sel, /PERMANENTFLAGS \(.*\\\*\)/);
  });
  it('APPEND to the selected folder announces EXISTS', async () => {
    const c = await withMessages(1);
    await c.send('s SELECT INBOX');
    assert.match(await c.send(`a APPEND INBOX {${MSG('y').length}+}\r\n${MSG('y')}`), /^\* 2 EXISTS\r\na OK/);
  });
  it('FETCH of flags, sizes, dates, envelope and sections; BODY[] sets \\Seen, BODY.PEEK does not', async () => {
    const c = await withMessages(2);
    await c.send('s SELECT INBOX');
    assert.equal(
      await c.send('f FETCH 1:2 (FLAGS RFC822.SIZE INTERNALDATE)'),
      `* 1 FETCH (UID 1 FLAGS (\\Flagged) RFC822.SIZE ${MSG('m1').length} INTERNALDATE "01-Dec-2026 10:00:00 +0000")\r\n* 2 FETCH (UID 2 FLAGS (\\Flagged) RFC822.SIZE ${MSG('m2').length} INTERNALDATE "01-Dec-2026 10:00:00 +0000")\r\nf OK FETCH completed\r\n`,
    );
    assert.equal(await c.send('g UID FETCH 2 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])'), '* 2 FETCH (UID 2 BODY[HEADER.FIELDS (SUBJECT)] {15}\r\nSubject: m2\r\n\r\n)\r\ng OK UID FETCH completed\r\n');
    assert.equal(await c.send('h FETCH 1 BODY[TEXT]<1.3>'), '* 1 FETCH (UID 1 BODY[TEXT]<1> {3}\r\nell FLAGS (\\Flagged \\Seen))\r\nh OK FETCH completed\r\n');
    assert.equal(await c.send('i FETCH 2 ENVELOPE'), '* 2 FETCH (UID 2 ENVELOPE (NIL "m2" ((NIL NIL "alice" "x.test")) ((NIL NIL "alice" "x.test")) ((NIL NIL "alice" "x.test")) ((NIL NIL "bob" "y.test")) NIL NIL NIL "<m2@x.test>"))\r\ni OK FETCH completed\r\n');
    assert.equal(await c.send('j FETCH 2 BODY[]'), `* 2 FETCH (UID 2 BODY[] {${MSG('m2').length}}\r\n${MSG('m2')} FLAGS (\\Flagged \\Seen))\r\nj OK FETCH completed\r\n`);
  });
  it('EXAMINE is read-only: no \\Seen from BODY[], STORE refused', async () => {
    const c = await withMessages(1);
    assert.match(await c.send('e EXAMINE INBOX'), /e OK \[READ-ONLY\]/);
    assert.ok(!(await c.send('f FETCH 1 BODY[]')).includes('\\Seen'));
    assert.match(await c.send('g STORE 1 +FLAGS (\\Seen)'), /^g NO \[READ-ONLY\]/);
  });
  it('STORE add, remove, set and silent; keywords', async () => {
    const c = await withMessages(2);
    await c.send('s SELECT INBOX');
    assert.equal(await c.send('a STORE 1:* +FLAGS ($Label1 \\Seen)'), '* 1 FETCH (UID 1 FLAGS (\\Flagged $Label1 \\Seen))\r\n* 2 FETCH (UID 2 FLAGS (\\Flagged $Label1 \\Seen))\r\na OK STORE completed\r\n');
    assert.equal(await c.send('b UID STORE 2 -FLAGS.SILENT (\\Flagged)'), 'b OK UID STORE completed\r\n');
    assert.equal(await c.send('c STORE 2 FLAGS (\\Answered)'), '* 2 FETCH (UID 2 FLAGS (\\Answered))\r\nc OK STORE completed\r\n');
    // only the system flags may start with a backslash
    assert.match(await c.send('d STORE 2 +FLAGS (\\Important)'), /^d BAD Unknown system flag/);
  });
  it('CONDSTORE: MODSEQ in FETCH, CHANGEDSINCE, and UNCHANGEDSINCE answered with MODIFIED', async () => {
    const c = await withMessages(3);
    const sel = await c.send('s SELECT INBOX (CONDSTORE)');
    const highest = Number(/HIGHESTMODSEQ (\d+)/.exec(sel)![1]);
    const stored = await c.send('a STORE 2 +FLAGS (\\Seen)');
    const modseq = Number(/MODSEQ \((\d+)\)/.exec(stored)![1]);
    assert.ok(modseq > highest);
    assert.equal(await c.send(`b FETCH 1:* (FLAGS) (CHANGEDSINCE ${highest})`), `* 2 FETCH (UID 2 FLAGS (\\Flagged \\Seen) MODSEQ (${modseq}))\r\nb OK FETCH completed\r\n`);
    assert.match(await c.send(`c STORE 1:3 (UNCHANGEDSINCE ${highest}) +FLAGS (\\Answered)`), /c OK \[MODIFIED 2\]/);
    assert.match(await c.send(`d SEARCH MODSEQ ${modseq}`), /^\* SEARCH 1 2 3 \(MODSEQ \d+\)\r\n/);
  });
  it('SEARCH by sequence number and by uid, after an expunge shifted the numbers', async () => {
    const c = await withMessages(4);
    await c.send('s SELECT INBOX');
    await c.send('a STORE 2 +FLAGS (\\Deleted)');
    assert.equal(await c.send('b EXPUNGE'), '* 2 EXPUNGE\r\nb OK EXPUNGE completed\r\n');
    assert.equal(await c.send('c SEARCH SUBJECT m3'), '* SEARCH 2\r\nc OK SEARCH completed\r\n');
    assert.equal(await c.send('d UID SEARCH SUBJECT m3'), '* SEARCH 3\r\nd OK UID SEARCH completed\r\n');
    assert.equal(await c.send('e UID SEARCH 2:*'), '* SEARCH 3 4\r\ne OK UID SEARCH completed\r\n');
    assert.match(await c.send('f SEARCH CHARSET KOI8-R TEXT x'), /^f NO \[BADCHARSET/);
    assert.equal(await c.send('g FETCH 3 (UID)'), '* 3 FETCH (UID 4)\r\ng OK FETCH completed\r\n');
  });
  it('FETCH and SEARCH over more messages than one run (imap/fetch.ts RUN_LIMITS) answer each once, in order', async () => {
    const n = RUN_LIMITS.messages * 2 + 5;
    const c = await withMessages(n);
    await c.send('s SELECT INBOX');
    const fetched = await c.send('f FETCH 1:* (BODY.PEEK[HEADER.FIELDS (SUBJECT)])');
    assert.deepEqual([...fetched.matchAll(/^\* (\d+) FETCH \(UID (\d+) BODY\[HEADER\.FIELDS \(SUBJECT\)\] \{\d+\}\r\nSubject: m(\d+)\r\n/gm)].map((m) => [m[1], m[2], m[3]].map(Number)), Array.from({ length: n }, (_, i) => [i + 1, i + 1, i + 1]));
    assert.match(fetched, /f OK FETCH completed\r\n$/);
    // the subject of the last message of the second run and of one in the third, in bodies read a run at a time
    assert.equal(await c.send(`b SEARCH TEXT m${RUN_LIMITS.messages * 2}`), `* SEARCH ${RUN_LIMITS.messages * 2}\r\nb OK SEARCH completed\r\n`);
    assert.equal(await c.send(`u UID SEARCH BODY hello SUBJECT m${n}`), `* SEARCH ${n}\r\nu OK UID SEARCH completed\r\n`);
  });
  it('FETCH leaves out a message another connection expunged before its run was read', async () => {
    const backend = createMemoryBackend();
    const c = connect(backend);
    await c.login();
    for (let i = 1; i <= 3; i++) await c.send(`a${i} APPEND INBOX {${MSG(`m${i}`).length}+}\r\n${MSG(`m${i}`)}`);
    await c.send('s SELECT INBOX');
    const other = backend.account('bob@y.test');
    await other.storeFlags('INBOX', [2], 'add', ['\\Deleted']);
    await other.expunge('INBOX', [2]);
    const got = await c.send('f FETCH 1:3 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])');
    assert.deepEqual([...got.matchAll(/^\* (\d+) FETCH \(UID (\d+)/gm)].map((m) => [Number(m[1]), Number(m[2])]), [[1, 1], [3, 3]]);
    assert.match(got, /f OK FETCH completed\r\n$/);
  });
  it('UID EXPUNGE removes only the named deleted messages', async () => {
    const c = await withMessages(3);
    await c.send('s SELECT INBOX');
    await c.send('a STORE 1:3 +FLAGS.SILENT (\\Deleted)');
    assert.equal(await c.send('b UID EXPUNGE 3'), '* 3 EXPUNGE\r\nb OK EXPUNGE completed\r\n');
    assert.equal((await c.backend.account('bob@y.test').listMessages('INBOX')).length, 2);
  });
  it('COPY answers COPYUID; MOVE sends COPYUID untagged, then the EXPUNGEs', async () => {
    const c = await withMessages(3);
    await c.send('s SELECT INBOX');
    assert.match(await c.send('a COPY 1:2 Archive'), /^a OK \[COPYUID \d+ 1:2 1:2\] COPY completed/);
    assert.match(await c.send('b COPY 1 Nowhere'), /^b NO \[TRYCREATE\]/);
    assert.match(await c.send('c UID MOVE 1,3 Trash'), /^\* OK \[COPYUID \d+ 1,3 1:2\] Moved\r\n\* 3 EXPUNGE\r\n\* 1 EXPUNGE\r\nc OK MOVE completed/);
    assert.equal(await c.send('d FETCH 1:* (UID)'), '* 1 FETCH (UID 2)\r\nd OK FETCH completed\r\n');
  });
  it('CLOSE expunges silently; UNSELECT does not', async () => {
    const c = await withMessages(2);
    await c.send('s SELECT INBOX');
    await c.send('a STORE 1 +FLAGS.SILENT (\\Deleted)');
    assert.equal(await c.send('b UNSELECT'), 'b OK UNSELECT completed\r\n');
    assert.equal((await c.backend.account('bob@y.test').listMessages('INBOX')).length, 2);
    await c.send('s2 SELECT INBOX');
    assert.equal(await c.send('c CLOSE'), 'c OK CLOSE completed\r\n');
    assert.equal((await c.backend.account('bob@y.test').listMessages('INBOX')).length, 1);
    assert.match(await c.send('d FETCH 1 FLAGS'), /^d BAD Select a folder first/);
  });
});

describe('IMAP session: changes from other connections', () => {
  it('holds EXPUNGE back during FETCH and sends it at NOOP; flag changes arrive as FETCH', async () => {
    const backend = createMemoryBackend();
    const a = connect(backend);
    const b = connect(backend);
    await a.login();
    await b.login();
    for (const s of ['m1', 'm2']) await a.send(`x APPEND INBOX {${MSG(s).length}+}\r\n${MSG(s)}`);
    await a.send('s SELECT INBOX');
    await b.send('s SELECT INBOX');
    await b.send('a STORE 1 +FLAGS.SILENT (\\Deleted)');
    await b.send('b EXPUNGE');
    await b.send('c STORE 1 +FLAGS.SILENT (\\Seen)');
    // message 1 is gone, but in a's numbering it is still 1 until a may be told
    assert.equal(await a.send('f FETCH 2 (UID)'), '* 2 FETCH (UID 2 FLAGS (\\Seen))\r\n* 2 FETCH (UID 2)\r\nf OK FETCH completed\r\n');
    assert.equal(await a.send('n NOOP'), '* 1 EXPUNGE\r\nn OK NOOP completed\r\n');
  });
  it('a COPY by sequence number copies what the client meant although another connection expunged', async () => {
    const backend = createMemoryBackend();
    const a = connect(backend);
    const b = connect(backend);
    await a.login();
    await b.login();
    for (const s of ['m1', 'm2', 'm3']) await a.send(`x APPEND INBOX {${MSG(s).length}+}\r\n${MSG(s)}`);
    await a.send('s SELECT INBOX');
    await b.send('s SELECT INBOX');
    await b.send('a STORE 1 +FLAGS.SILENT (\\Deleted)');
    await b.send('b EXPUNGE');
    // a still numbers uid 2 as 2: the EXPUNGE may only come after the COPY ran
    assert.match(await a.send('c COPY 2 Archive'), /^\* 1 EXPUNGE\r\nc OK \[COPYUID \d+ 2 1\]/);
    const copied = (await backend.account('bob@y.test').readMessages('Archive', [1])).get(1);
    assert.match(String(copied), /Subject: m2/);
  });
  it('IDLE announces an APPEND made by another connection, and DONE ends it', async () => {
    const backend = createMemoryBackend();
    const a = connect(backend);
    const b = connect(backend);
    await a.login();
    await b.login();
    await a.send('s SELECT INBOX');
    assert.equal(await a.send('i IDLE'), '+ idling\r\n');
    await b.send(`x APPEND INBOX {${MSG('new').length}+}\r\n${MSG('new')}`);
    // the change feed runs the refresh on a's queue; the next receive waits behind it
    assert.equal(await a.send('DONE'), '* 1 EXISTS\r\ni OK IDLE terminated\r\n');
  });
  it('two users never see each other\'s mail', async () => {
    const backend = createMemoryBackend();
    const bob = connect(backend);
    const eve = connect(backend);
    await bob.login();
    await eve.login('eve@y.test', 'pw2');
    await bob.send(`x APPEND INBOX {${MSG('secret').length}+}\r\n${MSG('secret')}`);
    assert.match(await eve.send('s SELECT INBOX'), /\* 0 EXISTS/);
    assert.match(await bob.send('s SELECT INBOX'), /\* 1 EXISTS/);
  });
});

describe('IMAP session: a login that stops holding (account disabled, password changed)', () => {
  /** A login whose holds() answers `valid`, counting the calls; `change()` is what an announcement does. */
  function revocable() {
    const g = { valid: true, asked: 0, released: 0, fail: false, listener: undefined as (() => void) | undefined };
    const grant: Omit<SessionLogin, 'user'> = {
      holds: async () => {
        g.asked++;
        if (g.fail) throw new Error('database away');
        return g.valid;
      },
      onChange: (l) => (g.listener = l),
      release: () => g.released++,
    };
    return { g, grant };
  }

  it('asks before every command; once it fails the next command gets BYE [EXPIRED], no answer, and the connection closes', async () => {
    const { g, grant } = revocable();
    const c = connect(undefined, undefined, grant);
    await c.login();
    assert.equal(g.asked, 0, 'not asked for the LOGIN itself');
    assert.match(await c.send('a SELECT INBOX'), /^a OK/m);
    assert.equal(g.asked, 1);
    g.valid = false;
    assert.equal(await c.send('b NOOP'), '* BYE [EXPIRED] Login no longer valid: the account was disabled or its password changed\r\n');
    assert.ok(c.closed);
    assert.equal(await c.send('c NOOP'), '', 'nothing more is answered');
    assert.equal(g.asked, 2);
    c.session.end();
    assert.equal(g.released, 1, 'the connection end releases the login');
  });

  it('ends an IDLE at once when told of a change, without waiting for DONE', async () => {
    const { g, grant } = revocable();
    const c = connect(undefined, undefined, grant);
    await c.login();
    await c.send('s SELECT INBOX');
    assert.equal(await c.send('i IDLE'), '+ idling\r\n');
    g.listener!(); // still valid: nothing is said
    g.valid = false;
    g.listener!();
    for (let i = 0; i < 100 && !c.closed; i++) await new Promise((r) => setImmediate(r));
    assert.ok(c.closed, 'closed after the change');
    assert.match(c.take(), /^\* BYE \[EXPIRED\] /);
    assert.equal(g.asked, 3, 'SELECT, then once per change');
  });

  it('lets the command go on when the check itself fails, and asks again at the next', async () => {
    const { g, grant } = revocable();
    const c = connect(undefined, undefined, grant);
    await c.login();
    g.fail = true;
    assert.match(await c.send('a NOOP'), /^a OK/m);
    g.fail = false;
    g.valid = false;
    assert.match(await c.send('b NOOP'), /^\* BYE \[EXPIRED\]/);
    assert.equal(g.asked, 2);
  });

  it('is not asked before the login: a revoked grant cannot refuse LOGIN or CAPABILITY', async () => {
    const { g, grant } = revocable();
    g.valid = false;
    const c = connect(undefined, undefined, grant);
    await c.session.start();
    assert.match(await c.send('a CAPABILITY'), /^a OK/m);
    assert.equal(g.asked, 0);
  });
});

describe('IMAP session: property', () => {
  it('answers every tagged command exactly once and never fails, whatever the command sequence', async () => {
    const pool = [
      'SELECT INBOX', 'EXAMINE Sent', 'SELECT Nowhere', 'UNSELECT', 'CLOSE', 'NOOP', 'CHECK', 'EXPUNGE', 'UID EXPUNGE 1:*',
      `APPEND INBOX {${MSG('p').length}+}\r\n${MSG('p')}`, 'APPEND INBOX (\\Seen) {0+}\r\n', 'FETCH 1:* (FLAGS BODY[] ENVELOPE BODYSTRUCTURE)',
      'UID FETCH * (BODY.PEEK[1.MIME] BODY[HEADER.FIELDS (SUBJECT)]<0.5>)', 'FETCH 99 FLAGS', 'STORE 1:* +FLAGS (\\Deleted)',
      'UID STORE 1:* (UNCHANGEDSINCE 1) -FLAGS.SILENT (\\Seen)', 'SEARCH OR SEEN TEXT hello', 'UID SEARCH NOT UID 1',
      'COPY 1:* Archive', 'UID MOVE 1:* Trash', 'MOVE 1 INBOX', 'CREATE a/b', 'RENAME a x', 'DELETE x/b', 'DELETE INBOX',
      'LIST "" *', 'LSUB "" %', 'STATUS INBOX (MESSAGES UNSEEN)', 'SUBSCRIBE Archive', 'ENABLE CONDSTORE', 'ID NIL',
      'NAMESPACE', 'CAPABILITY', 'LOGIN bob@y.test pw', 'FETCH', 'BOGUS', 'SEARCH CHARSET X ALL', 'STORE 1 FLAGS',
    ];
    await fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom(...pool), { maxLength: 25 }), fc.boolean(), async (commands, loggedIn) => {
        const c = connect();
        if (loggedIn) await c.login();
        for (const [i, cmd] of commands.entries()) {
          const got = await c.send(`t${i} ${cmd}`);
          const tagged = got.split('\r\n').filter((l) => l.startsWith(`t${i} `));
          assert.equal(tagged.length, 1, `${cmd} answered with\n${got}`);
          assert.match(tagged[0], /^t\d+ (OK|NO|BAD) /);
          assert.ok(!tagged[0].includes('SERVERBUG'), `${cmd}: ${tagged[0]}`);
        }
      }),
      { numRuns: 150 },
    );
  });
  it('answers arbitrary bytes without failing, in every state', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 80 }), { maxLength: 10 }), fc.constantFrom('none', 'login', 'select'), async (lines, start) => {
        const c = connect();
        if (start !== 'none') await c.login();
        if (start === 'select') await c.send('s SELECT INBOX');
        for (const line of lines) {
          await c.session.receive(Buffer.from(line));
          assert.ok(!c.take().includes('SERVERBUG'));
        }
      }),
      { numRuns: 300 },
    );
  });
});
