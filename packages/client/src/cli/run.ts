// The `pullmail` command line: finds the command in argv, parses its flags with node:util parseArgs,
// runs it against the SDK, and turns every failure into a message and an exit code (exit-codes.ts).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { PullmailApiError, PullmailClient, PullmailNetworkError } from '../api/index.ts';
import { commandHelp, GLOBAL_OPTIONS, type CliIo, type Command, type CommandContext, type OptionDef } from './command.ts';
import { commandSections } from './commands/index.ts';
import { describeSource, resolveConfig, type ResolvedConfig } from './config.ts';
import { EXIT_CODES_HELP, ExitCode, UsageError, WaitTimeoutError } from './exit-codes.ts';
import { Output, wantsColor } from './output.ts';

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function mainHelp(): string {
  const sections = commandSections();
  const label = (c: Command) => `${c.name}${c.args ? ` ${c.args}` : ''}`;
  const width = 26;
  // the first sentence of the summary is enough here; "<command> --help" has the rest
  const brief = (c: Command) => /^[^.]*\.?/.exec(c.summary)![0];
  const lines = ['pullmail: the command-line client of a pullmail node', '', 'usage: pullmail <command> [arguments] [options]'];
  for (const s of sections) {
    lines.push('', `${s.title}:`);
    for (const c of s.commands) {
      lines.push(label(c).length > width ? `  ${label(c)}\n  ${' '.repeat(width)}  ${brief(c)}` : `  ${label(c).padEnd(width)}  ${brief(c)}`);
    }
  }
  const flag = ([n, o]: [string, OptionDef]) => `--${n}${o.value ? ` <${o.value}>` : ''}`;
  const globals = Object.entries(GLOBAL_OPTIONS).map((e) => `  ${flag(e).padEnd(width)}  ${e[1].help}`);
  lines.push('', 'global options (on every command):', ...globals);
  lines.push('', 'The node URL and token come from --url/--token, else PULLMAIL_URL/PULLMAIL_TOKEN, else the config', 'file that "pullmail login" writes ("pullmail config path" shows where).');
  lines.push('', EXIT_CODES_HELP, '', 'Run "pullmail <command> --help" for the options and examples of a command.');
  return lines.join('\n');
}

interface Found {
  cmd: Command;
  /** How many leading positionals named the command. */
  words: number;
}

function findCommand(all: Command[], words: string[]): Found {
  const named = (name: string) => all.find((c) => c.name === name || c.aliases?.includes(name));
  if (words.length >= 2) {
    const two = named(`${words[0]} ${words[1]}`);
    if (two) return { cmd: two, words: 2 };
  }
  const one = named(words[0]);
  const group = all.filter((c) => c.name.startsWith(`${words[0]} `));
  if (one && !(group.length && words.length >= 2 && (one.maxArgs ?? 0) === 0)) return { cmd: one, words: 1 };
  if (group.length) {
    const subs = group.map((c) => c.name.split(' ')[1]).join(', ');
    throw new UsageError(`unknown command "${words.slice(0, 2).join(' ')}"; "${words[0]}" takes: ${subs}`);
  }
  const close = all.filter((c) => c.name.startsWith(words[0].slice(0, 2))).map((c) => c.name);
  throw new UsageError(`unknown command "${words[0]}"${close.length ? ` (did you mean ${close.join(', ')}?)` : ''}`, 'Run "pullmail --help" for the list of commands.');
}

function siblingsOf(all: Command[], cmd: Command): Command[] {
  const group = cmd.name.includes(' ') ? cmd.name.split(' ')[0] : undefined;
  return group ? all.filter((c) => c !== cmd && c.name.startsWith(`${group} `)) : [];
}

