// First-contact requests: messages from strangers that your node holds, unfetched, until you decide.
import type { RequestActionResponse } from '../../wire/index.ts';
import type { Command } from '../command.ts';
import { formatSize, formatTime, truncate } from '../output.ts';

const requests: Command = {
  name: 'requests',
  summary: 'First messages from strangers, held until you accept, reject or block them.',
  details: `Nothing of a held message is fetched yet: you see who, the subject and the size.
  pullmail accept <id>   fetch it now, and let this sender straight through from now on
  pullmail reject <id>   drop it (the sender sees "rejected")
  pullmail block <id>    drop it and refuse this sender from now on`,
  options: {},
  async run(ctx) {
    const list = await ctx.client().requests();
    if (ctx.out.json) return ctx.out.printJson(list);
    if (!list.requests.length) return ctx.out.line('No requests waiting.');
    ctx.out.table(
      ['ID', 'RECEIVED', 'FROM', 'SUBJECT', 'SIZE', 'VIA'],
      list.requests.map((r) => [ctx.out.c.dim(r.id), formatTime(r.received_at), truncate(r.from, 32), truncate(r.subject, 50), formatSize(r.size), r.via]),
    );
    ctx.out.line(ctx.out.c.dim('decide: pullmail accept <id> | reject <id> | block <id>'));
  },
};

const SAYS: Record<string, string> = {
  accept: 'accepted: the message is being fetched, and its sender may write again without asking',
  reject: 'rejected: the message was dropped without fetching it',
  block: 'blocked: the message was dropped and its sender is on your block list',
};

function decision(verb: 'accept' | 'reject' | 'block', summary: string): Command {
  return {
    name: verb,
    args: '<request-id>',
    minArgs: 1,
    maxArgs: 1,
    summary,
    details: 'The id is the one "pullmail requests" shows.',
    options: {},
    async run(ctx) {
      const client = ctx.client();
      const r: RequestActionResponse = await client[verb](ctx.args[0]);
      if (ctx.out.json) return ctx.out.printJson(r);
      ctx.out.line(`${ctx.out.c.green('✓')} ${r.id} ${SAYS[verb]}`);
    },
  };
}

export const requestCommands: Command[] = [
  requests,
  decision('accept', 'Accept a held request: fetch the message now and allow its sender.'),
  decision('reject', 'Reject a held request: drop the message unfetched.'),
  decision('block', 'Block a held request: drop the message and block its sender.'),
];
