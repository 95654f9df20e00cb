// Hostile input tests (issue 7) on the surfaces the other suites leave open: header injection, unicode
// and IDN addresses and malformed JSON on the user API; MIME that is deeply nested, huge or broken,
// through the API and the SMTP MX; slowloris clients on HTTP and SMTP; and property tests for parsers
// we own (raw message completion, page cursors, JWS peeking). Real nodes on loopback sockets.
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { Agent, fetch } from 'undici';
import { count } from 'drizzle-orm';
import { generateKeyPairSync } from 'node:crypto';
import { PullmailError } from '../packages/server/src/errors.ts';
import { encodeCursor, parsePage } from '../packages/server/src/http/pagination.ts';
import { completeRawMessage } from '../packages/server/src/mail/compose.ts';
import { createFakeResolver } from '../packages/server/src/peers/fake-resolver.ts';
import { checkHeader, peek, signJwt } from '../packages/server/src/protocol/jws.ts';
import { listDeliveries } from '../packages/server/src/store/messages.ts';
import { messages } from '../packages/server/src/store/schema.ts';
import { ADMIN_TOKEN, freePort, startNodes, type TestNode } from './harness/node.ts';
import { rawSmtp } from './harness/smtp-tools.ts';
import { waitFor } from './harness/wait.ts';

type Json = Record<string, any>;
const json = async (res: Response): Promise<Json> => JSON.parse(await res.text());

/** Asserts a JSON error answer `{error, detail}` with `status`; returns the body. */
async function expectError(res: Response, status: number, what: string): Promise<Json> {
  const body = await json(res);
  assert.equal(res.status, status, `${what}: ${JSON.stringify(body).slice(0, 300)}`);
  assert.deepEqual(Object.keys(body).sort(), ['detail', 'error'], `${what}: a JSON error body`);
  return body;
}

/**
 * One POST on a connection of its own. The node answers an oversized body 413 before reading it and
 * closes the connection soon after; a pooled keep-alive client may then lose its next request on it.
 */
