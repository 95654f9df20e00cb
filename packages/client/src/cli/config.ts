// Where the CLI finds the node URL and the token: flags win over the environment (PULLMAIL_URL,
// PULLMAIL_TOKEN), which wins over the config file ($XDG_CONFIG_HOME/pullmail/config.json, else
// ~/.config/pullmail/config.json; %APPDATA%\pullmail\config.json on Windows).
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { UsageError } from './exit-codes.ts';

export interface ConfigFile {
  url?: string;
  token?: string;
}

export type Source = 'flag' | 'env' | 'file';

export interface ResolvedConfig {
  url?: string;
  token?: string;
  /** Where each value came from, for error messages ("the token from PULLMAIL_TOKEN was refused"). */
  sources: { url?: Source; token?: Source };
  /** The config file that was (or would be) read. */
  path: string;
}

export interface ConfigEnv {
  env: Record<string, string | undefined>;
  homedir: string;
  platform: NodeJS.Platform;
}

export function configPath({ env, homedir, platform }: ConfigEnv): string {
  if (env.XDG_CONFIG_HOME) return join(env.XDG_CONFIG_HOME, 'pullmail', 'config.json');
  if (platform === 'win32' && env.APPDATA) return join(env.APPDATA, 'pullmail', 'config.json');
  return join(homedir, '.config', 'pullmail', 'config.json');
}

/** The config file's contents; `{}` when it does not exist. Throws UsageError when it is not valid. */
export function readConfigFile(path: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new UsageError(`cannot read ${path}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UsageError(`${path} is not valid JSON; fix or delete it (pullmail login --url <url> --token <token> writes a new one)`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new UsageError(`${path} must hold a JSON object {"url","token"}`);
  const out: ConfigFile = {};
  for (const key of ['url', 'token'] as const) {
    const v = (parsed as Record<string, unknown>)[key];
    if (v === undefined) continue;
    if (typeof v !== 'string') throw new UsageError(`${path}: "${key}" must be a string`);
    out[key] = v;
  }
  return out;
}

/** Writes the file readable by the owner only (it holds a token), replacing it atomically. */
export function writeConfigFile(path: string, config: ConfigFile): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

/** Applies the order flags > environment > file. Reads the file only when a value is still missing. */
export function resolveConfig(flags: ConfigFile, where: ConfigEnv): ResolvedConfig {
  const path = configPath(where);
  const out: ResolvedConfig = { sources: {}, path };
  let file: ConfigFile | undefined;
  const envName = { url: 'PULLMAIL_URL', token: 'PULLMAIL_TOKEN' } as const;
  for (const key of ['url', 'token'] as const) {
    if (flags[key]) {
      out[key] = flags[key];
      out.sources[key] = 'flag';
    } else if (where.env[envName[key]]) {
      out[key] = where.env[envName[key]];
      out.sources[key] = 'env';
    } else {
      file ??= readConfigFile(path);
      if (file[key]) {
        out[key] = file[key];
        out.sources[key] = 'file';
      }
    }
  }
  return out;
}

/** "--token", "PULLMAIL_TOKEN" or the file path: where a value came from, in the user's words. */
export function describeSource(key: 'url' | 'token', config: ResolvedConfig): string {
  switch (config.sources[key]) {
    case 'flag':
      return `--${key}`;
    case 'env':
      return key === 'url' ? 'PULLMAIL_URL' : 'PULLMAIL_TOKEN';
    case 'file':
      return config.path;
    default:
      return 'nowhere';
  }
}

/** Shows the start of a token only: enough to recognise it, not to use it. */
export function maskToken(token: string): string {
  return token.length <= 8 ? '****' : `${token.slice(0, 6)}…${token.slice(-2)}`;
}