/** Runs `pullmail <argv>`; resolves with the exit code. Never throws. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const json = argv.includes('--json');
  const out = new Output({ stdout: io.stdout, stderr: io.stderr, json, color: wantsColor(io.stdout, io.env) });
  let config: ResolvedConfig | undefined;
  try {
    const all = commandSections().flatMap((s) => s.commands);
    // first pass: only to find the command words among the positionals
    const everyOption: Record<string, OptionDef> = Object.assign({}, GLOBAL_OPTIONS, ...all.map((c) => c.options ?? {}));
    const loose = parseArgs({ args: argv, options: everyOption, strict: false, allowPositionals: true });
    const words = loose.positionals;
    if (loose.values.version === true) {
      out.line(`pullmail ${version()}`);
      return ExitCode.ok;
    }
    if (words[0] === 'help' || words.length === 0) {
      const topic = words.slice(words[0] === 'help' ? 1 : 0);
      if (topic.length) {
        const { cmd } = findCommand(all, topic);
        out.line(commandHelp(cmd, siblingsOf(all, cmd)));
        return ExitCode.ok;
      }
      if (words[0] === 'help' || loose.values.help === true) {
        out.line(mainHelp());
        return ExitCode.ok;
      }
      throw new UsageError('a command is needed', mainHelp());
    }

    const { cmd, words: used } = findCommand(all, words);
    const usageHint = `Run "pullmail ${cmd.name} --help" for its usage.`;
    let parsed;
    try {
      parsed = parseArgs({ args: argv, options: { ...GLOBAL_OPTIONS, ...cmd.options }, strict: true, allowPositionals: true });
    } catch (err) {
      // an id that starts with '-' reads as a group of short flags: say how to pass it
      const dashed = argv.find((a) => /^-[^-]/.test(a) && a.length > 2);
      const hint = dashed ? `${usageHint} An argument that starts with "-" goes after "--": pullmail ${cmd.name} -- ${dashed}` : usageHint;
      throw new UsageError((err as Error).message.replace(/\. To specify a positional argument.*$/s, ''), hint);
    }
    if (parsed.values.help === true) {
      out.line(commandHelp(cmd, siblingsOf(all, cmd)));
      return ExitCode.ok;
    }
    const args = parsed.positionals.slice(used);
    const min = cmd.minArgs ?? 0;
    const max = cmd.maxArgs ?? 0;
    if (args.length < min) throw new UsageError(`${cmd.name} needs ${cmd.args}`, usageHint);
    if (args.length > max) throw new UsageError(`unexpected argument "${args[max]}" for ${cmd.name}`, usageHint);

    const resolved = resolveConfig({ url: parsed.values.url as string | undefined, token: parsed.values.token as string | undefined }, io);
    config = resolved;
    let client: PullmailClient | undefined;
    const ctx: CommandContext = {
      args,
      opts: parsed.values,
      out,
      io,
      config: resolved,
      client() {
        if (client) return client;
        const login = 'pullmail login --url <url> --token <token>';
        if (!resolved.url) throw new UsageError(`no node URL: pass --url <url>, set PULLMAIL_URL, or save one with "${login}"`);
        if (!resolved.token) throw new UsageError(`no token: pass --token <token>, set PULLMAIL_TOKEN, or save one with "${login}"`);
        try {
          client = new PullmailClient({ baseUrl: resolved.url, token: resolved.token, fetch: io.fetch, userAgent: `pullmail-cli/${version()}` });
        } catch (err) {
          throw new UsageError(`${(err as Error).message} (from ${describeSource('url', resolved)})`);
        }
        return client;
      },
    };
    await cmd.run(ctx);
    return ExitCode.ok;
  } catch (err) {
    return report(err, out, config, io);
  }
}

function report(err: unknown, out: Output, config: ResolvedConfig | undefined, io: CliIo): number {
  const { c } = out;
  const fail = (code: number, body: Record<string, unknown>, lines: string[]): number => {
    if (out.json) out.note(JSON.stringify(body));
    else out.note(lines.map((l, i) => (i === 0 ? `${c.red('pullmail:')} ${l}` : `  ${l}`)).join('\n'));
    return code;
  };
  if (err instanceof UsageError) {
    if (out.json) return fail(ExitCode.usage, { error: 'usage', detail: err.message }, []);
    out.note(`${c.red('pullmail:')} ${err.message}${err.help ? `\n\n${err.help}` : ''}`);
    return ExitCode.usage;
  }
  const node = config?.url ?? 'the node';
  if (err instanceof PullmailApiError) {
    const body = { error: err.code, detail: err.detail, status: err.status };
    if (err.status === 401) {
      const from = config?.token ? ` (the token from ${describeSource('token', config)})` : '';
      return fail(ExitCode.auth, body, [
        `${node} did not accept your token${from}: ${err.detail || err.code}`,
        'Use the token "pullmail-server user add" printed for your mailbox: pullmail login --url <url> --token <token>',
      ]);
    }
    if (err.status === 403) return fail(ExitCode.auth, body, [`not allowed: ${err.detail || err.code}`]);
    const lines = [`${err.code}: ${err.detail || 'no detail'} (HTTP ${err.status})`];
    if (err.code === 'not_found' && /^no route for/.test(err.detail)) lines.push(`${node} does not offer this call; it may run an older pullmail.`);
    if (err.retryAfterSeconds) lines.push(`try again in ${err.retryAfterSeconds} s`);
    return fail(ExitCode.refused, body, lines);
  }
  if (err instanceof PullmailNetworkError) {
    const from = config?.url ? ` (URL from ${describeSource('url', config)})` : '';
    const lines = [err.message];
    if (err.code === 'tls') lines.push('If the node has a certificate from a private CA, point NODE_EXTRA_CA_CERTS at that CA\'s PEM file.');
    else lines.push(`Is the node running, and is the URL right?${from}`);
    return fail(ExitCode.network, { error: 'unreachable', reason: err.code, detail: err.message }, lines);
  }
  if (err instanceof WaitTimeoutError) return fail(ExitCode.timeout, { error: 'timeout', detail: err.message }, [err.message]);
  const detail = io.env.PULLMAIL_DEBUG ? ((err as Error)?.stack ?? String(err)) : ((err as Error)?.message ?? String(err));
  return fail(ExitCode.refused, { error: 'internal', detail }, [`unexpected error: ${detail}`]);
}
