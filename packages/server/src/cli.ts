#!/usr/bin/env node
// pullmail-server: start | migrate | user add|list|delete|passwd|token | alias add|list|delete | keys rotate |
// dkim show <domain> | dns show <domain> | import <address> <file.mbox|maildir/>
// (README "Operating a node").
import { parseArgs } from 'node:util';
import { runAliasCommand, runUserCommand, UsageError } from './cli-admin.ts';
import { ConfigError, loadConfig, maskCredentials, type Config } from './config/config.ts';
import { describeStartError } from './start-errors.ts';
import { normalizeDomain } from './address.ts';
import { PullmailError } from './errors.ts';
import type { openMigrated } from './server.ts';
// the rest is imported by the command that needs it: `--help` or a user command on a running node
// should not wait for the database drivers and every route to load

const USAGE = `usage: pullmail-server <command>
  start                                  run a node (applies migrations first)
  migrate                                apply database migrations and exit
  user add <address> [--password <pw>]   create a mailbox; prints {"address","token"}
  user list [--json]                     every mailbox: address, password set, tokens, created
  user delete <address> [--json]         delete a mailbox and all its mail
  user passwd <address> [--password <pw>] set the password (read from stdin without --password)
  user add <address> --admin             the same, and the account may sign in to the admin UI (/admin/)
  user disable|enable <address>          no sign-in through any door (web, IMAP, submission, API token) / again
  user token <address> [--keep]          a new API token, the old ones revoked unless --keep;
                                         prints {"address","token","revoked"}
  alias add <address|@domain> <mailbox>  mail to the address (or, @domain: to any address of the domain
                                         without a mailbox or alias) goes to the mailbox; prints {"id","address","target"}
  alias list [--json]                    every alias and catch-all: address, target mailbox, id
  alias delete <id|address> [--json]     remove an alias
  keys rotate                            add a new node signing key
  dkim show <domain>                     print the DKIM TXT record to publish for a domain (made on first use)
  dns show <domain> [--check]            print every DNS record the domain needs, one zone-file line each;
                                         --check: compare each with what DNS answers (exit 1 if any is not there)
  import <address> <file.mbox|maildir/|->  add mail from an mbox (an export, another server's), a Maildir or
           [--folder <name>]             stdin; no duplicates; folder and flags from X-Pullmail-* fields or
                                         Maildir names (--folder: for messages naming none); last line
                                         {"added","duplicates","failed"}, exit 1 if any failed
User, alias and import commands work with the node stopped or running: a running node with its embedded database is
reached through its control socket (<data dir>/run/admin.sock); --url <node URL> uses that node's
admin API with PULLMAIL_ADMIN_TOKEN instead.
Configuration comes from the environment (PULLMAIL_*, DATABASE_URL); see README.md.`;

function fail(message: string, code = 1): never {
  process.stderr.write(`pullmail-server: ${message}\n`);
  process.exit(code);
}

/** The configuration once loaded, so that a failure can name the setting behind it. */
let loaded: Config | undefined;

function config(): Config {
  try {
    const { config, warnings } = loadConfig(process.env);
    loaded = config;
    for (const w of warnings) process.stderr.write(`pullmail-server: warning: ${w}\n`);
    return config;
  } catch (err) {
    // OPERATOR.md: one line per problem, naming the variable
    if (err instanceof ConfigError) fail(err.problems.map((p) => `bad configuration: ${p}`).join('\npullmail-server: '), 78);
    throw err;
  }
}

async function withDatabase<T>(fn: (cfg: Config, db: Awaited<ReturnType<typeof openMigrated>>) => Promise<T>, cfg = config()): Promise<T> {
  const database = await (await import('./server.ts')).openMigrated(cfg);
  try {
    return await fn(cfg, database);
  } finally {
    await database.close();
  }
}

async function start(): Promise<void> {
  const cfg = config();
  const [{ createServer }, { nodeExtensions }] = await Promise.all([import('./server.ts'), import('./extensions.ts')]);
  const server = createServer(cfg, {}, nodeExtensions());
  try {
    await server.start();
  } catch (err) {
    // release what did open (the data directory's lock, the database) before saying why
    await server.close().catch(() => {});
    throw err;
  }
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

async function readStdin(): Promise<string | undefined> {
  if (process.stdin.isTTY) return undefined;
  let text = '';
  for await (const chunk of process.stdin) text += chunk;
  return text.replace(/\r?\n$/, '');
}

function parse(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        password: { type: 'string' },
        json: { type: 'boolean' },
        keep: { type: 'boolean' },
        admin: { type: 'boolean' },
        check: { type: 'boolean' },
        url: { type: 'string' },
        folder: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    return fail(`${(err as Error).message}\n${USAGE}`, 64);
  }
}

let jsonErrors = false;

