// The command line in-process with a fake fetch: help for every command, usage errors caught before
// any request, how flags become API requests, and how failures become exit codes and messages.
// (test/pullmail-cli.test.ts runs the real process against real nodes.)
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { FetchInit, FetchLike } from '../api/index.ts';
import type { CliIo } from './command.ts';
import { commandSections } from './commands/index.ts';
import { ExitCode } from './exit-codes.ts';
import { runCli } from './run.ts';

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
  calls: { url: string; init: FetchInit }[];
}

const dir = mkdtempSync(join(tmpdir(), 'pm-cli-unit-'));

async function cli(argv: string[], opts: { env?: Record<string, string>; stdin?: string; reply?: (url: string, init: FetchInit) => Response | Promise<Response> } = {}): Promise<Ran> {
  let stdout = '';
  let stderr = '';
  const calls: Ran['calls'] = [];
  const fetch: FetchLike = async (url, init) => {
    calls.push({ url, init });
    return opts.reply ? opts.reply(url, init) : Response.json({});
  };
  const io: CliIo = {
    stdout: { write: (s) => (stdout += typeof s === 'string' ? s : Buffer.from(s).toString()) },
    stderr: { write: (s) => (stderr += String(s)) },
    stdinIsTTY: false,
    readStdin: async () => new TextEncoder().encode(opts.stdin ?? ''),
    // a config dir of its own: never the developer's real config
    env: { XDG_CONFIG_HOME: join(dir, 'config'), PULLMAIL_URL: 'https://node.test', PULLMAIL_TOKEN: 'tok', ...opts.env },
    cwd: dir,
    homedir: dir,
    platform: 'linux',
    fetch,
    sleep: async () => {},
  };
  const code = await runCli(argv, io);
  return { code, stdout, stderr, calls };
}

const allCommands = commandSections().flatMap((s) => s.commands);

describe('pullmail help', () => {
  for (const cmd of allCommands) {
    it(`${cmd.name} --help prints its usage and exits 0`, async () => {
      const r = await cli([...cmd.name.split(' '), '--help']);
      assert.equal(r.code, ExitCode.ok, r.stderr);
      assert.match(r.stdout, new RegExp(`^usage: pullmail ${cmd.name}`));
      assert.match(r.stdout, /global options:/);
      assert.equal(r.calls.length, 0);
    });
  }

  it('--help and "help" list every command and the exit codes', async () => {
    for (const argv of [['--help'], ['help'], ['-h']]) {
      const r = await cli(argv);
      assert.equal(r.code, 0);
      for (const cmd of allCommands) assert.ok(r.stdout.includes(`  ${cmd.name}`), `${cmd.name} listed`);
      assert.match(r.stdout, /exit codes:\n  0  ok/);
    }
    assert.match((await cli(['help', 'rules', 'add'])).stdout, /^usage: pullmail rules add <allow\|block> <pattern>/);
  });

  it('no command at all is a usage error that shows the help', async () => {
    const r = await cli([]);
    assert.equal(r.code, ExitCode.usage);
    assert.match(r.stderr, /a command is needed[\s\S]*usage: pullmail <command>/);
  });
});

