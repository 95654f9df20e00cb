// What a CLI command is (name, options, help, run) and what it is given to run: parsed arguments, the
// output, the process's I/O, and a lazily built SDK client.
import type { PullmailClient } from '../api/index.ts';
import type { FetchLike } from '../api/transport.ts';
import type { ResolvedConfig } from './config.ts';
import type { Output, Sink } from './output.ts';

export interface OptionDef {
  type: 'string' | 'boolean';
  multiple?: boolean;
  short?: string;
  /** Placeholder shown in help: `--to <address>`. */
  value?: string;
  help: string;
}

export type OptionValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

/** The process around the CLI, passed in so tests and embedders can supply their own. */
export interface CliIo {
  stdout: Sink;
  stderr: Sink;
  stdinIsTTY: boolean;
  readStdin(): Promise<Uint8Array>;
  env: Record<string, string | undefined>;
  cwd: string;
  homedir: string;
  platform: NodeJS.Platform;
  /** Replaces global fetch (tests). */
  fetch?: FetchLike;
  sleep(ms: number): Promise<void>;
}

export interface CommandContext {
  /** Positional arguments after the command words. */
  args: string[];
  opts: OptionValues;
  out: Output;
  io: CliIo;
  config: ResolvedConfig;
  /** The SDK client for the configured node; throws UsageError when the URL or token is missing. */
  client(): PullmailClient;
}

export interface Command {
  /** One or two words: `inbox`, `rules add`. */
  name: string;
  /** Other spellings: `rules` runs `rules list`. */
  aliases?: string[];
  /** Positionals as shown in help: `<id>`. */
  args?: string;
  minArgs?: number;
  maxArgs?: number;
  summary: string;
  /** More help: what it does, examples. */
  details?: string;
  options?: Record<string, OptionDef>;
  run(ctx: CommandContext): Promise<void>;
}

export const GLOBAL_OPTIONS: Record<string, OptionDef> = {
  url: { type: 'string', value: 'url', help: 'the node, e.g. https://mail.example.org (else PULLMAIL_URL, else the config file)' },
  token: { type: 'string', value: 'token', help: 'your API token (else PULLMAIL_TOKEN, else the config file)' },
  json: { type: 'boolean', help: "print the API's JSON instead of tables (errors as JSON on stderr)" },
  help: { type: 'boolean', short: 'h', help: 'show help' },
  version: { type: 'boolean', help: 'print the version of pullmail' },
};

export function optString(opts: OptionValues, name: string): string | undefined {
  const v = opts[name];
  return typeof v === 'string' ? v : undefined;
}

export function optList(opts: OptionValues, name: string): string[] {
  const v = opts[name];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : typeof v === 'string' ? [v] : [];
}

export function optFlag(opts: OptionValues, name: string): boolean {
  return opts[name] === true;
}

function optionLines(options: Record<string, OptionDef>): string[] {
  const left = Object.entries(options).map(([name, o]) => `${o.short ? `-${o.short}, ` : '    '}--${name}${o.value ? ` <${o.value}>` : ''}`);
  const width = Math.max(...left.map((l) => l.length));
  return Object.values(options).map((o, i) => `  ${left[i].padEnd(width)}  ${o.help}${o.multiple ? ' (repeatable)' : ''}`);
}

function commandUsage(cmd: Command): string {
  return `pullmail ${cmd.name}${cmd.args ? ` ${cmd.args}` : ''}${cmd.options && Object.keys(cmd.options).length ? ' [options]' : ''}`;
}

export function commandHelp(cmd: Command, siblings: Command[]): string {
  const parts = [`usage: ${commandUsage(cmd)}`, '', cmd.summary];
  if (cmd.details) parts.push('', cmd.details.trimEnd());
  if (cmd.options && Object.keys(cmd.options).length) parts.push('', 'options:', ...optionLines(cmd.options));
  parts.push('', 'global options:', ...optionLines(GLOBAL_OPTIONS));
  if (siblings.length) parts.push('', `see also: ${siblings.map((s) => `pullmail ${s.name}`).join(', ')}`);
  return parts.join('\n');
}
