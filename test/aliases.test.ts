// Aliases and catch-all end to end (issue 16, README "Aliases and catch-all"): two nodes over pm1, the
// MX and submission listeners driven by swaks. An alias delivers to its target under the target's
// policy, a catch-all takes only what nothing more specific takes, and the target sends as its alias.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { freePort, startNodes, ADMIN_TOKEN, type TestNode } from './harness/node.ts';
import { requireSmtpTools, swaks } from './harness/smtp-tools.ts';
import { waitFor } from './harness/wait.ts';

type Json = Record<string, any>;
const PASSWORD = 'alias test password';

describe('aliases and catch-all between two nodes', { timeout: 120_000 }, () => {
  before(() => requireSmtpTools());
  let a: TestNode;
  let b: TestNode;
  let alice: string;
  let dave: string;
  let bob: string;
  let mxPort: number;
  let submissionPort: number;

  before(async () => {
    [mxPort, submissionPort] = [await freePort(), await freePort()];
    [a, b] = await startNodes([
      { domain: 'a.test', env: { PULLMAIL_SMTP_PORT: String(mxPort), PULLMAIL_SUBMISSION_PORT: String(submissionPort), PULLMAIL_GREYLIST_SECONDS: '0' } },
      { domain: 'b.test' },
    ]);
    alice = await a.addUser('alice@a.test', PASSWORD);
    dave = await a.addUser('dave@a.test');
    bob = await b.addUser('bob@b.test');
    for (const [address, target] of [['sales@a.test', 'alice@a.test'], ['@a.test', 'alice@a.test'], ['support@a.test', 'dave@a.test']]) {
      const res = await a.api('/api/v1/admin/aliases', { method: 'POST', token: ADMIN_TOKEN, json: { address, target } });
      assert.equal(res.status, 201, await res.text());
    }
    // bob takes mail from a.test; alice and dave hold strangers (the default)
    assert.equal((await b.api('/api/v1/rules', { method: 'POST', token: bob, json: { action: 'allow', pattern: '@a.test' } })).status, 201);
  });
  after(async () => {
    await a?.stop();
    await b?.stop();
  });

  const json = async (res: Response): Promise<Json> => res.json() as Promise<Json>;
  async function bobSends(to: string, subject: string): Promise<string> {
    const res = await b.api('/api/v1/messages', { method: 'POST', token: bob, json: { to: [to], subject, text: 'hi' } });
    const body = await json(res);
    assert.equal(res.status, 201, JSON.stringify(body));
    return body.id;
  }
  const bobState = async (id: string) => (await json(await b.api(`/api/v1/messages/${id}`, { token: bob }))).deliveries[0].state as string;
  const requests = async (token: string) => (await json(await a.api('/api/v1/requests', { token }))).requests as Json[];
  const inbox = async (node: TestNode, token: string) => (await json(await node.api('/api/v1/inbox', { token }))).messages as Json[];

  describe('pm1', () => {
    it('mail to an alias is held by the target\'s first-contact policy, in the target\'s requests', async () => {
      const id = await bobSends('sales@a.test', 'to sales');
      await waitFor('held', async () => (await bobState(id)) === 'held');
      const [req] = await requests(alice);
      assert.equal(req.subject, 'to sales');
      assert.equal(req.from, 'bob@b.test');
      assert.deepEqual(await requests(dave), []);
      // accepting fetches it, and the sender sees its delivery to the alias as fetched
      assert.equal((await a.api(`/api/v1/requests/${req.id}/accept`, { method: 'POST', token: alice })).status, 200);
      await waitFor('fetched', async () => (await bobState(id)) === 'fetched');
      assert.ok((await inbox(a, alice)).some((m) => m.subject === 'to sales' && m.via === 'pm1'));
    });

    it('the catch-all takes an address nothing else takes, under the same policy (bob is now known)', async () => {
      const id = await bobSends('whoever@a.test', 'to nobody in particular');
      await waitFor('fetched', async () => (await bobState(id)) === 'fetched');
      assert.ok((await inbox(a, alice)).some((m) => m.subject === 'to nobody in particular'));
    });

    it('an exact alias and a mailbox come before the catch-all', async () => {
      const toSupport = await bobSends('support@a.test', 'to support');
      const toDave = await bobSends('dave@a.test', 'to dave');
      // dave has never heard of bob: both held at dave, none at alice
      await waitFor('held at dave', async () => (await bobState(toSupport)) === 'held' && (await bobState(toDave)) === 'held');
      assert.deepEqual((await requests(dave)).map((r) => r.subject).sort(), ['to dave', 'to support']);
      assert.ok(!(await requests(alice)).some((r) => /to (dave|support)/.test(r.subject)));
    });

    it('without a catch-all, an unknown address is rejected', async () => {
      const res = await a.api('/api/v1/messages', { method: 'POST', token: alice, json: { to: ['nobody@b.test'], subject: 'lost', text: 'x' } });
      const { id } = await json(res);
      await waitFor('rejected', async () => (await json(await a.api(`/api/v1/messages/${id}`, { token: alice }))).deliveries[0].state === 'rejected');
    });
  });

  describe('SMTP inbound', () => {
    const mx = (to: string, subject: string) => swaks(mxPort, ['--from', 'zed@legacy.test', '--to', to, '--header', `Subject: ${subject}`, '--body', 'hello']);

    it('RCPT TO an alias and to a catch-all address are accepted and filed to the target', async () => {
      for (const [to, subject] of [['sales@a.test', 'smtp to sales'], ['random@a.test', 'smtp to the catch-all']]) {
        const r = await mx(to, subject);
        assert.equal(r.code, 0, r.out);
        assert.ok(r.replies.some((x) => x.startsWith('250 ') && /Ok: stored/.test(x)), r.out);
      }
      const held = (await requests(alice)).filter((r) => r.via === 'smtp').map((r) => r.subject).sort();
      assert.deepEqual(held, ['smtp to sales', 'smtp to the catch-all']);
    });

    it('an alias and its target in one transaction make one copy', async () => {
      const r = await mx('sales@a.test,alice@a.test', 'both addresses');
      assert.equal(r.code, 0, r.out);
      assert.equal((await requests(alice)).filter((x) => x.subject === 'both addresses').length, 1);
    });

    it('a domain not served here is still refused as relaying', async () => {
      const r = await mx('someone@elsewhere.test', 'relay');
      assert.ok(r.replies.some((x) => /^5\d\d 5\.7\.1/.test(x)), r.out);
    });
  });

  describe('sending as an alias', () => {
    const fromOnBob = async (subject: string) => waitFor(subject, async () => (await inbox(b, bob)).find((m) => m.subject === subject));

    it('through the API with "from": the recipient sees the alias as sender', async () => {
      const res = await a.api('/api/v1/messages', { method: 'POST', token: alice, json: { from: 'Sales@a.test', to: ['bob@b.test'], subject: 'from sales', text: 'offer' } });
      assert.equal(res.status, 201, await res.clone().text());
      assert.equal((await fromOnBob('from sales')).from, 'sales@a.test');
    });

    it('as a raw message with From: the alias', async () => {
      const raw = 'From: Sales <sales@a.test>\r\nTo: bob@b.test\r\nSubject: raw from sales\r\n\r\nbody\r\n';
      const res = await a.api('/api/v1/messages', { method: 'POST', token: alice, headers: { 'content-type': 'message/rfc822' }, body: raw });
      assert.equal(res.status, 201, await res.clone().text());
      assert.equal((await fromOnBob('raw from sales')).from, 'sales@a.test');
    });

    it('through submission with MAIL FROM and From: the alias', async () => {
      const r = await swaks(submissionPort, ['--auth', 'PLAIN', '--auth-user', 'alice@a.test', '--auth-password', PASSWORD, '--from', 'sales@a.test', '--to', 'bob@b.test', '--header', 'Subject: submitted from sales', '--body', 'x']);
      assert.ok(r.replies.some((x) => /^250 2\.0\.0 Ok: queued/.test(x)), r.out);
      assert.equal((await fromOnBob('submitted from sales')).from, 'sales@a.test');
    });

    const refused: [string, Json][] = [
      // dave's alias is not alice's
      ['another user\'s alias', { from: 'support@a.test' }],
      // a catch-all receives for addresses nobody owns; it gives no right to send as them
      ['an address only the catch-all covers', { from: 'whoever@a.test' }],
    ];
    for (const [name, extra] of refused) {
      it(`is 403 forbidden for ${name}`, async () => {
        const res = await a.api('/api/v1/messages', { method: 'POST', token: alice, json: { ...extra, to: ['bob@b.test'], subject: 'no', text: 'x' } });
        assert.equal(res.status, 403);
        assert.equal((await json(res)).error, 'forbidden');
      });
    }

    it('submission refuses MAIL FROM someone else\'s alias with 553 5.7.1', async () => {
      const r = await swaks(submissionPort, ['--auth', 'PLAIN', '--auth-user', 'alice@a.test', '--auth-password', PASSWORD, '--from', 'support@a.test', '--to', 'bob@b.test', '--body', 'x']);
      assert.ok(r.replies.some((x) => x.startsWith('553 5.7.1')), r.out);
    });
  });
});
