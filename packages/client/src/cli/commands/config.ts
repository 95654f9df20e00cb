// Saving the node URL and token so other commands need no flags: login (checks them first), config.
import { normalizeBaseUrl } from '../../api/transport.ts';
import type { Command } from '../command.ts';
import { describeSource, maskToken, readConfigFile, writeConfigFile } from '../config.ts';
import { UsageError } from '../exit-codes.ts';

function checkedUrl(url: string): string {
  try {
    return normalizeBaseUrl(url);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

const login: Command = {
  name: 'login',
  summary: 'Check a node URL and token, then save them in your config file.',
  details: `The token is the one "pullmail-server user add" printed for you. After this, other commands need
no --url or --token (flags and PULLMAIL_URL/PULLMAIL_TOKEN still win over the file).

example:
  pullmail login --url https://mail.example.org --token pm_…`,
  options: {},
  async run(ctx) {
    const { url, token } = ctx.config;
    if (!url || !token) throw new UsageError('login needs --url <url> and --token <token>');
    await ctx.client().settings(); // proves the URL answers and the token is accepted
    writeConfigFile(ctx.config.path, { url: checkedUrl(url), token });
    if (ctx.out.json) return ctx.out.printJson({ url: checkedUrl(url), path: ctx.config.path });
    ctx.out.line(`${ctx.out.c.green('✓')} logged in to ${checkedUrl(url)}; saved in ${ctx.config.path}`);
  },
};

const show: Command = {
  name: 'config show',
  aliases: ['config'],
  summary: 'Show the node and token in use, and where each comes from.',
  options: {},
  async run(ctx) {
    const { url, token, path } = ctx.config;
    const shown = { url: url ?? null, token: token ? maskToken(token) : null, url_from: url ? describeSource('url', ctx.config) : null, token_from: token ? describeSource('token', ctx.config) : null, path };
    if (ctx.out.json) return ctx.out.printJson(shown);
    const { c } = ctx.out;
    ctx.out.line(`url    ${url ?? c.yellow('not set')}${url ? c.dim(`  (from ${shown.url_from})`) : ''}`);
    ctx.out.line(`token  ${shown.token ?? c.yellow('not set')}${token ? c.dim(`  (from ${shown.token_from})`) : ''}`);
    ctx.out.line(`file   ${path}`);
  },
};

const set: Command = {
  name: 'config set',
  args: '<url|token> <value>',
  minArgs: 2,
  maxArgs: 2,
  summary: 'Save the node URL or the token in the config file, unchecked.',
  options: {},
  async run(ctx) {
    const [key, value] = ctx.args;
    if (key !== 'url' && key !== 'token') throw new UsageError(`config set takes "url" or "token", not "${key}"`);
    const file = readConfigFile(ctx.config.path);
    file[key] = key === 'url' ? checkedUrl(value) : value;
    writeConfigFile(ctx.config.path, file);
    if (ctx.out.json) return ctx.out.printJson({ [key]: key === 'url' ? file.url : maskToken(value), path: ctx.config.path });
    ctx.out.line(`${ctx.out.c.green('✓')} saved ${key} in ${ctx.config.path}`);
  },
};

const path: Command = {
  name: 'config path',
  summary: 'Print where the config file is.',
  options: {},
  async run(ctx) {
    if (ctx.out.json) return ctx.out.printJson({ path: ctx.config.path });
    ctx.out.line(ctx.config.path);
  },
};

export const configCommands: Command[] = [login, show, set, path];
