// The demo's walk-through, told through the SDK exactly as a user's scripts would drive two nodes:
// first contact held → accept → fetched → straight through → retract before fetch → consent token.
import { PullmailApiError, PullmailClient, type DeliveryState } from '@pullmail/client';
import type { Printer } from './print.ts';
import type { DemoNode } from './nodes.ts';

const WAIT_MS = 20_000;

async function until<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = WAIT_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Waits until the one delivery of `id` is in one of `states`; resolves with that state. */
async function deliveryState(client: PullmailClient, id: string, states: DeliveryState[]): Promise<DeliveryState> {
  return until(`state ${states.join(' or ')}`, async () => {
    const s = (await client.status(id)).deliveries[0]?.state;
    return s && states.includes(s) ? s : undefined;
  });
}

const short = (s: string, n = 12) => (s.length > n ? `${s.slice(0, n)}…` : s);

export interface Mailboxes {
  alice: PullmailClient;
  bob: PullmailClient;
  carol: PullmailClient;
}

/** Creates alice@<a> and bob@, carol@<b> through the admin API; returns a client per user. */
export async function createMailboxes(p: Printer, a: DemoNode, b: DemoNode): Promise<Mailboxes> {
  p.step('Three people get mailboxes');
  const made: Record<string, PullmailClient> = {};
  const rows: string[][] = [];
  for (const [node, name] of [[a, 'alice'], [b, 'bob'], [b, 'carol']] as const) {
    const { address, token } = await node.admin.createUser({ address: `${name}@${node.domain}` });
    made[name] = new PullmailClient({ baseUrl: node.url, token });
    rows.push([p.c.bold(address), node.domain, p.c.dim(`${short(token, 10)} (API token)`)]);
  }
  p.table(['MAILBOX', 'NODE', 'TOKEN'], rows);
  p.note('POST /api/v1/admin/users on each node; the same as "pullmail-server user add"');
  return made as unknown as Mailboxes;
}

export async function firstContact(p: Printer, { alice, bob }: Mailboxes): Promise<void> {
  p.step('alice writes to bob for the first time');
  const sent = await alice.send({ to: ['bob@b.test'], subject: 'Hello from alice', text: 'Hi Bob! Lunch on Friday?\n— alice' });
  p.info(`alice → bob@b.test  "Hello from alice"   message ${p.c.dim(sent.id)}: ${sent.deliveries[0].state}`);
  p.note('a.test keeps the message and sends b.test only a signed notification');
  await deliveryState(alice, sent.id, ['held']);
  p.ok(`bob@b.test: ${p.c.yellow('held')}: bob has never heard from alice, so b.test holds it as a request`);
  const { requests } = await bob.requests();
  p.info("bob's requests (nothing fetched yet, only who, what and how big):");
  p.table(['ID', 'FROM', 'SUBJECT', 'SIZE'], requests.map((r) => [p.c.dim(short(r.id, 8)), r.from, r.subject, `${r.size} B`]));
  p.info(`bob's inbox: ${(await bob.inbox()).total} messages`);

  p.step('bob accepts the request');
  const accepted = await bob.accept(requests[0].id);
  p.info(`bob accepts request ${p.c.dim(short(accepted.id, 8))}: ${accepted.state}`);
  await deliveryState(alice, sent.id, ['fetched']);
  p.ok(`bob@b.test: ${p.c.green('fetched')}: b.test pulled the message from a.test with a capability token and a signed proof`);
  const inbox = await bob.inbox();
  const message = await bob.read(inbox.messages[0].id);
  p.info(`bob reads it: ${p.c.bold(`"${message.subject}"`)} from ${message.from}`);
  for (const l of (message.text ?? '').trim().split('\n')) p.info(`  ${p.c.dim('│')} ${l}`);
}

export async function straightThrough(p: Printer, { alice, bob }: Mailboxes): Promise<void> {
  p.step('alice writes again: no request this time');
  const sent = await alice.send({ to: ['bob@b.test'], subject: 'Friday, 12:30?', text: 'The usual place.' });
  p.info(`alice → bob@b.test  "Friday, 12:30?"   message ${p.c.dim(sent.id)}`);
  await deliveryState(alice, sent.id, ['fetched']);
  p.ok(`bob@b.test: ${p.c.green('fetched')} straight away: by accepting, bob let alice through from now on`);
  p.info(`bob's inbox: ${(await bob.inbox()).total} messages, ${(await bob.requests()).requests.length} requests`);
}

export async function retractBeforeFetch(p: Printer, { alice, carol }: Mailboxes): Promise<void> {
  p.step('alice retracts a message before it is fetched');
  const sent = await alice.send({ to: ['carol@b.test'], subject: 'Salary review (for bob only!)', text: 'Oops, wrong person.' });
  p.info(`alice → carol@b.test  "Salary review (for bob only!)"   message ${p.c.dim(sent.id)}`);
  await deliveryState(alice, sent.id, ['held']);
  p.ok(`carol@b.test: ${p.c.yellow('held')}: carol does not know alice; her node has only the notification`);
  const { results } = await alice.retract(sent.id);
  for (const r of results) p.ok(`alice retracts it: ${r.rcpt} ${p.c.blue(r.result)}`);
  await until("carol's request to disappear", async () => (await carol.requests()).requests.length === 0);
  p.ok("carol's request is gone: b.test got a retract notification and never fetched the body");
  p.info(`alice's status for carol@b.test: ${(await alice.status(sent.id)).deliveries[0].state}`);
}

export async function consentToken(p: Printer, { alice, carol }: Mailboxes): Promise<void> {
  p.step('carol gives alice a consent token');
  let created;
  try {
    created = await carol.createConsentToken({ sender: 'alice@a.test', max_uses: 1, expires_in_days: 7 });
  } catch (err) {
    if (err instanceof PullmailApiError && err.status === 404) {
      p.fail(`this node does not offer consent tokens yet (POST /api/v1/consent-tokens: ${err.status} ${err.detail})`);
      return;
    }
    throw err;
  }
  p.ok(`carol creates a token for alice@a.test: 1 use, valid 7 days ${p.c.dim(`(id ${short(created.id, 8)})`)}`);
  p.info(`token ${p.c.dim(short(created.token, 32))}  carol sends it to alice any way she likes`);
  const sent = await alice.send({ to: ['carol@b.test'], subject: 'The minutes you asked for', text: 'Attached in spirit.', consent: [created.token] });
  p.info(`alice → carol@b.test with the token   message ${p.c.dim(sent.id)}`);
  const state = await deliveryState(alice, sent.id, ['fetched', 'held', 'rejected']);
  if (state === 'fetched') p.ok(`carol@b.test: ${p.c.green('fetched')} without a request: the token let alice in once`);
  else p.fail(`carol@b.test: ${state}: this node did not honour the consent token`);
  const { tokens } = await carol.consentTokens();
  p.info("carol's tokens:");
  p.table(['ID', 'SENDER', 'USES', 'EXPIRES'], tokens.map((t) => [p.c.dim(short(t.id, 8)), t.sender, `${t.uses}/${t.max_uses}`, t.expires_at.slice(0, 10)]));
  await carol.revokeConsentToken(created.id);
  p.ok('carol revokes it: from now on it lets nothing through');
}
