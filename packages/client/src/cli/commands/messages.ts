// The sender's side: send, follow (status, sent), and take back or change (retract, edit).
import { DELIVERY_STATES, isOneOf, type DeliverySummary, type MessageStatus, type SendResponse } from '../../wire/index.ts';
import { optString, type Command, type CommandContext } from '../command.ts';
import { composeFromFlags, MESSAGE_OPTIONS } from '../compose.ts';
import { mimeStream } from '../mime.ts';
import { UsageError, WaitTimeoutError } from '../exit-codes.ts';
import { formatTime, truncate } from '../output.ts';
import { pageOptions, printNextPage, readPage } from './paging.ts';

const FINAL = new Set(['fetched', 'retracted', 'rejected', 'expired', 'failed']);

const STATE_HINT: Record<string, string> = {
  queued: 'about to notify the recipient’s node',
  notified: 'the recipient’s node will fetch it',
  held: 'waiting for the recipient to accept you',
  challenged: 'the recipient’s node asks for a challenge',
  retracted: 'withdrawn before it was fetched',
  rejected: 'refused by the recipient',
  expired: 'never fetched in time',
  failed: 'could not be delivered',
};

function detail(d: DeliverySummary): string {
  const parts: string[] = [];
  if (d.fetched_at) parts.push(`fetched ${formatTime(d.fetched_at)}`);
  if (d.challenge_url) parts.push(`answer the challenge at ${d.challenge_url}`);
  if (d.reason) parts.push(d.reason);
  return parts.length ? parts.join('; ') : (STATE_HINT[d.state] ?? '');
}

function printDeliveries(ctx: CommandContext, deliveries: DeliverySummary[]): void {
  ctx.out.table(['RECIPIENT', 'STATE', 'DETAIL'], deliveries.map((d) => [d.rcpt, ctx.out.state(d.state), detail(d)]));
}

function printSent(ctx: CommandContext, verb: string, r: SendResponse): void {
  if (ctx.out.json) return ctx.out.printJson(r);
  const { c } = ctx.out;
  ctx.out.line(`${c.green('✓')} ${verb} ${c.bold(r.id)} (version ${r.version})`);
  printDeliveries(ctx, r.deliveries);
  ctx.out.line(c.dim(`follow it with: pullmail status ${r.id}`));
}

const send: Command = {
  name: 'send',
  summary: 'Send a message: your node keeps it, recipients’ nodes fetch it if their policy allows.',
  details: `The body comes from --text, --file, or standard input. Strangers' nodes usually hold a first
message as a request until the recipient accepts; "pullmail status <id>" shows where each copy is.

examples:
  echo "Lunch at noon?" | pullmail send --to bob@b.example --subject Lunch
  pullmail send --to bob@b.example,carol@c.example --cc dave@d.example -s Report -f report.txt -a report.pdf
  pullmail send --rfc822 message.eml`,
  options: MESSAGE_OPTIONS,
  async run(ctx) {
    const out = await composeFromFlags(ctx);
    const client = ctx.client();
    if ('mime' in out) printSent(ctx, 'sent', await client.sendRawStream(mimeStream({ from: (await client.me()).address, ...out.mime })));
    else printSent(ctx, 'sent', 'raw' in out ? await client.sendRaw(out.raw) : await client.send(out.message));
  },
};

const edit: Command = {
  name: 'edit',
  args: '<id>',
  minArgs: 1,
  maxArgs: 1,
  summary: 'Replace a sent message wherever it has not been fetched yet.',
  details: `Give the same recipients again (an edit cannot change them) and the new body; without --subject
the subject stays. Recipients who fetched already keep what they have; when all have, the node answers
409 conflict.

example:
  pullmail edit 3Jx9… --to bob@b.example --text "Lunch at 1pm instead"`,
  options: MESSAGE_OPTIONS,
  async run(ctx) {
    const raw = ctx.opts.rfc822 !== undefined;
    if (!raw && !['to', 'cc', 'bcc'].some((k) => ctx.opts[k] !== undefined)) {
      throw new UsageError('an edit needs the recipients again (it cannot change them): --to <address> (or --cc, --bcc)');
    }
    const client = ctx.client();
    const [id] = ctx.args;
    const subject = ctx.opts.subject === undefined && !raw ? (await client.status(id)).subject : undefined;
    const out = await composeFromFlags(ctx, { subject });
    if ('mime' in out) printSent(ctx, 'edited', await client.editRawStream(id, mimeStream({ from: (await client.me()).address, ...out.mime })));
    else printSent(ctx, 'edited', 'raw' in out ? await client.editRaw(id, out.raw) : await client.edit(id, out.message));
  },
};

