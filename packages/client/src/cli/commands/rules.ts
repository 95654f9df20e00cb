// Allow and block rules, by address (a@x.example) or whole domain (@x.example).
import { isOneOf, RULE_ACTIONS } from '../../wire/index.ts';
import type { Command } from '../command.ts';
import { isSenderPattern } from '../compose.ts';
import { UsageError } from '../exit-codes.ts';

const list: Command = {
  name: 'rules list',
  aliases: ['rules'],
  summary: 'Your allow and block rules.',
  details: `Allowed senders are fetched without asking; blocked ones are refused. People you have written to
or accepted are allowed too, without a rule.`,
  options: {},
  async run(ctx) {
    const r = await ctx.client().rules();
    if (ctx.out.json) return ctx.out.printJson(r);
    if (!r.rules.length) return ctx.out.line('No rules. Add one: pullmail rules add allow @friends.example');
    const { c } = ctx.out;
    ctx.out.table(['ID', 'ACTION', 'PATTERN'], r.rules.map((x) => [c.dim(x.id), x.action === 'allow' ? c.green('allow') : c.red('block'), x.pattern]));
  },
};

const add: Command = {
  name: 'rules add',
  args: '<allow|block> <pattern>',
  minArgs: 2,
  maxArgs: 2,
  summary: 'Allow or block a sender address or a whole domain.',
  details: `examples:
  pullmail rules add allow alice@a.example
  pullmail rules add block @spam.example`,
  options: {},
  async run(ctx) {
    const [action, pattern] = ctx.args;
    if (!isOneOf(RULE_ACTIONS, action)) throw new UsageError(`the action is ${RULE_ACTIONS.map((a) => `"${a}"`).join(' or ')}, not "${action}"`);
    if (!isSenderPattern(pattern)) throw new UsageError(`"${pattern}" is neither an address (a@x.example) nor a domain (@x.example)`);
    const rule = await ctx.client().addRule({ action, pattern });
    if (ctx.out.json) return ctx.out.printJson(rule);
    ctx.out.line(`${ctx.out.c.green('✓')} ${rule.action} ${rule.pattern} ${ctx.out.c.dim(`(rule ${rule.id})`)}`);
  },
};

const remove: Command = {
  name: 'rules remove',
  aliases: ['rules rm'],
  args: '<rule-id>',
  minArgs: 1,
  maxArgs: 1,
  summary: 'Remove a rule (ids are in "pullmail rules").',
  options: {},
  async run(ctx) {
    const [id] = ctx.args;
    await ctx.client().removeRule(id);
    if (ctx.out.json) return ctx.out.printJson({ id, removed: true });
    ctx.out.line(`${ctx.out.c.green('✓')} removed rule ${id}`);
  },
};

export const ruleCommands: Command[] = [list, add, remove];
