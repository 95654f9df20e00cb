// `pullmail-server user add|list|delete|passwd|token` and `alias add|list|delete`: mailboxes and aliases
// managed with the node stopped or running (README "Managing users", "Aliases and catch-all"). Where the commands go is chosen by adminRoute(); what they print does not
// depend on it.
import { existsSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AdminAlias, ListAliasesResponse, ListUsersResponse, NewTokenResponse } from '@pullmail/client/wire';
import { aliasAddress } from './address.ts';
import type { Config } from './config/config.ts';
import { isPullmailError, PullmailError, type ErrorCode } from './errors.ts';
import { controlSocketPath } from './http/control-path.ts';

/** store/db.ts IN_MEMORY, not imported: the database drivers load only when a command needs them. */
const IN_MEMORY = ':memory:';

/** What the user commands need from a node, whichever way it is reached. */
interface AdminOps {
  add(address: string, password?: string, admin?: boolean): Promise<{ address: string; token: string }>;
  list(): Promise<ListUsersResponse>;
  remove(address: string): Promise<{ address: string; deleted: true }>;
  passwd(address: string, password: string): Promise<{ address: string; password_set: true }>;
  setDisabled(address: string, disabled: boolean): Promise<{ address: string; disabled: boolean }>;
  token(address: string, keepOthers: boolean): Promise<NewTokenResponse>;
  aliasAdd(address: string, target: string): Promise<AdminAlias>;
  aliasList(): Promise<ListAliasesResponse>;
  aliasDelete(id: string): Promise<AdminAlias & { deleted: true }>;
}

export type AdminRoute =
  | { kind: 'url'; url: string; token: string }
  | { kind: 'socket'; path: string }
  | { kind: 'database' };

/**
 * Where user commands go: `--url` → that node's admin API with PULLMAIL_ADMIN_TOKEN; an embedded
 * database whose node serves its control socket → the socket (the node holds the database); otherwise
 * the database itself (PostgreSQL is shared by design; a stopped node's PGlite is free).
 */
export function adminRoute(opts: { url?: string; adminToken?: string; config: Pick<Config, 'databaseUrl' | 'dataDir'>; socketExists: (path: string) => boolean }): AdminRoute {
  if (opts.url !== undefined) {
    if (!URL.canParse(opts.url) || !/^https?:$/.test(new URL(opts.url).protocol)) throw new UsageError(`--url: "${opts.url}" must be an http(s) URL`);
    if (!opts.adminToken) throw new UsageError('--url needs the node\'s admin token in PULLMAIL_ADMIN_TOKEN');
    return { kind: 'url', url: opts.url.replace(/\/+$/, ''), token: opts.adminToken };
  }
  const { databaseUrl, dataDir } = opts.config;
  if (!databaseUrl && dataDir !== IN_MEMORY && opts.socketExists(controlSocketPath(dataDir))) return { kind: 'socket', path: controlSocketPath(dataDir) };
  return { kind: 'database' };
}

export class UsageError extends Error {}

/** The node did not answer on its socket (a crashed node's file): the database is free then. */
class NotListening extends Error {}

function httpOps(target: { socketPath: string } | { url: string; token: string }): AdminOps {
  const call = <T>(method: string, path: string, body?: unknown): Promise<T> =>
    new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const headers: Record<string, string> = payload ? { 'content-type': 'application/json' } : {};
      let req;
      if ('socketPath' in target) {
        req = httpRequest({ socketPath: target.socketPath, path: `/api/v1/admin${path}`, method, headers });
      } else {
        const url = new URL(`${target.url}/api/v1/admin${path}`);
        headers.authorization = `Bearer ${target.token}`;
        req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, { method, headers });
      }
      req.once('error', (err: NodeJS.ErrnoException) => {
        if ('socketPath' in target && (err.code === 'ECONNREFUSED' || err.code === 'ENOENT')) reject(new NotListening());
        else if ('url' in target) reject(new PullmailError('unavailable', `cannot reach ${target.url} (${err.code ?? err.message})`));
        else reject(err);
      });
      req.once('response', (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (d: string) => (text += d));
        res.once('end', () => {
          let json: { error?: string; detail?: string } = {};
          try {
            json = JSON.parse(text);
          } catch {
            return reject(new PullmailError('internal', `the node answered ${res.statusCode} without JSON`));
          }
          if ((res.statusCode ?? 500) >= 400) reject(new PullmailError((json.error ?? 'internal') as ErrorCode, json.detail ?? `status ${res.statusCode}`));
          else resolve(json as T);
        });
      });
      req.end(payload);
    });
  const user = (address: string) => `/users/${encodeURIComponent(address)}`;
  return {
    add: (address, password, admin) => call('POST', '/users', { address, password, ...(admin ? { admin } : {}) }),
    list: () => call('GET', '/users'),
    remove: (address) => call('DELETE', user(address)),
    passwd: (address, password) => call('PUT', `${user(address)}/password`, { password }),
    setDisabled: (address, disabled) => call('POST', `${user(address)}/${disabled ? 'disable' : 'enable'}`),
    token: (address, keepOthers) => call('POST', `${user(address)}/token`, { keep_others: keepOthers }),
    aliasAdd: (address, target) => call('POST', '/aliases', { address, target }),
    aliasList: () => call('GET', '/aliases'),
    aliasDelete: (id) => call('DELETE', `/aliases/${encodeURIComponent(id)}`),
  };
}