describe('pullmail usage errors (exit 2, no request made)', () => {
  const cases: [string[], RegExp][] = [
    [['fly'], /unknown command "fly"/],
    [['rules', 'frobnicate'], /unknown command "rules frobnicate"; "rules" takes: list, add, remove/],
    [['inbox', '--bogus'], /Unknown option '--bogus'/],
    [['read'], /read needs <id>/],
    [['read', '-wB3Xk2XoAhOFXz2dYDUuQ'], /Unknown option '-w'.*\n?.*goes after "--": pullmail read -- -wB3Xk2XoAhOFXz2dYDUuQ/s],
    [['read', 'a', 'b'], /unexpected argument "b"/],
    [['read', 'a', '--raw', '--json'], /--raw and --json exclude each other/],
    [['send', '-m', 'hi'], /at least one recipient/],
    [['send', '--to', 'bob'], /--to: "bob" is not a mail address/],
    [['send', '--to', 'b@b.test', '--rfc822', 'x.eml'], /cannot be combined with --to/],
    [['send', '--to', 'b@b.test', '--file', 'missing.txt'], /cannot read body file missing.txt: no such file/],
    [['send', '--to', 'b@b.test', '--file', 'a', '--text', 'b'], /--file or --text, not both/],
    [['edit', 'm1', '-m', 'v2', '--subject', 's'], /an edit needs the recipients again/],
    [['status', 'm1', '--wait', 'done'], /"done" is not a delivery state/],
    [['status', 'm1', '--wait', 'fetched', '--timeout', 'soon'], /--timeout must be a positive number/],
    [['inbox', '--limit', '0'], /--limit must be a whole number from 1 to 200/],
    [['rules', 'add', 'permit', 'a@b.test'], /the action is "allow" or "block"/],
    [['rules', 'add', 'allow', 'nobody'], /neither an address .* nor a domain/],
    [['settings', 'set', 'first_contact', 'maybe'], /first_contact is one of hold, challenge, fetch/],
    [['settings', 'set', 'colour', 'blue'], /unknown setting "colour"/],
    [['settings', 'set', 'challenge_question', 'Cat?'], /needs its answer: --answer/],
    [['token', 'create'], /--sender is required/],
    [['token', 'create', '--sender', '@a.test', '--max-uses', '0'], /--max-uses must be a whole number/],
    [['config', 'set', 'colour', 'blue'], /config set takes "url" or "token"/],
    [['config', 'set', 'url', 'mail.example.org'], /not a URL/],
  ];
  for (const [argv, message] of cases) {
    it(`pullmail ${argv.join(' ')}`, async () => {
      const r = await cli(argv);
      assert.equal(r.code, ExitCode.usage, `${r.stdout}${r.stderr}`);
      assert.match(r.stderr, message);
      assert.equal(r.calls.length, 0, 'nothing is sent to the node');
      assert.equal(r.stdout, '');
    });
  }

  it('without a URL or token anywhere it says where to put them', async () => {
    const noUrl = await cli(['inbox'], { env: { PULLMAIL_URL: '' } });
    assert.equal(noUrl.code, ExitCode.usage);
    assert.match(noUrl.stderr, /no node URL: pass --url <url>, set PULLMAIL_URL, or save one with "pullmail login/);
    const noToken = await cli(['inbox'], { env: { PULLMAIL_TOKEN: '' } });
    assert.match(noToken.stderr, /no token: pass --token <token>, set PULLMAIL_TOKEN/);
  });

  it('with --json the error is one JSON line on stderr', async () => {
    const r = await cli(['read', '--json']);
    assert.equal(r.code, ExitCode.usage);
    assert.deepEqual(JSON.parse(r.stderr), { error: 'usage', detail: 'read needs <id>' });
  });
});

describe('pullmail requests and answers', () => {
  it('send: repeated and comma-separated recipients, body from stdin, attachments as base64, consent', async () => {
    writeFileSync(join(dir, 'notes.txt'), 'attached text');
    const r = await cli(['send', '--to', 'bob@b.test,carol@b.test', '--to', 'dan@d.test', '--cc', 'eve@e.test', '--bcc', 'fay@f.test', '-s', 'Hello', '-a', 'notes.txt', '--consent', 'tok1', '--json'], {
      stdin: 'body from stdin\n',
      reply: () => Response.json({ id: 'm1', version: 1, deliveries: [{ rcpt: 'bob@b.test', state: 'queued' }] }, { status: 201 }),
    });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { id: 'm1', version: 1, deliveries: [{ rcpt: 'bob@b.test', state: 'queued' }] });
    const [call] = r.calls;
    assert.equal(call.url, 'https://node.test/api/v1/messages');
    assert.deepEqual(JSON.parse(call.init.body as string), {
      to: ['bob@b.test', 'carol@b.test', 'dan@d.test'],
      cc: ['eve@e.test'],
      bcc: ['fay@f.test'],
      subject: 'Hello',
      text: 'body from stdin\n',
      attachments: [{ filename: 'notes.txt', contentType: 'text/plain', content: Buffer.from('attached text').toString('base64') }],
      consent: ['tok1'],
    });
  });

  it('send with attachments and no consent streams a MIME message, From as GET /me says', async () => {
    writeFileSync(join(dir, 'data.bin'), Buffer.from([0, 1, 2, 255]));
    let uploaded = '';
    const r = await cli(['send', '--to', 'bob@b.test', '--bcc', 'fay@f.test', '-s', 'Grüße', '-m', 'hi', '-a', 'data.bin', '--json'], {
      reply: async (url, init) => {
        if (url.endsWith('/api/v1/me')) return Response.json({ address: 'me@a.test' });
        uploaded = await new Response(init.body as ReadableStream).text();
        return Response.json({ id: 'm3', version: 1, deliveries: [{ rcpt: 'bob@b.test', state: 'queued' }] }, { status: 201 });
      },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.calls.map((c) => [c.init.method, c.url]), [['GET', 'https://node.test/api/v1/me'], ['POST', 'https://node.test/api/v1/messages']]);
    const post = r.calls[1].init;
    assert.equal(post.headers['content-type'], 'message/rfc822');
    assert.ok(post.body instanceof ReadableStream);
    assert.equal(post.duplex, 'half');
    assert.match(uploaded, /^From: me@a\.test\r\nTo: bob@b\.test\r\nBcc: fay@f\.test\r\nSubject: =\?UTF-8\?B\?R3LDvMOfZQ==\?=\r\n/);
    assert.match(uploaded, /Content-Disposition: attachment; filename="data\.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\nAAEC\/w==\r\n/);
  });

  it('send refuses a missing attachment before contacting the node', async () => {
    const r = await cli(['send', '--to', 'bob@b.test', '-m', 'hi', '-a', 'nowhere.bin']);
    assert.equal(r.code, ExitCode.usage);
    assert.match(r.stderr, /cannot read attachment nowhere\.bin: no such file/);
    assert.equal(r.calls.length, 0);
  });

  it('send --rfc822 posts the file bytes as message/rfc822', async () => {
    writeFileSync(join(dir, 'm.eml'), 'From: a@a.test\r\nTo: b@b.test\r\nSubject: raw\r\n\r\nhi\r\n');
    const r = await cli(['send', '--rfc822', 'm.eml'], { reply: () => Response.json({ id: 'm2', version: 1, deliveries: [{ rcpt: 'b@b.test', state: 'queued' }] }, { status: 201 }) });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.calls[0].init.headers['content-type'], 'message/rfc822');
    assert.equal(Buffer.from(r.calls[0].init.body as Uint8Array).toString(), 'From: a@a.test\r\nTo: b@b.test\r\nSubject: raw\r\n\r\nhi\r\n');
    assert.match(r.stdout, /✓ sent m2 \(version 1\)\nRECIPIENT\s+STATE\s+DETAIL\nb@b\.test\s+queued/);
  });

  it('edit keeps the old subject when none is given', async () => {
    const r = await cli(['edit', 'm1', '--to', 'bob@b.test', '-m', 'v2'], {
      reply: (_url, init) =>
        init.method === 'GET'
          ? Response.json({ id: 'm1', subject: 'Old subject', version: 1, created_at: new Date().toISOString(), deliveries: [] })
          : Response.json({ id: 'm1', version: 2, deliveries: [{ rcpt: 'bob@b.test', state: 'queued' }] }),
    });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.calls[1].init.body as string), { to: ['bob@b.test'], subject: 'Old subject', text: 'v2' });
    assert.match(r.stdout, /✓ edited m1 \(version 2\)/);
  });

  it('status shows challenge URLs and reasons per recipient', async () => {
    const status = {
      id: 'm1',
      subject: 'Hi',
      version: 1,
      created_at: '2025-01-01T10:00:00Z',
      deliveries: [
        { rcpt: 'bob@b.test', state: 'fetched', fetched_at: '2025-01-01T10:01:00Z' },
        { rcpt: 'cat@c.test', state: 'challenged', challenge_url: 'https://c.test/challenge/abc' },
        { rcpt: 'dan@d.test', state: 'rejected', reason: 'blocked' },
      ],
    };
    const r = await cli(['status', 'm1'], { reply: () => Response.json(status) });
    assert.equal(r.code, 0);
    assert.match(r.stdout, /cat@c\.test\s+challenged\s+answer the challenge at https:\/\/c\.test\/challenge\/abc/);
    assert.match(r.stdout, /dan@d\.test\s+rejected\s+blocked/);
    assert.match(r.stdout, /bob@b\.test\s+fetched\s+fetched \d{4}-\d\d-\d\d \d\d:\d\d/);
    const j = await cli(['status', 'm1', '--json'], { reply: () => Response.json(status) });
    assert.deepEqual(JSON.parse(j.stdout), status);
  });

  it('status --wait polls until every recipient is in a wanted state', async () => {
    let n = 0;
    const r = await cli(['status', 'm1', '--wait', 'fetched'], {
      reply: () => Response.json({ id: 'm1', subject: 's', version: 1, created_at: '2025-01-01T10:00:00Z', deliveries: [{ rcpt: 'b@b.test', state: ++n < 3 ? 'held' : 'fetched' }] }),
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.calls.length, 3);
  });

  it('status --wait gives up with exit 5 when a recipient reaches another final state', async () => {
    const r = await cli(['status', 'm1', '--wait', 'fetched'], {
      reply: () => Response.json({ id: 'm1', subject: 's', version: 1, created_at: '2025-01-01T10:00:00Z', deliveries: [{ rcpt: 'b@b.test', state: 'rejected', reason: 'blocked' }] }),
    });
    assert.equal(r.code, ExitCode.timeout);
    assert.match(r.stderr, /b@b\.test is rejected, which is final/);
    assert.match(r.stdout, /b@b\.test\s+rejected/, 'the last status is still shown');
  });

  it('inbox and sent print the next-page command when there is a cursor', async () => {
    const r = await cli(['inbox', '--limit', '1'], {
      reply: () => Response.json({ messages: [{ id: 'i1', from: 'a@a.test', subject: 'S', received_at: '2025-01-01T10:00:00Z', size: 1200, via: 'pm1' }], total: 2, cursor: 'CUR' }),
    });
    assert.equal(new URL(r.calls[0].url).search, '?limit=1');
    assert.match(r.stdout, /i1\s+\d{4}-\d\d-\d\d \d\d:\d\d\s+a@a\.test\s+S\s+1\.2 kB\s+pm1/);
    assert.match(r.stdout, /more: pullmail inbox --limit 1 --cursor CUR/);
  });

  it('read shows an HTML-only message as text', async () => {
    const m = { id: 'i1', from: 'a@a.test', subject: 'S', received_at: '2025-01-01T10:00:00Z', size: 10, via: 'pm1', headers: [], html: '<p>Hello&nbsp;<b>Bob</b></p><script>x()</script>', attachments: [] };
    const r = await cli(['read', 'i1'], { reply: () => Response.json(m) });
    assert.match(r.stdout, /\n\nHello Bob\n$/);
  });
});

