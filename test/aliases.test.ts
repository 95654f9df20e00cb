// Aliases and catch-all end to end (issue 16, README "Aliases and catch-all"): two nodes over pm1, the
// MX and submission listeners driven by swaks. An alias delivers to its target under the target's
// policy, a catch-all takes only what nothing more specific takes, and the target sends as its alias.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import { issueCapability } from '../packages/server/src/protocol/capability.ts';
import { randomId, sha256b64url } from '../packages/server/src/protocol/jws.ts';
import { signNotification } from '../packages/server/src/protocol/notification.ts';
import { MAX_RECIPIENTS } from '../packages/server/src/smtp/mx-listener.ts';
import { inbound } from '../packages/server/src/store/schema.ts';
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
  let carol: string;
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
    carol = await b.addUser('carol@b.test');
    const aliases: [TestNode, string, string][] = [
      [a, 'sales@a.test', 'alice@a.test'], [a, '@a.test', 'alice@a.test'], [a, 'support@a.test', 'dave@a.test'],
      [b, 'info@b.test', 'bob@b.test'], [b, 'help@b.test', 'carol@b.test'],
    ];
    for (const [node, address, target] of aliases) {
      const res = await node.api('/api/v1/admin/aliases', { method: 'POST', token: ADMIN_TOKEN, json: { address, target } });
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

    const rowsAtB = async (id: string) => b.server.ctx.db.select().from(inbound).where(eq(inbound.remoteId, id));

    it('a message to an alias and to its target is stored once, and both notifications are answered', async () => {
      const res = await a.api('/api/v1/messages', { method: 'POST', token: alice, json: { to: ['info@b.test', 'bob@b.test'], subject: 'to bob twice', text: 'hi' } });
      const { id } = await json(res);
      assert.equal(res.status, 201);
      const states = await waitFor('both answered, one fetched', async () => {
        const ds = (await json(await a.api(`/api/v1/messages/${id}`, { token: alice }))).deliveries as Json[];
        return ds.every((d) => d.state !== 'queued') && ds.some((d) => d.state === 'fetched') ? ds.map((d) => d.state as string) : undefined;
      });
      // the second one is answered like the first (fetch) and never fetched: bob has the message already
      assert.deepEqual(states.sort(), ['fetched', 'notified']);
      assert.equal((await rowsAtB(id)).length, 1);
      assert.equal((await inbox(b, bob)).filter((m) => m.subject === 'to bob twice').length, 1);
    });

    /** A notification as a.test makes it, for a message a.test does not have (nothing is fetched: carol holds strangers). */
    async function signedFor(id: string, rcpt: string): Promise<string> {
      const now = Math.floor(Date.now() / 1000);
      const raw = 'From: alice@a.test\r\nSubject: for carol\r\n\r\nhello\r\n';
      const cap = await issueCapability(a.server.ctx.keys, { iss: 'a.test', aud: 'b.test', sub: id, rcpt, exp: now + 86_400 }, now);
      return signNotification(a.server.ctx.keys, {
        iss: 'a.test', aud: 'b.test', kind: 'new',
        msg: { id, from: 'alice@a.test', rcpt, version: 1, size: raw.length, sha256: sha256b64url(raw), subject: 'for carol', sent_at: now },
        fetch: { url: `${a.url}/pm/v1/messages/${id}`, cap },
      }, now);
    }
    const notify = async (jws: string) => json(await b.api('/pm/v1/notify', { method: 'POST', body: jws, headers: { 'content-type': 'application/jose' } }));
    const notifyBatch = async (list: string[]) => (await json(await b.api('/pm/v1/notify/batch', { method: 'POST', json: { notifications: list } }))).results as Json[];
    const HOLD = { decision: 'hold', reason: 'first_contact' };

    it('one by one: the second address is answered like the first, also on a retry, and one request is held', async () => {
      const id = randomId();
      assert.deepEqual(await notify(await signedFor(id, 'help@b.test')), HOLD);
      assert.deepEqual(await notify(await signedFor(id, 'carol@b.test')), HOLD);
      // protocol §2: a retry (freshly signed) gets the same answer and causes nothing
      assert.deepEqual(await notify(await signedFor(id, 'carol@b.test')), HOLD);
      const rows = await rowsAtB(id);
      assert.deepEqual(rows.map((r) => [r.rcpt, r.state]), [['help@b.test', 'held']]);
    });

    it('when the user rejects the kept request, a recheck of either address learns it', async () => {
      const id = randomId();
      assert.deepEqual(await notify(await signedFor(id, 'help@b.test')), HOLD);
      assert.deepEqual(await notify(await signedFor(id, 'carol@b.test')), HOLD);
      const [row] = await rowsAtB(id);
      assert.equal((await b.api(`/api/v1/requests/${row.id}/reject`, { method: 'POST', token: carol })).status, 200);
      const REJECTED = { decision: 'reject', reason: 'policy' };
      assert.deepEqual(await notify(await signedFor(id, 'carol@b.test')), REJECTED);
      assert.deepEqual(await notify(await signedFor(id, 'help@b.test')), REJECTED);
    });

    it('at the same instant, one by one and in batches: one request held, every answer alike', async () => {
      const id = randomId();
      const [x, y, z] = [await signedFor(id, 'help@b.test'), await signedFor(id, 'carol@b.test'), await signedFor(id, 'help@b.test')];
      // on PostgreSQL these run in parallel transactions: the lock on (message, mailbox) lets one make the row
      const answers = await Promise.all([notify(x), notify(y), notifyBatch([y, z]), notifyBatch([z])]);
      assert.deepEqual(answers.flat(), [HOLD, HOLD, HOLD, HOLD, HOLD]);
      assert.equal((await rowsAtB(id)).length, 1);
    });

    it('in one batch: both answered alike, one request held, and a retry of the batch changes nothing', async () => {
      const id = randomId();
      const batch = [await signedFor(id, 'carol@b.test'), await signedFor(id, 'help@b.test')];
      assert.deepEqual(await notifyBatch(batch), [HOLD, HOLD]);
      assert.deepEqual(await notifyBatch([await signedFor(id, 'help@b.test'), await signedFor(id, 'carol@b.test')]), [HOLD, HOLD]);
      const [row, ...more] = await rowsAtB(id);
      assert.deepEqual(more, []);
      // carol sees it once, as the request she decides on
      assert.equal((await json(await b.api('/api/v1/requests', { token: carol }))).requests.filter((r: Json) => r.id === row.id).length, 1);
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

    it(`the catch-all counts against the cap of ${MAX_RECIPIENTS} recipients: RCPT ${MAX_RECIPIENTS + 1} gets 452 4.5.3`, async () => {
      // all of them fall to the catch-all (alice): one copy, but every RCPT is one more recipient
      const to = Array.from({ length: MAX_RECIPIENTS + 1 }, (_, i) => `many${i}@a.test`);
      const r = await mx(to.join(','), 'many addresses');
      // the server line that follows each RCPT TO in the transcript
      const lines = r.out.split('\n');
      const rcptReplies = lines.flatMap((l, i) => (l.startsWith(' -> RCPT TO') ? [lines[i + 1].replace(/^<(-|\*\*) +/, '')] : []));
      assert.equal(rcptReplies.filter((x) => x.startsWith('250 ')).length, MAX_RECIPIENTS, r.out.slice(-2000));
      assert.match(rcptReplies.at(-1) ?? '', /^452 4\.5\.3 /, r.out.slice(-2000));
      // a repeated RCPT of an address already accepted is no new recipient
      const again = await mx([...to.slice(0, MAX_RECIPIENTS), to[0]].join(','), 'many addresses, one twice');
      assert.ok(!again.replies.some((x) => x.startsWith('452 ')), again.out.slice(-2000));
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

    it('an edit of a message sent as an alias deleted since is 403 forbidden, and sends nothing', async () => {
      const made = await a.api('/api/v1/admin/aliases', { method: 'POST', token: ADMIN_TOKEN, json: { address: 'promo@a.test', target: 'alice@a.test' } });
      assert.equal(made.status, 201);
      const alias = await json(made);
      // dave holds strangers: his delivery stays unfetched, so the message can be edited
      const sent = await a.api('/api/v1/messages', { method: 'POST', token: alice, json: { from: 'promo@a.test', to: ['dave@a.test'], subject: 'promo v1', text: 'one' } });
      assert.equal(sent.status, 201, await sent.clone().text());
      const { id } = await json(sent);
      const edit = (subject: string) => a.api(`/api/v1/messages/${id}`, { method: 'PUT', token: alice, json: { to: ['dave@a.test'], subject, text: 'two' } });
      const ok = await edit('promo v2');
      assert.equal(ok.status, 200, await ok.clone().text());
      assert.equal((await json(ok)).version, 2);

      assert.equal((await a.api(`/api/v1/admin/aliases/${alias.id}`, { method: 'DELETE', token: ADMIN_TOKEN })).status, 200);
      const refused = await edit('promo v3');
      const body = await json(refused);
      assert.equal(refused.status, 403, JSON.stringify(body));
      assert.equal(body.error, 'forbidden');
      assert.match(body.detail, /promo@a\.test.*no longer your address or one of your aliases/);
      assert.equal((await json(await a.api(`/api/v1/messages/${id}`, { token: alice }))).version, 2);
    });

    it('submission refuses MAIL FROM someone else\'s alias with 553 5.7.1', async () => {
      const r = await swaks(submissionPort, ['--auth', 'PLAIN', '--auth-user', 'alice@a.test', '--auth-password', PASSWORD, '--from', 'support@a.test', '--to', 'bob@b.test', '--body', 'x']);
      assert.ok(r.replies.some((x) => x.startsWith('553 5.7.1')), r.out);
    });
  });

  describe('an address is a mailbox or an alias, never both', () => {
    it('creating both at once leaves one, and the other create is 409 conflict', async () => {
      for (let i = 0; i < 5; i++) {
        const address = `race${i}@a.test`;
        // the mailbox gets a password: hashing it is the slow step a check-then-insert raced across;
        // either create may be asked first
        const createUser = () => a.api('/api/v1/admin/users', { method: 'POST', token: ADMIN_TOKEN, json: { address, password: 'race password' } });
        const createAlias = () => a.api('/api/v1/admin/aliases', { method: 'POST', token: ADMIN_TOKEN, json: { address, target: 'alice@a.test' } });
        const [user, alias] = i % 2 === 0 ? await Promise.all([createUser(), createAlias()]) : (await Promise.all([createAlias(), createUser()])).reverse();
        const statuses = [alias.status, user.status];
        const loser = await json(alias.status === 409 ? alias : user);
        assert.deepEqual([...statuses].sort(), [201, 409], `${address}: ${JSON.stringify(loser)}`);
        assert.equal(loser.error, 'conflict');
        assert.match(loser.detail, new RegExp(`${address.replace('.', '\\.')} is an? (alias|mailbox) already`));
        const asAlias = ((await json(await a.api('/api/v1/admin/aliases', { token: ADMIN_TOKEN }))).aliases as Json[]).some((x) => x.address === address);
        const asUser = ((await json(await a.api('/api/v1/admin/users', { token: ADMIN_TOKEN }))).users as Json[]).some((x) => x.address === address);
        assert.deepEqual([asAlias, asUser], [alias.status === 201, user.status === 201], address);
      }
    });
  });
});
