// Issue 12, abuse by a signed-in user and guessing: the per-user send limit counts API sends, edits
// and SMTP submission together (429 with Retry-After / 451 4.7.1), and SMTP AUTH and bearer tokens
// are throttled per account and per client address, each failure counted in /metrics.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { findBinary, swaks } from './harness/smtp-tools.ts';
import { freePort, startNode, type TestNode } from './harness/node.ts';

const PASSWORD = 'correct horse battery';
type Json = Record<string, any>;

describe('per-user send limit across doors', () => {
  let a: TestNode;
  let alice: string;
  let submissionPort: number;
  before(async () => {
    assert.ok(findBinary('swaks'), 'swaks must be installed (Debian package swaks)');
    submissionPort = await freePort();
    // carl's node never answers: his deliveries stay queued, so an edit has someone to reach
    const closed = await freePort();
    a = await startNode({
      domain: 'a.test',
      peers: `elsewhere.test=http://127.0.0.1:${closed}`,
      env: { PULLMAIL_SUBMISSION_PORT: String(submissionPort), PULLMAIL_SEND_LIMIT: '3/3600', PULLMAIL_AUTH_FAILURES_ACCOUNT: '3/900' },
    });
    alice = await a.addUser('alice@a.test', PASSWORD);
    await a.addUser('dora@a.test', PASSWORD);
  });
  after(async () => a?.stop());

  const send = (subject: string) => a.api('/api/v1/messages', { method: 'POST', token: alice, json: { to: ['carl@elsewhere.test'], subject, text: 'hi' } });
  const submit = (user: string, password: string) =>
    swaks(submissionPort, ['--auth', 'PLAIN', '--auth-user', user, '--auth-password', password, '--from', user, '--to', 'carl@elsewhere.test', '--header', 'Subject: by submission']);
  const last = (r: { replies: string[] }) => r.replies.filter((x) => !x.startsWith('221')).at(-1) ?? '';

  it('counts an API send, an edit and a submission against one budget; then 429 and 451 4.7.1', async () => {
    const first = await send('one');
    assert.equal(first.status, 201);
    const { id } = (await first.json()) as Json;
    const edit = await a.api(`/api/v1/messages/${id}`, { method: 'PUT', token: alice, json: { to: ['carl@elsewhere.test'], subject: 'one, edited', text: 'hi again' } });
    assert.equal(edit.status, 200, await edit.clone().text());
    const submitted = await submit('alice@a.test', PASSWORD);
    assert.match(last(submitted), /^250 /, submitted.out);

    const over = await send('four');
    assert.equal(over.status, 429);
    const retryAfter = Number(over.headers.get('retry-after'));
    assert.ok(retryAfter > 3000 && retryAfter <= 3600, `Retry-After is the rest of the window (${retryAfter})`);
    assert.equal(((await over.json()) as Json).error, 'rate_limited');
    const refused = await submit('alice@a.test', PASSWORD);
    assert.match(last(refused), /^451 4\.7\.1 /, refused.out);
    const sent = (await (await a.api('/api/v1/sent', { token: alice })).json()) as Json;
    assert.deepEqual(sent.messages.map((m: Json) => m.subject).sort(), ['by submission', 'one, edited']);
  });

  it('locks an account out of SMTP AUTH after its failures, refusing even the right password; /metrics counts them', async () => {
    for (let i = 0; i < 3; i++) {
      const wrong = await submit('dora@a.test', `guess ${i}`);
      assert.ok(wrong.replies.includes('535 5.7.8 Authentication credentials invalid'), wrong.out);
    }
    const locked = await submit('dora@a.test', PASSWORD);
    assert.ok(locked.replies.some((x) => /^454 4\.7\.0 /.test(x)), locked.out);
    const metrics = await (await a.api('/metrics')).text();
    assert.match(metrics, /^pullmail_login_failures_total\{door="submission",reason="bad_credentials"\} 3$/m);
    assert.match(metrics, /^pullmail_login_failures_total\{door="submission",reason="locked_out"\} 1$/m);
  });
});

describe('bearer tokens are throttled per client address', () => {
  let b: TestNode;
  let bob: string;
  before(async () => {
    b = await startNode({ domain: 'b.test', env: { PULLMAIL_AUTH_FAILURES_CLIENT: '3/600' } });
    bob = await b.addUser('bob@b.test');
  });
  after(async () => b?.stop());

  it('after a few wrong tokens from one address even a right token gets 429 with Retry-After', async () => {
    assert.equal((await b.api('/api/v1/inbox', { token: bob })).status, 200);
    for (let i = 0; i < 3; i++) assert.equal((await b.api('/api/v1/inbox', { token: `pm_wrong${i}` })).status, 401);
    const locked = await b.api('/api/v1/inbox', { token: bob });
    assert.equal(locked.status, 429);
    assert.ok(Number(locked.headers.get('retry-after')) > 500, `Retry-After ${locked.headers.get('retry-after')}`);
    const metrics = await (await b.api('/metrics')).text();
    assert.match(metrics, /^pullmail_login_failures_total\{door="api_token",reason="bad_credentials"\} 3$/m);
  });
});
