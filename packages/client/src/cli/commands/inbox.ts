// The recipient's side: list the inbox, read a message (parsed or as exact bytes), delete it.
import type { ParsedMessage } from '../../wire/index.ts';
import { optFlag, type Command, type CommandContext } from '../command.ts';
import { UsageError } from '../exit-codes.ts';
import { formatSize, formatTime, truncate } from '../output.ts';
import { pageOptions, printNextPage, readPage } from './paging.ts';

const inbox: Command = {
  name: 'inbox',
  summary: 'Messages your node has fetched, newest first.',
  details: `Messages from strangers are not here until you accept them: see "pullmail requests".`,
  options: pageOptions,
  async run(ctx) {
    const list = await ctx.client().inbox(readPage(ctx));
    if (ctx.out.json) return ctx.out.printJson(list);
    if (!list.messages.length) return ctx.out.line('Your inbox is empty.');
    ctx.out.table(
      ['ID', 'RECEIVED', 'FROM', 'SUBJECT', 'SIZE', 'VIA'],
      list.messages.map((m) => [ctx.out.c.dim(m.id), formatTime(m.received_at), truncate(m.from, 32), truncate(m.subject, 50), formatSize(m.size), m.via]),
    );
    ctx.out.line(ctx.out.c.dim(`${list.messages.length} shown, ${list.total} in the inbox · read one: pullmail read <id>`));
    printNextPage(ctx, 'inbox', list.cursor);
  },
};

/** Plain text out of an HTML-only message, good enough for a terminal. */
function htmlToText(html: string): string {
  return html
    .replace(/<(script|style)[^>]*>[\s\S]*?<\/\1>/gi, '')
    .replace(/<br\s*\/?>|<\/(p|div|h[1-6]|li|tr)>/gi, '\n')
    .replace(/<[^>]+>/g, '')
    .replace(/&nbsp;/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

function printMessage(ctx: CommandContext, m: ParsedMessage): void {
  const { c } = ctx.out;
  const header = (name: string) => m.headers.find((h) => h.name.toLowerCase() === name)?.value;
  const rows: [string, string | undefined][] = [
    ['From', header('from') ?? m.from],
    ['To', header('to')],
    ['Cc', header('cc')],
    ['Subject', m.subject],
    ['Date', header('date') ?? formatTime(m.received_at)],
  ];
  for (const [name, value] of rows) if (value) ctx.out.line(`${c.bold(`${name}:`.padEnd(9))}${value}`);
  ctx.out.line(c.dim(`${m.id} · ${formatSize(m.size)} · via ${m.via} · received ${formatTime(m.received_at)}`));
  ctx.out.line();
  const body = m.text ?? (m.html !== undefined ? htmlToText(m.html) : '');
  ctx.out.line(body.replace(/\s+$/, ''));
  if (m.attachments.length) {
    ctx.out.line();
    ctx.out.line(c.bold('Attachments:'));
    ctx.out.table(['  FILE', 'TYPE', 'SIZE'], m.attachments.map((a) => [`  ${a.filename || '(unnamed)'}`, a.contentType, formatSize(a.size)]));
  }
}

const read: Command = {
  name: 'read',
  args: '<id>',
  minArgs: 1,
  maxArgs: 1,
  summary: 'Show a message from your inbox (with --raw: its exact bytes).',
  details: `examples:
  pullmail read 7f0c…
  pullmail read 7f0c… --raw > message.eml`,
  options: { raw: { type: 'boolean', help: 'write the exact RFC 5322 bytes to stdout' } },
  async run(ctx) {
    const [id] = ctx.args;
    if (optFlag(ctx.opts, 'raw')) {
      if (ctx.out.json) throw new UsageError('--raw and --json exclude each other');
      return ctx.out.bytes(await ctx.client().readRaw(id));
    }
    const m = await ctx.client().read(id);
    if (ctx.out.json) return ctx.out.printJson(m);
    printMessage(ctx, m);
  },
};

const remove: Command = {
  name: 'delete',
  aliases: ['rm'],
  args: '<id>',
  minArgs: 1,
  maxArgs: 1,
  summary: 'Delete a message from your inbox.',
  options: {},
  async run(ctx) {
    const [id] = ctx.args;
    await ctx.client().deleteMessage(id);
    if (ctx.out.json) return ctx.out.printJson({ id, deleted: true });
    ctx.out.line(`${ctx.out.c.green('✓')} deleted ${id}`);
  },
};

export const inboxCommands: Command[] = [inbox, read, remove];