async function main(argv: string[]): Promise<void> {
  const { positionals, values } = parse(argv);
  const [cmd, sub, arg, arg2] = positionals;
  jsonErrors = !!values.json;
  if (values.help || !cmd) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (cmd === 'user') {
    const out = await runUserCommand(config(), {
      verb: sub ?? '',
      address: arg,
      password: values.password,
      json: !!values.json,
      keep: !!values.keep,
      admin: !!values.admin,
      url: values.url,
      readStdin,
    });
    process.stdout.write(`${out}\n`);
    return;
  }
  if (cmd === 'import') {
    if (positionals.length !== 3) throw new UsageError('import needs an address and a file, Maildir or - (stdin)');
    const { runImport } = await import('./cli-import.ts');
    const counts = await runImport(config(), { address: sub, source: arg, folder: values.folder, url: values.url });
    // OPERATOR.md: the last line is the counts as JSON
    process.stdout.write(`${JSON.stringify(counts)}\n`);
    if (counts.failed) process.exitCode = 1;
    return;
  }
  if (cmd === 'alias') {
    const out = await runAliasCommand(config(), { verb: sub ?? '', address: arg, target: arg2, json: !!values.json, url: values.url });
    process.stdout.write(`${out}\n`);
    return;
  }
  switch (`${cmd}${sub ? ` ${sub}` : ''}`) {
    case 'start':
      return start();
    case 'migrate':
      await withDatabase(async (_cfg, db) => process.stdout.write(`migrations applied (${db.kind})\n`));
      return;
    case 'keys rotate':
      await withDatabase(async (_cfg, db) => {
        const { rotateKeys } = await import('./protocol/key-set.ts');
        process.stdout.write(`${JSON.stringify({ kid: await rotateKeys(db.db, new Date()) })}\n`);
      });
      return;
    case 'dkim show':
      if (!arg) fail('dkim show needs a domain');
      await withDatabase(async (cfg, db) => {
        const domain = normalizeDomain(arg);
        if (!cfg.domains.includes(domain)) fail(`${arg} is not a domain of this node (PULLMAIL_DOMAINS)`);
        const { dkimKey, dkimZoneLine } = await import('./smtp/dkim.ts');
        process.stdout.write(`${dkimZoneLine(await dkimKey(db.db, domain, new Date()))}\n`);
      });
      return;
    case 'dns show': {
      if (!arg) fail('dns show needs a domain');
      const cfg = config();
      const domain = normalizeDomain(arg);
      // refused before the database is opened
      if (!cfg.domains.includes(domain)) fail(`${arg} is not a domain of this node (PULLMAIL_DOMAINS)`);
      const [{ dkimKey, dkimRecord }, { domainRecords, zoneLine }] = await Promise.all([import('./smtp/dkim.ts'), import('./dns-records.ts')]);
      const dkim = await withDatabase(async (_cfg, db) => dkimRecord(await dkimKey(db.db, domain, new Date())), cfg);
      const records = domainRecords({ ...cfg, domain, dkim });
      if (!values.check) return void process.stdout.write(records.map((r) => `${zoneLine(r)}\n`).join(''));
      // the database is closed again before the lookups
      const [{ checkRecords, checkLine }, { systemResolver }] = await Promise.all([import('./dns-check.ts'), import('./peers/discovery.ts')]);
      const checks = await checkRecords(records, systemResolver());
      process.stdout.write(checks.map((c) => `${checkLine(c)}\n`).join(''));
      const wrong = checks.filter((c) => c.state !== 'ok').length;
      if (wrong) fail(`${wrong} of ${checks.length} records of ${domain} are not as DNS should answer them`);
      return;
    }
    default:
      fail(`unknown command "${positionals.join(' ')}"\n${USAGE}`, 64);
  }
}

main(process.argv.slice(2)).catch(async (err: unknown) => {
  if (err instanceof UsageError) fail(`${err.message}\n${USAGE}`, 64);
  // a port taken, a database not there: one line naming the variable, never a stack trace
  const line = loaded && describeStartError(err, loaded);
  if (line) fail(line);
  if (err instanceof PullmailError) {
    // with --json a script gets the node's error code too
    if (jsonErrors) {
      process.stderr.write(`${JSON.stringify({ error: err.code, detail: err.message })}\n`);
      process.exit(1);
    }
    fail(err.message);
  }
  // unforeseen: one line, credentials masked; the stack only at PULLMAIL_LOG_LEVEL=debug
  if (loaded?.logLevel === 'debug') (await import('./log.ts')).createLogger('debug').error({ err }, 'pullmail-server failed');
  const message = err instanceof Error ? err.message : String(err);
  fail(loaded?.databaseUrl ? message.replaceAll(loaded.databaseUrl, maskCredentials(loaded.databaseUrl)) : message);
});
