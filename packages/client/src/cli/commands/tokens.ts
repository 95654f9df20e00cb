// Consent tokens: you give one to an automated or unknown sender so their messages to you are fetched
// without a request, a limited number of times, until it expires or you revoke it.
import type { ConsentTokenInfo } from '../../wire/index.ts';
import { optString, type Command } from '../command.ts';
import { isSenderPattern } from '../compose.ts';
import { UsageError } from '../exit-codes.ts';
import { formatTime } from '../output.ts';

function positiveInt(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${flag} must be a whole number of at least 1`);
  return n;
}

function tokenState(t: ConsentTokenInfo, now: number): string {
  if (t.revoked) return 'revoked';
  if (t.expires_at && Date.parse(t.expires_at) <= now) return 'expired';
  if (typeof t.uses === 'number' && t.uses >= t.max_uses) return 'used up';
  return 'active';
}

const create: Command = {
  name: 'token create',
  summary: 'Create a consent token that lets a sender skip the request.',
  details: `Give the printed token to the sender; they send with "pullmail send --consent <token> …". Each
message it lets through uses it once. The token is shown only now.

example:
  pullmail token create --sender @shop.example --max-uses 20 --days 90`,
  options: {
    sender: { type: 'string', value: 'pattern', help: 'who may use it: an address a@x.example or a domain @x.example' },
    'max-uses': { type: 'string', value: 'count', help: 'how many messages it lets through (default 1)' },
    days: { type: 'string', value: 'days', help: 'days until it expires (default 30)' },
  },
  async run(ctx) {
    const sender = optString(ctx.opts, 'sender');
    if (!sender) throw new UsageError('--sender is required: an address (a@x.example) or a domain (@x.example)');
    if (!isSenderPattern(sender)) throw new UsageError(`--sender: "${sender}" is neither an address nor a @domain`);
    const request = {
      sender,
      max_uses: positiveInt(optString(ctx.opts, 'max-uses'), 'max-uses', 1),
      expires_in_days: positiveInt(optString(ctx.opts, 'days'), 'days', 30),
    };
    const created = await ctx.client().createConsentToken(request);
    if (ctx.out.json) return ctx.out.printJson(created);
    const { c } = ctx.out;
    ctx.out.line(`${c.green('✓')} consent token ${c.dim(created.id)} for ${c.bold(sender)}: ${request.max_uses} use(s), ${request.expires_in_days} day(s)`);
    ctx.out.line(created.token);
    ctx.out.note(c.dim('Give it to the sender: pullmail send --consent <token> …  (it is not shown again)'));
  },
};

const list: Command = {
  name: 'token list',
  aliases: ['token', 'tokens'],
  summary: 'Your consent tokens, with uses and expiry (never the tokens themselves).',
  options: {},
  async run(ctx) {
    const r = await ctx.client().consentTokens();
    if (ctx.out.json) return ctx.out.printJson(r);
    if (!r.tokens.length) return ctx.out.line('No consent tokens. Create one: pullmail token create --sender <address|@domain>');
    const now = Date.now();
    const { c } = ctx.out;
    ctx.out.table(
      ['ID', 'SENDER', 'USES', 'EXPIRES', 'STATE'],
      r.tokens.map((t) => {
        const state = tokenState(t, now);
        return [c.dim(t.id), t.sender, `${t.uses ?? '?'}/${t.max_uses}`, formatTime(t.expires_at), state === 'active' ? c.green(state) : c.yellow(state)];
      }),
    );
  },
};

const revoke: Command = {
  name: 'token revoke',
  args: '<token-id>',
  minArgs: 1,
  maxArgs: 1,
  summary: 'Revoke a consent token: it lets nothing through any more.',
  options: {},
  async run(ctx) {
    const [id] = ctx.args;
    await ctx.client().revokeConsentToken(id);
    if (ctx.out.json) return ctx.out.printJson({ id, revoked: true });
    ctx.out.line(`${ctx.out.c.green('✓')} revoked consent token ${id}`);
  },
};

export const tokenCommands: Command[] = [create, list, revoke];