/** The node's database for an admin command, or `unavailable` saying how to reach a running node instead. */
export async function openAdminDatabase(cfg: Config) {
  const { openMigrated } = await import('./server.ts');
  try {
    return await openMigrated(cfg);
  } catch (err) {
    // PGlite refused: a node holds the data directory but serves no control socket (yet)
    if (isPullmailError(err, 'unavailable') && !cfg.databaseUrl) {
      throw new PullmailError('unavailable', `${err.message}; a running node answers user commands on ${controlSocketPath(cfg.dataDir)} once it has started (try again), or use --url <node URL> with PULLMAIL_ADMIN_TOKEN`);
    }
    throw err;
  }
}

async function withDatabaseOps<T>(cfg: Config, fn: (ops: AdminOps) => Promise<T>): Promise<T> {
  const [{ adminUser, createAccounts }, { createAliases }] = await Promise.all([import('./accounts/accounts.ts'), import('./accounts/aliases.ts')]);
  const database = await openAdminDatabase(cfg);
  try {
    const accounts = createAccounts(database.db, cfg.domains);
    const aliases = createAliases(database.db, cfg.domains);
    return await fn({
      add: (address, password, admin) => accounts.create(address, password, { admin }),
      list: async () => ({
        users: (await accounts.list()).map(adminUser),
      }),
      remove: async (address) => ({ ...(await accounts.remove(address)), deleted: true }),
      passwd: async (address, password) => ({ address: (await accounts.setPassword(address, password)).address, password_set: true }),
      setDisabled: (address, disabled) => accounts.setDisabled(address, disabled),
      token: (address, keepOthers) => accounts.newToken(address, keepOthers),
      aliasAdd: (address, target) => aliases.create(address, target),
      aliasList: async () => ({ aliases: (await aliases.list()).map((a) => ({ id: a.id, address: a.address, target: a.target, created_at: a.createdAt.toISOString() })) }),
      aliasDelete: async (id) => ({ ...(await aliases.remove(id)), deleted: true }),
    });
  } finally {
    await database.close();
  }
}

/** Runs `fn` against the node as adminRoute() says; a stale socket falls back to the database. */
async function withAdmin<T>(cfg: Config, route: AdminRoute, fn: (ops: AdminOps) => Promise<T>): Promise<T> {
  if (route.kind === 'url') return fn(httpOps({ url: route.url, token: route.token }));
  if (route.kind === 'socket') {
    try {
      return await fn(httpOps({ socketPath: route.path }));
    } catch (err) {
      if (!(err instanceof NotListening)) throw err;
    }
  }
  return withDatabaseOps(cfg, fn);
}

export interface UserCommand {
  verb: string;
  address?: string;
  password?: string;
  json: boolean;
  keep: boolean;
  /** `user add --admin`: the account may sign in to the admin UI. */
  admin?: boolean;
  url?: string;
  /** Reads the new password from stdin when --password is not given (`user passwd`). */
  readStdin: () => Promise<string | undefined>;
}

const USER_VERBS = ['add', 'list', 'delete', 'passwd', 'token', 'disable', 'enable'];

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ')).join('\n');
}

