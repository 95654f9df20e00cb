// The user's settings: what happens to a first message from a stranger, and the question of the
// human challenge page.
import { FIRST_CONTACT_MODES, isOneOf } from '../../wire/index.ts';
import type { FirstContact, SettingsUpdate } from '../../wire/index.ts';
import { optString, type Command } from '../command.ts';
import { UsageError } from '../exit-codes.ts';

const MEANING: Record<FirstContact, string> = {
  hold: "strangers' messages wait as requests until you accept them",
  challenge: "strangers' nodes must answer a challenge before their message is fetched",
  fetch: "strangers' messages are fetched straight away (open inbox)",
};

const show: Command = {
  name: 'settings show',
  aliases: ['settings'],
  summary: 'Show your settings.',
  options: {},
  async run(ctx) {
    const s = await ctx.client().settings();
    if (ctx.out.json) return ctx.out.printJson(s);
    const { c } = ctx.out;
    ctx.out.line(`first_contact       ${c.bold(s.first_contact)}  ${c.dim(MEANING[s.first_contact] ?? '')}`);
    ctx.out.line(`challenge_question  ${s.challenge_question ? c.bold(s.challenge_question) : c.dim('none')}`);
  },
};

const set: Command = {
  name: 'settings set',
  args: '<setting> <value>',
  minArgs: 2,
  maxArgs: 2,
  summary: 'Change a setting.',
  details: `settings:
  first_contact <mode>           what happens to a stranger's first message:
${Object.entries(MEANING).map(([k, v]) => `    ${k.padEnd(9)}  ${v}`).join('\n')}
  challenge_question <question>  the question a human sender answers on your challenge page
                                 (with --answer <answer>; "none" removes the question)

examples:
  pullmail settings set first_contact challenge
  pullmail settings set challenge_question "What is my cat called?" --answer Tiger`,
  options: { answer: { type: 'string', value: 'answer', help: 'the expected answer, with challenge_question' } },
  async run(ctx) {
    const [key, value] = ctx.args;
    const answer = optString(ctx.opts, 'answer');
    let update: SettingsUpdate;
    switch (key.replace(/-/g, '_')) {
      case 'first_contact':
        if (!isOneOf(FIRST_CONTACT_MODES, value)) throw new UsageError(`first_contact is one of ${FIRST_CONTACT_MODES.join(', ')}, not "${value}"`);
        if (answer !== undefined) throw new UsageError('--answer goes with challenge_question');
        update = { first_contact: value };
        break;
      case 'challenge_question':
        if (value === 'none') update = { challenge_question: null };
        else if (!answer) throw new UsageError('a challenge question needs its answer: --answer <answer>');
        else update = { challenge_question: value, challenge_answer: answer };
        break;
      default:
        throw new UsageError(`unknown setting "${key}" (there are: first_contact, challenge_question)`);
    }
    const s = await ctx.client().updateSettings(update);
    if (ctx.out.json) return ctx.out.printJson(s);
    const { c } = ctx.out;
    if (update.first_contact) ctx.out.line(`${c.green('✓')} first_contact is now ${c.bold(s.first_contact)}: ${MEANING[s.first_contact]}`);
    else ctx.out.line(`${c.green('✓')} ${s.challenge_question ? `challenge question set: ${c.bold(s.challenge_question)}` : 'challenge question removed'}`);
  },
};

export const settingsCommands: Command[] = [show, set];
