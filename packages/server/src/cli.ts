#!/usr/bin/env node
// pullmail-server: start | migrate | user add <address> [--password <pw>] | keys rotate | dkim show <domain> (docs/operator.md).
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, type Config } from './config/config.ts';
import { createAccounts } from './accounts/accounts.ts';
import { normalizeDomain } from './address.ts';
import { PullmailError } from './errors.ts';
import { createLogger } from './log.ts';
import { rotateKeys } from './protocol/key-set.ts';
import { createServer, openMigrated } from './server.ts';
import { dkimKey, dkimZoneLine } from './smtp/dkim.ts';
import { nodeExtensions } from './extensions.ts';

const USAGE = `usage: pullmail-server <command>
  start                                  run a node (applies migrations first)
  migrate                                apply database migrations and exit
  user add <address> [--password <pw>]   create a mailbox; prints {"address","token"}
  keys rotate                            add a new node signing key
  dkim show <domain>                     print the DKIM TXT record to publish for a domain (made on first use)
Configuration comes from the environment (PULLMAIL_*, DATABASE_URL); see README.md.`;

function fail(message: string, code = 1): never {
  process.stderr.write(`pullmail-server: ${message}\n`);
  process.exit(code);
}

function config(): Config {
  try {
    const { config, warnings } = loadConfig(process.env);
    for (const w of warnings) process.stderr.write(`pullmail-server: warning: ${w}\n`);
    return config;
  } catch (err) {
    // OPERATOR.md: one line per problem, naming the variable
    if (err instanceof ConfigError) fail(err.problems.map((p) => `bad configuration: ${p}`).join('\npullmail-server: '), 78);
    throw err;
  }
}

async function withDatabase<T>(fn: (cfg: Config, db: Awaited<ReturnType<typeof openMigrated>>) => Promise<T>): Promise<T> {
  const cfg = config();
  const database = await openMigrated(cfg);
  try {
    return await fn(cfg, database);
  } finally {
    await database.close();
  }
}

async function start(): Promise<void> {
  const cfg = config();
  const server = createServer(cfg, {}, nodeExtensions());
  await server.start();
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    server.ctx.log.info({ signal }, 'shutting down');
    server.close().then(() => process.exit(0), (err) => {
      server.ctx.log.error({ err }, 'shutdown failed');
      process.exit(1);
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

async function main(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({ args: argv, allowPositionals: true, options: { password: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  const [cmd, sub, arg] = positionals;
  if (values.help || !cmd) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  switch (`${cmd}${sub ? ` ${sub}` : ''}`) {
    case 'start':
      return start();
    case 'migrate':
      await withDatabase(async (_cfg, db) => process.stdout.write(`migrations applied (${db.kind})\n`));
      return;
    case 'keys rotate':
      await withDatabase(async (_cfg, db) => process.stdout.write(`${JSON.stringify({ kid: await rotateKeys(db.db, new Date()) })}\n`));
      return;
    case 'dkim show':
      if (!arg) fail('dkim show needs a domain');
      await withDatabase(async (cfg, db) => {
        const domain = normalizeDomain(arg);
        if (!cfg.domains.includes(domain)) fail(`${arg} is not a domain of this node (PULLMAIL_DOMAINS)`);
        process.stdout.write(`${dkimZoneLine(await dkimKey(db.db, domain, new Date()))}\n`);
      });
      return;
    case 'user add':
      if (!arg) fail('user add needs an address');
      await withDatabase(async (cfg, db) => {
        const created = await createAccounts(db.db, cfg.domains).create(arg, values.password);
        process.stdout.write(`${JSON.stringify(created)}\n`);
      });
      return;
    default:
      fail(`unknown command "${positionals.join(' ')}"\n${USAGE}`, 64);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof PullmailError) fail(err.message);
  createLogger('error').error({ err }, 'pullmail-server failed');
  process.exit(1);
});