/** Runs one user command and returns what to print on stdout (without the final newline). */
export async function runUserCommand(cfg: Config, cmd: UserCommand): Promise<string> {
  if (!USER_VERBS.includes(cmd.verb)) throw new UsageError(`unknown command "user ${cmd.verb}" (user ${USER_VERBS.join('|')})`);
  if (cmd.verb !== 'list' && !cmd.address) throw new UsageError(`user ${cmd.verb} needs an address`);
  const address = cmd.address ?? '';
  let password = cmd.password;
  if (cmd.verb === 'passwd' && password === undefined) {
    password = await cmd.readStdin();
    if (!password) throw new UsageError('user passwd needs --password <pw>, or the password on stdin');
  }
  const route = adminRoute({ url: cmd.url, adminToken: process.env.PULLMAIL_ADMIN_TOKEN, config: cfg, socketExists: existsSync });
  return withAdmin(cfg, route, async (ops) => {
    switch (cmd.verb) {
      case 'add':
        // OPERATOR.md: one line of JSON, whatever --json says
        return JSON.stringify(await ops.add(address, password, cmd.admin));
      case 'token':
        return JSON.stringify(await ops.token(address, cmd.keep));
      case 'list': {
        const listed = await ops.list();
        if (cmd.json) return JSON.stringify(listed);
        if (listed.users.length === 0) return 'no mailboxes yet: pullmail-server user add <address>';
        return table([['ADDRESS', 'PASSWORD', 'TOKENS', 'CREATED'], ...listed.users.map((u) => [u.address, u.has_password ? 'yes' : 'no', String(u.tokens), u.created_at.slice(0, 16).replace('T', ' ')])]);
      }
      case 'disable':
      case 'enable': {
        const done = await ops.setDisabled(address, cmd.verb === 'disable');
        return cmd.json ? JSON.stringify(done) : `${done.address} ${done.disabled ? 'disabled: no sign-in through any door; mail still arrives' : 'enabled'}`;
      }
      case 'delete': {
        const done = await ops.remove(address);
        return cmd.json ? JSON.stringify(done) : `deleted ${done.address} and its mail`;
      }
      default: {
        const done = await ops.passwd(address, password!);
        return cmd.json ? JSON.stringify(done) : `password set for ${done.address}`;
      }
    }
  });
}

export interface AliasCommand {
  verb: string;
  /** `add`: the alias address (`@domain` for a catch-all); `delete`: its id or its address. */
  address?: string;
  target?: string;
  json: boolean;
  url?: string;
}

const ALIAS_VERBS = ['add', 'list', 'delete'];

/** Runs one alias command and returns what to print on stdout (without the final newline). */
export async function runAliasCommand(cfg: Config, cmd: AliasCommand): Promise<string> {
  if (!ALIAS_VERBS.includes(cmd.verb)) throw new UsageError(`unknown command "alias ${cmd.verb}" (alias ${ALIAS_VERBS.join('|')})`);
  if (cmd.verb === 'add' && (!cmd.address || !cmd.target)) throw new UsageError('alias add needs an address (or @domain) and a target mailbox');
  if (cmd.verb === 'delete' && !cmd.address) throw new UsageError('alias delete needs the alias id or address');
  const route = adminRoute({ url: cmd.url, adminToken: process.env.PULLMAIL_ADMIN_TOKEN, config: cfg, socketExists: existsSync });
  return withAdmin(cfg, route, async (ops) => {
    switch (cmd.verb) {
      case 'add':
        // like user add: one line of JSON, the API's answer
        return JSON.stringify(await ops.aliasAdd(cmd.address!, cmd.target!));
      case 'list': {
        const listed = await ops.aliasList();
        if (cmd.json) return JSON.stringify(listed);
        if (listed.aliases.length === 0) return 'no aliases yet: pullmail-server alias add <address|@domain> <mailbox>';
        return table([['ADDRESS', 'TARGET', 'ID'], ...listed.aliases.map((a) => [a.address, a.target, a.id])]);
      }
      default: {
        // an operator remembers the address, a script keeps the id: either names the alias
        const given = cmd.address!;
        const named = given.includes('@') ? (await ops.aliasList()).aliases.find((a) => a.address === aliasAddress(given)) : undefined;
        if (given.includes('@') && !named) throw new PullmailError('not_found', `no alias ${given}`);
        const done = await ops.aliasDelete(named?.id ?? given);
        return cmd.json ? JSON.stringify(done) : `deleted alias ${done.address} (delivered to ${done.target})`;
      }
    }
  });
}