async function postOnce(node: TestNode, path: string, token: string, body: string): Promise<Response> {
  const agent = new Agent({ pipelining: 0 });
  try {
    const res = await fetch(`${node.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body, dispatcher: agent });
    return new Response(await res.arrayBuffer(), { status: res.status, headers: res.headers as never });
  } finally {
    await agent.close();
  }
}

describe('user API: hostile input', () => {
  let a: TestNode;
  let b: TestNode;
  let alice: string;
  let jorg: string;
  const sentCount = async () => Number((await a.server.ctx.db.select({ n: count() }).from(messages))[0].n);

  before(async () => {
    // b.test's twin with an IDN name: configured as U-labels, served as its A-label
    [a, b] = await startNodes([
      { domain: 'a.test', env: { PULLMAIL_MAX_MESSAGE_BYTES: '2000000' } },
      { domain: 'bücher.test' },
    ]);
    alice = await a.addUser('alice@a.test');
  });
  after(async () => {
    await a?.stop();
    await b?.stop();
  });

  const send = (body: unknown) => a.api('/api/v1/messages', { method: 'POST', token: alice, json: body });
  const sendRaw = (raw: string) => a.api('/api/v1/messages', { method: 'POST', token: alice, body: raw, headers: { 'content-type': 'message/rfc822' } });

  it('refuses CR and LF in every field that becomes a header, naming the field, and stores nothing', async () => {
    const before = await sentCount();
    const ok = { to: ['bob@a.test'], subject: 'fine', text: 'x' };
    const file = (over: Json) => ({ ...ok, attachments: [{ filename: 'a.txt', contentType: 'text/plain', content: 'aGk=', ...over }] });
    const cases: [string, Json, RegExp][] = [
      ['subject CRLF', { ...ok, subject: 'hi\r\nBcc: evil@c.test' }, /^subject: /],
      ['subject lone LF', { ...ok, subject: 'hi\nBcc: evil@c.test' }, /^subject: /],
      ['subject lone CR', { ...ok, subject: 'hi\rBcc: evil@c.test' }, /^subject: /],
      ['filename CRLF', file({ filename: 'a.txt\r\nContent-Type: text/html' }), /^attachments\.0\.filename: /],
      ['content type CRLF', file({ contentType: 'text/plain\r\nX-Evil: 1' }), /^attachments\.0\.contentType: /],
      ['to CRLF', { ...ok, to: ['bob@a.test\r\nBcc: evil@c.test'] }, /^to\.0: /],
      ['cc LF', { ...ok, cc: ['carol@a.test\nBcc: evil@c.test'] }, /^cc\.0: /],
      ['bcc CR', { ...ok, bcc: ['dan@a.test\r'] }, /^bcc\.0: /],
      // a display name would be another place for a line break: only bare addresses are taken
      ['display name', { ...ok, to: ['"Bob\r\nBcc: evil@c.test" <bob@a.test>'] }, /^to\.0: /],
    ];
    for (const [what, body, detail] of cases) {
      const err = await expectError(await send(body), 400, what);
      assert.equal(err.error, 'bad_request', what);
      assert.match(err.detail, detail, what);
    }
    // raw messages: a bare CR is a line break to some servers on the path (header injection, SMTP smuggling)
    const raw = (head: string, body = 'hello\r\n') => `From: alice@a.test\r\nTo: bob@a.test\r\n${head}\r\n${body}`;
    for (const [what, message] of [
      ['raw header with a bare CR', raw('Subject: hi\rBcc: evil@c.test\r\n')],
      ['raw body with a lone dot between bare CRs', raw('Subject: hi\r\n', 'hi\r.\rMAIL FROM:<x@c.test>\r\n')],
    ]) {
      const err = await expectError(await sendRaw(message), 400, what);
      assert.match(err.detail, /bare CR/, what);
    }
    assert.equal(await sentCount(), before, 'nothing stored');
  });

  it('refuses a raw message that names another author beside the user, in one From field or two', async () => {
    const before = await sentCount();
    for (const from of ['From: victim@c.test, <alice@a.test>', 'From: alice@a.test\r\nFrom: victim@c.test', 'From: victim@c.test\r\nFrom: alice@a.test', 'From: "alice@a.test" <victim@c.test>', 'From: team: victim@c.test, alice@a.test;']) {
      const err = await expectError(await sendRaw(`${from}\r\nTo: bob@a.test\r\nSubject: x\r\n\r\nx\r\n`), 403, from);
      assert.equal(err.error, 'forbidden', from);
    }
    for (const from of ['From: alice@a.test', 'From: Alice <ALICE@a.test>', 'From: =?utf-8?q?Al=C3=AFce?= <alice@a.test>']) {
      assert.equal((await sendRaw(`${from}\r\nTo: bob@a.test\r\nSubject: x\r\n\r\nx\r\n`)).status, 201, from);
    }
    assert.equal(await sentCount(), before + 3);
  });

  it('stores and compares IDN domains in A-label form, and refuses non-ASCII local parts with a clear error', async () => {
    const created = await b.api('/api/v1/admin/users', { method: 'POST', token: ADMIN_TOKEN, json: { address: 'Jorg@BÜCHER.test' } });
    const user = await json(created);
    assert.equal(created.status, 201, JSON.stringify(user));
    assert.equal(user.address, 'jorg@xn--bcher-kva.test');
    jorg = user.token;
    // the same mailbox under its other spelling is a duplicate, not a second account
    assert.equal((await b.api('/api/v1/admin/users', { method: 'POST', token: ADMIN_TOKEN, json: { address: 'jorg@xn--bcher-kva.test' } })).status, 409);
    // RFC 6531 local parts are not supported: refused, with the reason
    const utf8Local = await expectError(await b.api('/api/v1/admin/users', { method: 'POST', token: ADMIN_TOKEN, json: { address: 'jörg@bücher.test' } }), 400, 'non-ASCII local part');
    assert.equal(utf8Local.error, 'bad_request');

    assert.equal((await b.api('/api/v1/rules', { method: 'POST', token: jorg, json: { action: 'allow', pattern: '@a.test' } })).status, 201);
    // U-label, A-label and upper case name one recipient
    const sent = await send({ to: ['jorg@bücher.test', 'JORG@XN--BCHER-KVA.TEST'], cc: ['Jorg@Bücher.Test'], subject: 'grüße', text: 'ü' });
    const body = await json(sent);
    assert.equal(sent.status, 201, JSON.stringify(body));
    assert.deepEqual(body.deliveries.map((d: Json) => d.rcpt), ['jorg@xn--bcher-kva.test']);
    await waitFor('fetched over pm1', async () => (await listDeliveries(a.server.ctx.db, body.id))[0].state === 'fetched');
    const inbox = await json(await b.api('/api/v1/inbox', { token: jorg }));
    assert.deepEqual(inbox.messages.map((m: Json) => [m.from, m.subject]), [['alice@a.test', 'grüße']]);

    // the same refusal wherever an address comes in
    const jsonSend = await expectError(await send({ to: ['jörg@bücher.test'], text: 'x' }), 400, 'JSON send to a non-ASCII local part');
    assert.match(jsonSend.detail, /^to\.0: /);
    const rawSend = await expectError(await sendRaw('From: alice@a.test\r\nTo: =?utf-8?q?J=C3=B6rg?= <jörg@bücher.test>\r\nSubject: x\r\n\r\nx\r\n'), 400, 'raw send to a non-ASCII local part');
    assert.match(rawSend.detail, /^to: "jörg@bücher\.test" is not a mail address/);
    const rule = await expectError(await b.api('/api/v1/rules', { method: 'POST', token: jorg, json: { action: 'allow', pattern: 'jörg@bücher.test' } }), 400, 'rule for a non-ASCII local part');
    assert.match(rule.detail, /pattern/);
  });

  it('answers oversized, deeply nested and wrongly typed JSON with 400/413 JSON errors', async () => {
    const before = await sentCount();
    // over the body limit of sends (1.4 × PULLMAIL_MAX_MESSAGE_BYTES) and of everything else (1 MiB)
    const huge = await postOnce(a, '/api/v1/messages', alice, JSON.stringify({ to: ['bob@a.test'], text: 'x'.repeat(3_000_000) }));
    assert.equal((await expectError(huge, 413, 'send body over the limit')).error, 'too_large');
    const bigRule = await postOnce(a, '/api/v1/rules', alice, JSON.stringify({ action: 'allow', pattern: `${'x'.repeat(1_100_000)}@a.test` }));
    assert.equal((await expectError(bigRule, 413, 'rule body over the limit')).error, 'too_large');
    // under the body limit, but the composed message is over PULLMAIL_MAX_MESSAGE_BYTES
    const composed = await expectError(await send({ to: ['bob@a.test'], text: 'x'.repeat(1_500_000), attachments: [{ filename: 'a.bin', contentType: 'application/octet-stream', content: Buffer.alloc(400_000).toString('base64') }] }), 413, 'composed over the limit');
    assert.match(composed.detail, /limit is 2000000/);

    const deep = 200_000;
    const nested: [string, string][] = [
      ['nested arrays', `${'['.repeat(deep)}${']'.repeat(deep)}`],
      ['nested objects', `${'{"a":'.repeat(deep)}1${'}'.repeat(deep)}`],
      ['nested recipients', `{"to":${'['.repeat(deep)}${']'.repeat(deep)},"text":"x"}`],
    ];
    for (const [what, body] of nested) {
      const res = await a.api('/api/v1/messages', { method: 'POST', token: alice, body, headers: { 'content-type': 'application/json' } });
      assert.equal((await expectError(res, 400, what)).error, 'bad_request');
    }
    const wrong: [string, unknown, RegExp][] = [
      ['to as a string', { to: 'bob@a.test', text: 'x' }, /^to: /],
      ['a number for an address', { to: [42], text: 'x' }, /^to\.0: /],
      ['subject as a number', { to: ['bob@a.test'], subject: 42 }, /^subject: /],
      ['text as an object', { to: ['bob@a.test'], text: { toString: 'x' } }, /^text: /],
      ['attachments as an object', { to: ['bob@a.test'], attachments: { 0: {} } }, /^attachments: /],
      ['attachment content not base64', { to: ['bob@a.test'], attachments: [{ filename: 'a', contentType: 'a/b', content: '<script>' }] }, /^attachments\.0\.content: /],
      ['consent with null', { to: ['bob@a.test'], consent: [null] }, /^consent\.0: /],
      ['a bare JSON string', 'bob@a.test', /./],
      ['null', null, /./],
    ];
    for (const [what, body, detail] of wrong) {
      const err = await expectError(await a.api('/api/v1/messages', { method: 'POST', token: alice, body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }), 400, what);
      assert.match(err.detail, detail, what);
    }
    // own "__proto__" keys in JSON are data, never recipients
    const proto = await a.api('/api/v1/messages', { method: 'POST', token: alice, body: '{"to":["bob@a.test"],"__proto__":{"bcc":["evil@c.test"]},"constructor":{"prototype":{"cc":["evil@c.test"]}},"text":"x"}', headers: { 'content-type': 'application/json' } });
    const protoBody = await json(proto);
    assert.equal(proto.status, 201, JSON.stringify(protoBody));
    assert.deepEqual(protoBody.deliveries.map((d: Json) => d.rcpt), ['bob@a.test']);
    assert.equal(({} as Json).bcc, undefined, 'Object.prototype untouched');
    // query strings
    for (const q of ['limit=abc', 'limit=0', 'limit=1e309', 'limit=-1', 'cursor=%00%ff', `cursor=${'A'.repeat(5000)}`]) {
      assert.equal((await expectError(await a.api(`/api/v1/sent?${q}`, { token: alice }), 400, q)).error, 'bad_request');
    }
    assert.equal(await sentCount(), before + 1, 'only the one well-formed send was stored');
    assert.equal((await a.api('/healthz')).status, 200);
  });
});

/** A complete message with Message-ID and Date, so the node stores it byte for byte. */
function rawMessage(subject: string, headers: string, body: string): string {
  return `From: alice@a.test\r\nTo: bob@b.test\r\nSubject: ${subject}\r\nMessage-ID: <${subject.replace(/\W/g, '')}@a.test>\r\nDate: Wed, 25 Nov 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n${headers}\r\n${body}`;
}

/** multipart/mixed nested `depth` levels, a text part at the bottom. */
function nestedMultipart(subject: string, depth: number): string {
  let open = '';
  let close = '';
  for (let i = 1; i < depth; i++) {
    open += `--b${i - 1}\r\nContent-Type: multipart/mixed; boundary="b${i}"\r\n\r\n`;
    close = `\r\n--b${i}--\r\n${close}`;
  }
  return rawMessage(subject, 'Content-Type: multipart/mixed; boundary="b0"\r\n', `${open}--b${depth - 1}\r\nContent-Type: text/plain\r\n\r\nthe bottom\r\n${close}\r\n--b0--\r\n`);
}

function attachments(subject: string, n: number): string {
  const parts = Array.from({ length: n }, (_, i) => `--x\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename="f${i}.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\nAAECAwQ=\r\n`).join('');
  return rawMessage(subject, 'Content-Type: multipart/mixed; boundary="x"\r\n', `${parts}--x--\r\n`);
}

const MIME_CASES: [string, string][] = [
  ['nested 200 deep', nestedMultipart('nested 200 deep', 200)],
  ['nested 3000 deep', nestedMultipart('nested 3000 deep', 3000)],
  ['a 2 MB header line', rawMessage('a 2 MB header line', `X-Long: ${'a'.repeat(2_000_000)}\r\n`, 'body\r\n')],
  ['a 200 KB header line', rawMessage('a 200 KB header line', `X-Long: ${'a'.repeat(200_000)}\r\n`, 'body\r\n')],
  ['100000 header fields', rawMessage('100000 header fields', 'X-A: b\r\n'.repeat(100_000), 'body\r\n')],
  ['900 attachments', attachments('900 attachments', 900)],
  ['5000 attachments', attachments('5000 attachments', 5000)],
  ['a boundary never closed', rawMessage('a boundary never closed', 'Content-Type: multipart/mixed; boundary="open"\r\n', '--open\r\nContent-Type: text/plain\r\n\r\nno end\r\n')],
  ['no boundary parameter', rawMessage('no boundary parameter', 'Content-Type: multipart/mixed\r\n', '--x\r\nContent-Type: text/plain\r\n\r\nwhere am I\r\n--x--\r\n')],
  ['a child reusing its parent boundary', rawMessage('a child reusing its parent boundary', 'Content-Type: multipart/mixed; boundary="same"\r\n', '--same\r\nContent-Type: multipart/alternative; boundary="same"\r\n\r\n--same\r\nContent-Type: text/plain\r\n\r\nloop\r\n--same--\r\n--same--\r\n')],
  ['an empty and a 300-character boundary', rawMessage('an empty and a 300-character boundary', `Content-Type: multipart/mixed; boundary="${'z'.repeat(300)}"\r\n`, `--${'z'.repeat(300)}\r\nContent-Type: multipart/mixed; boundary=""\r\n\r\n--\r\n\r\n--${'z'.repeat(300)}--\r\n`)],
  ['binary junk and NULs in the body', rawMessage('binary junk and NULs in the body', 'Content-Type: text/plain; charset=x-unknown-charset\r\nContent-Transfer-Encoding: base64\r\n', `${'\u0000\u00ff!@#$%'.repeat(1000)}\r\n`)],
];

/** What the send API refuses outright: it reads at most 1 MiB of header before the body (mail/raw-stream.ts). */
const API_REFUSES = new Map<string, RegExp>([['a 2 MB header line', /header is over 1048576 bytes/]]);

describe('MIME: deeply nested, huge and broken messages', () => {
  let a: TestNode;
  let b: TestNode;
  let alice: string;
  let bob: string;
  let smtpPort: number;

  before(async () => {
    smtpPort = await freePort();
    [a, b] = await startNodes([
      { domain: 'a.test' },
      {
        domain: 'b.test',
        env: { PULLMAIL_SMTP_PORT: String(smtpPort) },
        // SPF: legacy.test sends from this machine, so its mail goes to the inbox
        resolver: createFakeResolver({ txt: { 'legacy.test': [['v=spf1 ip4:127.0.0.1 -all']] } }),
      },
    ]);
    alice = await a.addUser('alice@a.test');
    bob = await b.addUser('bob@b.test');
    for (const pattern of ['@a.test', '@legacy.test']) {
      assert.equal((await b.api('/api/v1/rules', { method: 'POST', token: bob, json: { action: 'allow', pattern } })).status, 201);
    }
  });
  after(async () => {
    await a?.stop();
    await b?.stop();
  });

  const inboxEntry = async (subject: string) => ((await json(await b.api('/api/v1/inbox?limit=200', { token: bob }))).messages as Json[]).find((m) => m.subject === subject);
  const rawOf = async (id: string) => Buffer.from(await (await b.api(`/api/v1/inbox/${id}/raw`, { token: bob })).arrayBuffer());

  /** The parsed read answers, either with the message or with a clear error that is not the node's fault. */
  async function assertParsedReadAnswers(id: string, what: string): Promise<void> {
    const res = await b.api(`/api/v1/inbox/${id}`, { token: bob });
    const body = await json(res);
    if (res.status === 200) {
      assert.equal(body.id, id, what);
    } else {
      assert.ok(res.status >= 400 && res.status < 500, `${what}: the parsed read answers ${res.status} ${JSON.stringify(body).slice(0, 200)}`);
      assert.deepEqual(Object.keys(body).sort(), ['detail', 'error'], what);
      assert.match(body.detail, /raw/, `${what}: the error points at the raw bytes`);
    }
    assert.equal((await b.api('/healthz')).status, 200, `${what}: node still answers`);
  }

  it('sends each through the API and pm1: stored byte for byte, and the parsed read answers', async () => {
    for (const [what, message] of MIME_CASES) {
      const res = await a.api('/api/v1/messages', { method: 'POST', token: alice, body: message, headers: { 'content-type': 'message/rfc822' } });
      const sent = await json(res);
      const refusal = API_REFUSES.get(what);
      if (refusal) {
        assert.equal(res.status, 400, `${what}: ${JSON.stringify(sent)}`);
        assert.match(sent.detail, refusal, what);
        continue;
      }
      assert.equal(res.status, 201, `${what}: ${JSON.stringify(sent)}`);
      await waitFor(`${what}: fetched`, async () => (await listDeliveries(a.server.ctx.db, sent.id))[0].state === 'fetched');
      const entry = await waitFor(`${what}: stored`, () => inboxEntry(what));
      assert.ok((await rawOf(entry.id)).equals(Buffer.from(message)), `${what}: stored byte for byte`);
      await assertParsedReadAnswers(entry.id, what);
    }
  });

  it('takes each through the SMTP MX: accepted or refused with a permanent reply, never a crash', async () => {
    for (const [what, message] of MIME_CASES) {
      const smtpName = `smtp ${what}`;
      const data = message.replace(`Subject: ${what}`, `Subject: ${smtpName}`).replace(/\r\n\./g, '\r\n..');
      const replies = await rawSmtp(smtpPort, ['EHLO client.test\r\n', 'MAIL FROM:<carol@legacy.test>\r\n', 'RCPT TO:<bob@b.test>\r\n', 'DATA\r\n', `${data}.\r\n`, 'QUIT\r\n']);
      const final = replies[5];
      assert.match(final, /^(250|5\d\d) /, `${what}: the reply to the data is final (${final})`);
      if (final.startsWith('250')) {
        const entry = await waitFor(`${what}: stored`, () => inboxEntry(smtpName));
        const sent = Buffer.from(message.replace(`Subject: ${what}`, `Subject: ${smtpName}`));
        const stored = await rawOf(entry.id);
        assert.ok(stored.subarray(stored.length - sent.length).equals(sent), `${what}: our trace fields on top of the exact bytes`);
        await assertParsedReadAnswers(entry.id, what);
      }
    }
    assert.equal((await b.api('/healthz')).status, 200);
  });
});

describe('slowloris clients', () => {
  let node: TestNode;
  let smtpPort: number;
  const sockets: Socket[] = [];
  before(async () => {
    smtpPort = await freePort();
    // every test client shares 127.0.0.1: the per-address cap (test/load-limits.test.ts) is raised so
    // these tests show the timeouts alone keep the listener serving
    [node] = await startNodes([{ domain: 'a.test', env: { PULLMAIL_SMTP_PORT: String(smtpPort), PULLMAIL_SMTP_MAX_CLIENTS_PER_IP: '50' } }]);
    await node.addUser('alice@a.test');
  });
  after(async () => {
    for (const s of sockets) s.destroy();
    await node?.stop();
  });

  /** Opens a connection that sends `text` one byte every `everyMs`; resolves on close with what it learned. */
  function trickle(port: number, text: string, everyMs: number) {
    const socket = connect(port, '127.0.0.1');
    sockets.push(socket);
    let sent = 0;
    let answer = '';
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => (answer += d));
    socket.on('error', () => undefined);
    const timer = setInterval(() => {
      if (sent < text.length && socket.writable) socket.write(text[sent++]);
    }, everyMs);
    const closed = new Promise<{ sent: number; answer: string }>((resolve) => socket.once('close', () => {
      clearInterval(timer);
      resolve({ sent, answer });
    }));
    return { closed, unsent: () => text.length - sent, sent: () => sent, answer: () => answer };
  }

  it('HTTP: cuts off clients that trickle their headers, serving everyone else meanwhile (about 20 s)', async () => {
    // 20 s for the headers (http/listen.ts): at one byte per 300 ms these would need over 5 minutes
    const request = `GET /healthz HTTP/1.1\r\nHost: a.test\r\nX-Pad: ${'p'.repeat(1000)}\r\n\r\n`;
    const slow = Array.from({ length: 30 }, () => trickle(node.port, request, 300));
    let served = 0;
    let done = false;
    const others = (async () => {
      while (!done) {
        const res = await node.api('/healthz');
        assert.equal(res.status, 200, 'another client is served while the slow ones hang on');
        served++;
        // the pace of an ordinary client beside the slow ones (a delay on purpose, not a wait)
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    try {
      const results = await waitFor('the server to cut every slow client off', async () => {
        const settled = await Promise.all(slow.map((s) => Promise.race([s.closed, new Promise<undefined>((r) => setImmediate(() => r(undefined)))])));
        return settled.every(Boolean) && (settled as { sent: number; answer: string }[]);
      }, 45_000);
      for (const r of results) {
        assert.ok(r.sent < request.length, 'closed by the server before the client finished its headers');
        assert.match(r.answer, /^(HTTP\/1\.1 408 |$)/, 'a 408, or nothing');
      }
    } finally {
      done = true;
      await others;
    }
    assert.ok(served > 10, `other clients were served meanwhile (${served})`);
  });

  it('SMTP: clients trickling commands do not keep the MX from serving others', async () => {
    const slow = Array.from({ length: 30 }, () => trickle(smtpPort, `EHLO ${'slow'.repeat(50)}.test\r\n`, 200));
    // every slow client connected (greeted) and part-way through its EHLO
    await waitFor('every slow client greeted and trickling', async () => slow.every((s) => /^220 /.test(s.answer()) && s.sent() > 0));
    const replies = await rawSmtp(smtpPort, ['EHLO client.test\r\n', 'MAIL FROM:<x@other.test>\r\n', 'RCPT TO:<alice@a.test>\r\n', 'QUIT\r\n']);
    assert.match(replies[0], /^220 /);
    assert.match(replies[1], /^250[ -]/);
    assert.match(replies[2], /^250 /);
    assert.match(replies[3], /^(250|451|452) /, 'the RCPT is judged (accepted, greylisted or challenged)');
    assert.ok(slow.every((s) => s.unsent() > 0), 'the slow clients are still trickling');
  });
});

describe('property tests for parsers we own', () => {
  const sender = 'alice@a.test';
  const opts = { messageIdHeader: '<fixed@a.test>', date: new Date(Date.UTC(2026, 10, 25)) };
  /** Runs `fn`; anything thrown must be a PullmailError. Returns the result or undefined. */
  const onlyPullmailErrors = <T>(fn: () => T): T | undefined => {
    try {
      return fn();
    } catch (err) {
      assert.ok(err instanceof PullmailError, `threw ${(err as Error)?.constructor?.name}: ${String(err)}`);
      return undefined;
    }
  };

  it('completeRawMessage: any bytes either complete or fail with a PullmailError', () => {
    const headerish = fc.oneof(
      fc.constantFrom('From: alice@a.test', 'From: Alice <alice@a.test>', 'To: bob@b.test', 'Cc: x@y.test, , "q" <z@w.test>', 'Bcc: hidden@b.test', 'Subject: hi', 'To: undisclosed-recipients:;', ' folded', '\tfolded', 'Message-ID: <a@b>', 'Date: x', 'no colon here', ':empty name', 'To: a@'),
      fc.string(),
      fc.string({ unit: 'binary' }),
    );
    const eol = fc.constantFrom('\r\n', '\n', '\r', '');
    fc.assert(
      fc.property(fc.array(fc.tuple(headerish, eol), { maxLength: 8 }), eol, fc.string({ unit: 'binary' }), (lines, sep, body) => {
        const raw = Buffer.from(`${lines.map(([l, e]) => l + e).join('')}${sep}${body}`, 'latin1');
        const out = onlyPullmailErrors(() => completeRawMessage(raw, sender, opts));
        if (!out) return;
        // what went through has a From that is the sender, no Bcc field, and only canonical recipients
        assert.doesNotMatch(out.raw.toString('latin1').split(/\r?\n\r?\n/)[0], /^bcc:/im);
        for (const r of out.recipients) assert.equal(r, r.toLowerCase());
      }),
      { numRuns: 2000 },
    );
    fc.assert(fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => void onlyPullmailErrors(() => completeRawMessage(Buffer.from(bytes), sender, opts))), { numRuns: 2000 });
  });

  it('completeRawMessage: a complete message passes unchanged, with its To and Cc as recipients', () => {
    const local = fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,10}[a-z0-9]$/).filter((l) => !l.includes('..'));
    const address = fc.tuple(local, fc.constantFrom('b.test', 'c.test', 'xn--bcher-kva.test')).map(([l, d]) => `${l}@${d}`);
    const text = fc.stringMatching(/^[\x20-\x7e]{0,60}$/);
    fc.assert(
      fc.property(fc.array(address, { minLength: 1, maxLength: 4 }), fc.array(address, { maxLength: 3 }), text, fc.array(text, { maxLength: 5 }), (to, cc, subject, body) => {
        const raw = [
          `From: Alice <${sender}>`, `To: ${to.join(', ')}`, ...(cc.length ? [`Cc: ${cc.join(',\r\n\t')}`] : []),
          `Subject: ${subject}`, 'Message-ID: <m1@a.test>', 'Date: Wed, 25 Nov 2026 10:00:00 +0000', '', ...body, '',
        ].join('\r\n');
        const out = completeRawMessage(Buffer.from(raw, 'latin1'), sender, opts);
        assert.equal(out.raw.toString('latin1'), raw, 'nothing added, removed or reflowed');
        assert.equal(out.subject, subject.trim());
        assert.deepEqual([...out.recipients].sort(), [...new Set([...to, ...cc])].sort());
      }),
      { numRuns: 500 },
    );
  });

  it('parsePage: any query either parses or fails with a PullmailError, and cursors round-trip', () => {
    fc.assert(
      fc.property(fc.option(fc.oneof(fc.string(), fc.integer().map(String), fc.double().map(String)), { nil: undefined }), fc.option(fc.oneof(fc.string(), fc.base64String()), { nil: undefined }), (limit, cursor) => {
        const page = onlyPullmailErrors(() => parsePage({ limit, cursor }));
        if (!page) return;
        assert.ok(Number.isInteger(page.limit) && page.limit >= 1 && page.limit <= 200);
        if (page.cursor) assert.ok(!Number.isNaN(page.cursor.at.getTime()));
      }),
      { numRuns: 3000 },
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 8.64e14 }), fc.stringMatching(/^[A-Za-z0-9_-]{1,128}$/), fc.integer({ min: 1, max: 200 }), (ms, id, limit) => {
        const page = parsePage({ limit: String(limit), cursor: encodeCursor(new Date(ms), id) });
        assert.deepEqual(page, { limit, cursor: { at: new Date(ms), id } });
      }),
    );
  });

  it('peek and checkHeader: any token either reads or fails with a PullmailError; signed tokens read back', async () => {
    const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
    const part = fc.oneof(fc.jsonValue().map(b64), fc.string().map(b64), fc.string(), fc.constant(''));
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.tuple(part, part, part).map((p) => p.join('.')), fc.array(part, { maxLength: 5 }).map((p) => p.join('.'))), (jws) => {
        const read = onlyPullmailErrors(() => peek(jws));
        if (read) onlyPullmailErrors(() => checkHeader(read.header, 'pm-notify+jwt'));
      }),
      { numRuns: 3000 },
    );
    // headers pm1 never accepts, whatever else they carry
    const header = fc.record({
      alg: fc.oneof(fc.constantFrom('EdDSA', 'none', 'HS256', 'RS256', 'eddsa'), fc.jsonValue()),
      typ: fc.oneof(fc.constant('pm-notify+jwt'), fc.jsonValue()),
      kid: fc.oneof(fc.string(), fc.jsonValue()),
      jwk: fc.jsonValue(),
      jku: fc.string(),
      x5u: fc.string(),
      x5c: fc.jsonValue(),
      crit: fc.jsonValue(),
    }, { requiredKeys: [] });
    fc.assert(
      fc.property(header, (h) => {
        const kid = onlyPullmailErrors(() => checkHeader(h as never, 'pm-notify+jwt'));
        const acceptable = h.alg === 'EdDSA' && h.typ === 'pm-notify+jwt' && typeof h.kid === 'string' && h.kid !== '' && !('jwk' in h || 'jku' in h || 'x5u' in h || 'x5c' in h) && h.crit === undefined;
        assert.equal(kid !== undefined, acceptable, JSON.stringify(h));
        if (kid !== undefined) assert.equal(kid, h.kid);
      }),
      { numRuns: 3000 },
    );
    const signer = { kid: 'k1', key: generateKeyPairSync('ed25519').privateKey };
    await fc.assert(
      fc.asyncProperty(fc.dictionary(fc.string().filter((k) => !['iss', 'iat', 'exp', 'jti', '__proto__'].includes(k)), fc.jsonValue(), { maxKeys: 5 }), async (extra) => {
        const claims = { ...extra, iss: 'a.test', iat: 1, exp: 2, jti: 'j' };
        const { header, claims: read } = peek(await signJwt(claims, 'pm-notify+jwt', signer));
        assert.equal(checkHeader(header, 'pm-notify+jwt'), signer.kid);
        assert.deepEqual(read, JSON.parse(JSON.stringify(claims)));
      }),
      { numRuns: 100 },
    );
  });
});