async function waitForStates(ctx: CommandContext, id: string, wanted: Set<string>, timeoutMs: number): Promise<MessageStatus> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await ctx.client().status(id);
    if (s.deliveries.every((d) => wanted.has(d.state))) return s;
    const stuck = s.deliveries.find((d) => !wanted.has(d.state) && FINAL.has(d.state));
    if (stuck) throw Object.assign(new WaitTimeoutError(`${stuck.rcpt} is ${stuck.state}, which is final: it will not become ${[...wanted].join(' or ')}`), { status: s });
    if (Date.now() >= deadline) throw Object.assign(new WaitTimeoutError(`timed out after ${timeoutMs / 1000} s waiting for ${[...wanted].join(' or ')}`), { status: s });
    await ctx.io.sleep(250);
  }
}

function printStatus(ctx: CommandContext, s: MessageStatus): void {
  if (ctx.out.json) return ctx.out.printJson(s);
  const { c } = ctx.out;
  ctx.out.line(`${c.bold(s.subject || '(no subject)')}`);
  ctx.out.line(c.dim(`message ${s.id} · version ${s.version} · sent ${formatTime(s.created_at)}`));
  ctx.out.line();
  printDeliveries(ctx, s.deliveries);
}

const status: Command = {
  name: 'status',
  args: '<id>',
  minArgs: 1,
  maxArgs: 1,
  summary: 'Where a sent message is, per recipient (with challenge URLs to answer).',
  details: `states: queued, notified, held, challenged, fetched, retracted, rejected, expired, failed.
With --wait, polls until every recipient is in one of the given states (exit 5 when that does not happen
in --timeout seconds, or a recipient reaches another final state).

example:
  pullmail status 3Jx9… --wait fetched --timeout 60`,
  options: {
    wait: { type: 'string', value: 'states', help: 'wait until every recipient is in one of these states (comma list)' },
    timeout: { type: 'string', value: 'seconds', help: 'how long --wait waits (default 30)' },
  },
  async run(ctx) {
    const [id] = ctx.args;
    const wait = optString(ctx.opts, 'wait');
    if (wait === undefined) return printStatus(ctx, await ctx.client().status(id));
    const wanted = new Set(wait.split(',').map((s) => s.trim()).filter(Boolean));
    const bad = [...wanted].find((s) => !isOneOf(DELIVERY_STATES, s));
    if (bad || !wanted.size) throw new UsageError(`--wait: "${bad ?? ''}" is not a delivery state (${DELIVERY_STATES.join(', ')})`);
    const timeout = Number(optString(ctx.opts, 'timeout') ?? '30');
    if (!Number.isFinite(timeout) || timeout <= 0) throw new UsageError('--timeout must be a positive number of seconds');
    try {
      printStatus(ctx, await waitForStates(ctx, id, wanted, timeout * 1000));
    } catch (err) {
      const last = (err as { status?: MessageStatus }).status;
      if (last) printStatus(ctx, last);
      throw err;
    }
  },
};

const sent: Command = {
  name: 'sent',
  summary: 'Your sent messages, newest first.',
  details: `Pages of --limit messages (default 50); the last line shows how to get the next page.`,
  options: pageOptions,
  async run(ctx) {
    const list = await ctx.client().sent(readPage(ctx));
    if (ctx.out.json) return ctx.out.printJson(list);
    if (!list.messages.length) return ctx.out.line('No sent messages.');
    ctx.out.table(
      ['ID', 'SENT', 'TO', 'SUBJECT'],
      list.messages.map((m) => [ctx.out.c.dim(m.id), formatTime(m.created_at), truncate(m.recipients.join(', '), 40), truncate(m.subject, 50)]),
    );
    printNextPage(ctx, 'sent', list.cursor);
  },
};

const retract: Command = {
  name: 'retract',
  args: '<id>',
  minArgs: 1,
  maxArgs: 1,
  summary: 'Withdraw a sent message wherever it has not been fetched yet.',
  options: {},
  async run(ctx) {
    const r = await ctx.client().retract(ctx.args[0]);
    if (ctx.out.json) return ctx.out.printJson(r);
    const { c } = ctx.out;
    ctx.out.table(
      ['RECIPIENT', 'RESULT'],
      r.results.map((x) => [x.rcpt, x.result === 'retracted' ? c.green('retracted') : c.yellow('already fetched (they keep it)')]),
    );
  },
};

export const messageCommands: Command[] = [send, status, sent, retract, edit];

