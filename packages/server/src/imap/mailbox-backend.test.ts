// The IMAP session over the mailbox model (mailbox-backend.ts) on an in-memory PGlite, for input
// PostgreSQL text cannot hold: a NUL in a literal, a lone surrogate in modified UTF-7 (RFC 3501
// §5.1.3). Each is a NO or BAD naming the problem, or stored with U+FFFD; never SERVERBUG.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestApp, type TestApp } from '../http/test-app.ts';
import { createMailWatch, type MailWatch } from '../mailbox/watch.ts';
import type { OutPart } from './encode.ts';
import { mailboxBackend } from './mailbox-backend.ts';
import { createSession } from './session.ts';

let t: TestApp;
let watch: MailWatch;
let token: string;
before(async () => {
  t = await createTestApp();
  token = await t.addUser('u@a.test');
  watch = createMailWatch(t.ctx.database, t.ctx.log);
});
after(async () => {
  await watch.close();
  await t.close();
});

/** A logged-in session; `send` gives what one command (literals inline, `{n+}`) produced. */
async function connect() {
  let out = '';
  const session = createSession({
    backend: mailboxBackend(t.ctx, watch),
    login: async (user) => ({ user }),
    write: async (parts: OutPart[]) => {
      for (const p of parts) {
        if (typeof p === 'string') out += p;
        else if (Buffer.isBuffer(p)) out += p.toString('utf8');
        else for await (const chunk of p.stream) out += (chunk as Buffer).toString('utf8');
      }
    },
    close: () => undefined,
  });
  await session.start();
  const send = async (command: string) => {
    out = '';
    await session.receive(Buffer.from(command, 'utf8'));
    return out;
  };
  assert.match(await send('l LOGIN u@a.test pw'), /^l OK/m);
  return send;
}

describe('IMAP over the mailbox model: what PostgreSQL text cannot hold', () => {
  it('refuses CREATE and RENAME to a name with a NUL or a lone surrogate, saying why', async () => {
    const send = await connect();
    assert.match(await send('a CREATE Mine'), /^a OK/m);
    const cases: [string, RegExp][] = [
      ['b CREATE {3+}\r\na\0b', /^b NO \[CANNOT\] folder name .* contains a control character\r\n$/],
      // &2AA- is U+D800 alone
      ['c CREATE &2AA-', /^c NO \[CANNOT\] folder name .* unpaired surrogate .*\r\n$/],
      ['d RENAME Mine {3+}\r\na\0b', /^d NO \[CANNOT\] folder name .* contains a control character\r\n$/],
      ['e RENAME Mine x&2AA-', /^e NO \[CANNOT\] folder name .* unpaired surrogate .*\r\n$/],
    ];
    for (const [command, want] of cases) assert.match(await send(command), want, command);
    const folders = ((await (await t.request('/api/v1/folders', { token })).json()) as { folders: { name: string }[] }).folders;
    assert.deepEqual(folders.filter((f) => !/^(INBOX|Archive|Drafts|Junk|Requests|Sent|Trash)$/.test(f.name)).map((f) => f.name), ['Mine']);
  });

  it('finds no folder named with a NUL: RENAME, DELETE, SUBSCRIBE, STATUS, APPEND and COPY say so', async () => {
    const send = await connect();
    const cases: [string, RegExp][] = [
      ['a RENAME {3+}\r\na\0b x', /^a NO \[NONEXISTENT\]/],
      ['b DELETE {3+}\r\na\0b', /^b NO \[NONEXISTENT\]/],
      ['c SUBSCRIBE {3+}\r\na\0b', /^c NO \[NONEXISTENT\]/],
      ['d UNSUBSCRIBE {3+}\r\na\0b', /^d NO \[NONEXISTENT\]/],
      ['e STATUS {3+}\r\na\0b (MESSAGES)', /^e NO \[NONEXISTENT\]/],
      ['f APPEND {3+}\r\na\0b {3+}\r\nx\r\n', /^f NO \[TRYCREATE\]/],
    ];
    for (const [command, want] of cases) assert.match(await send(command), want, command);
  });

  it('APPENDs a message whose Subject has a NUL, shown with U+FFFD, and SEARCHes for a NUL', async () => {
    const send = await connect();
    const raw = 'From: a@b.test\r\nSubject: h\0i\r\n\r\nbody\r\n';
    assert.match(await send(`a APPEND INBOX {${raw.length}+}\r\n${raw}`), /^a OK \[APPENDUID \d+ 1\]/m);
    const [entry] = ((await (await t.request('/api/v1/folders/INBOX/messages', { token })).json()) as { messages: { subject: string }[] }).messages;
    assert.equal(entry.subject, 'h\uFFFDi');
    assert.match(await send('b SELECT INBOX'), /^b OK/m);
    assert.equal(await send('c SEARCH SUBJECT {3+}\r\nh\0i'), '* SEARCH 1\r\nc OK SEARCH completed\r\n');
    assert.match(await send('d COPY 1 {3+}\r\na\0b'), /^d NO \[TRYCREATE\]/);
  });
});
