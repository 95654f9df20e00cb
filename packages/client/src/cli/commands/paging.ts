// --limit/--cursor for the paginated listings (sent, inbox) and the hint to the next page.
import type { PageQuery } from '../../wire/index.ts';
import { optString, type CommandContext, type OptionDef } from '../command.ts';
import { UsageError } from '../exit-codes.ts';

export const pageOptions: Record<string, OptionDef> = {
  limit: { type: 'string', short: 'n', value: 'count', help: 'messages per page, 1-200 (default 50)' },
  cursor: { type: 'string', value: 'cursor', help: 'continue after an earlier page' },
};

export function readPage(ctx: CommandContext): PageQuery {
  const limit = optString(ctx.opts, 'limit');
  const n = limit === undefined ? undefined : Number(limit);
  if (n !== undefined && (!Number.isInteger(n) || n < 1 || n > 200)) throw new UsageError('--limit must be a whole number from 1 to 200');
  return { limit: n, cursor: optString(ctx.opts, 'cursor') };
}

export function printNextPage(ctx: CommandContext, command: string, cursor: string | undefined): void {
  if (!cursor) return;
  const limit = optString(ctx.opts, 'limit');
  ctx.out.line(ctx.out.c.dim(`more: pullmail ${command}${limit ? ` --limit ${limit}` : ''} --cursor ${cursor}`));
}