describe('pullmail failures and exit codes', () => {
  const cases: [string, () => Response | Promise<Response>, number, RegExp][] = [
    ['401 → 4 with a hint about the token', () => Response.json({ error: 'unauthorized', detail: 'invalid token' }, { status: 401 }), ExitCode.auth, /https:\/\/node\.test did not accept your token \(the token from PULLMAIL_TOKEN\): invalid token\n  Use the token/],
    ['403 → 4', () => Response.json({ error: 'forbidden', detail: 'admin only' }, { status: 403 }), ExitCode.auth, /not allowed: admin only/],
    ['404 → 1 with code and detail', () => Response.json({ error: 'not_found', detail: 'no such message in your inbox' }, { status: 404 }), ExitCode.refused, /not_found: no such message in your inbox \(HTTP 404\)/],
    ['a missing route → 1, says the node may be older', () => Response.json({ error: 'not_found', detail: 'no route for GET /api/v1/inbox' }, { status: 404 }), ExitCode.refused, /may run an older pullmail/],
    ['429 → 1 with the wait', () => Response.json({ error: 'rate_limited', detail: 'slow down' }, { status: 429, headers: { 'retry-after': '30' } }), ExitCode.refused, /try again in 30 s/],
    ['refused connection → 3', () => Promise.reject(new TypeError('fetch failed', { cause: Object.assign(new Error('x'), { code: 'ECONNREFUSED' }) })), ExitCode.network, /cannot reach https:\/\/node\.test: connection refused\n  Is the node running, and is the URL right\? \(URL from PULLMAIL_URL\)/],
    ['TLS failure → 3 with the CA hint', () => Promise.reject(new TypeError('fetch failed', { cause: Object.assign(new Error('x'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' }) })), ExitCode.network, /TLS failed[\s\S]*NODE_EXTRA_CA_CERTS/],
  ];
  for (const [name, reply, code, message] of cases) {
    it(name, async () => {
      const r = await cli(['inbox'], { reply });
      assert.equal(r.code, code, r.stderr);
      assert.match(r.stderr, message);
      assert.equal(r.stdout, '');
    });
  }

  it('--json errors are JSON on stderr', async () => {
    const api = await cli(['inbox', '--json'], { reply: () => Response.json({ error: 'unauthorized', detail: 'invalid token' }, { status: 401 }) });
    assert.deepEqual(JSON.parse(api.stderr), { error: 'unauthorized', detail: 'invalid token', status: 401 });
    const net = await cli(['inbox', '--json'], { reply: () => Promise.reject(new TypeError('fetch failed', { cause: Object.assign(new Error('x'), { code: 'ECONNREFUSED' }) })) });
    assert.deepEqual(JSON.parse(net.stderr), { error: 'unreachable', reason: 'refused', detail: 'cannot reach https://node.test: connection refused' });
  });
});

describe('pullmail colour', () => {
  const inbox = () => Response.json({ messages: [], total: 0 });
  const state = () => Response.json({ id: 'm', subject: 's', version: 1, created_at: '2025-01-01T10:00:00Z', deliveries: [{ rcpt: 'b@b.test', state: 'fetched' }] });
  it('none when stdout is not a terminal', async () => assert.doesNotMatch((await cli(['status', 'm'], { reply: state })).stdout, /\x1b\[/));
  it('FORCE_COLOR forces it', async () => assert.match((await cli(['status', 'm'], { reply: state, env: { FORCE_COLOR: '1' } })).stdout, /\x1b\[32mfetched\x1b\[39m/));
  it('NO_COLOR wins over FORCE_COLOR', async () => assert.doesNotMatch((await cli(['status', 'm'], { reply: state, env: { FORCE_COLOR: '1', NO_COLOR: '1' } })).stdout, /\x1b\[/));
  it('never in --json output', async () => assert.doesNotMatch((await cli(['inbox', '--json'], { reply: inbox, env: { FORCE_COLOR: '1' } })).stdout, /\x1b\[/));
});
