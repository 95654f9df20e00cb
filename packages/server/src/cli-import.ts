// `pullmail-server import <address> <file.mbox|maildir/|->`: mail from an export, another server's mbox
// or a Maildir added to a mailbox without duplicates (docs/operator.md "Export and import"). The source
// is read one message at a time; each goes to the node the way user commands do (adminRoute): the
// database itself, the running node's control socket, or --url with the admin token. A progress bar
// on a terminal, one line per message that could not be imported, and a last line of JSON
// {added,duplicates,failed} on stdout.
import { createReadStream, existsSync, statSync } from 'node:fs';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { readFile } from 'node:fs/promises';
import type { ImportedMessage, ImportSummary } from '@pullmail/client/wire';
import { adminRoute, openAdminDatabase, UsageError } from './cli-admin.ts';
import type { Config } from './config/config.ts';
import { isPullmailError, PullmailError, type ErrorCode } from './errors.ts';
import { statusFlags, takeExportHeaders } from './mail/export-headers.ts';
import { countMaildir, looksLikeMaildir, readMaildir } from './mail/maildir.ts';
import { readMbox } from './mail/mbox.ts';
import { partitionFlags } from './mailbox/flags.ts';

export interface ImportCommand {
  address: string;
  /** A file, a Maildir directory, or `-` for stdin. */
  source: string;
  /** Where messages that name no folder go (mbox without X-Pullmail-Folder); INBOX by default. */
  folder?: string;
  url?: string;
}

interface Incoming {
  raw: Buffer;
  folder?: string;
  flags?: string[];
  internalDate?: Date;
}

/** Where imported messages go: one call per message. */
interface Sink {
  add(address: string, m: Incoming): Promise<ImportedMessage>;
  close(): Promise<void>;
}

/** The node did not answer on its socket (a crashed node's file): the database is free then. */
class NotListening extends Error {}

/** Errors that end the whole import: the mailbox is not there, the node cannot be reached. */
function isFatal(err: unknown): boolean {
  return !isPullmailError(err) || ['unavailable', 'unauthorized', 'forbidden', 'internal'].includes(err.code) || (err.code === 'not_found' && /mailbox/.test(err.message));
}

function httpSink(target: { socketPath: string } | { url: string; token: string }): Sink {
  const agent = 'url' in target && target.url.startsWith('https:') ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
  const post = (address: string, m: Incoming, flags: string[]) => new Promise<ImportedMessage>((resolve, reject) => {
    const query = new URLSearchParams();
    if (m.folder) query.set('folder', m.folder);
    if (flags.length) query.set('flags', flags.join(','));
    if (m.internalDate && !Number.isNaN(m.internalDate.getTime())) query.set('date', m.internalDate.toISOString());
    const path = `/api/v1/admin/users/${encodeURIComponent(address)}/messages?${query}`;
    const headers: Record<string, string> = { 'content-type': 'message/rfc822', 'content-length': String(m.raw.length) };
    let req;
    if ('socketPath' in target) {
      req = httpRequest({ socketPath: target.socketPath, path, method: 'POST', headers, agent });
    } else {
      const url = new URL(`${target.url}${path}`);
      headers.authorization = `Bearer ${target.token}`;
      req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, { method: 'POST', headers, agent });
    }
    req.once('error', (err: NodeJS.ErrnoException) => {
      if ('socketPath' in target && (err.code === 'ECONNREFUSED' || err.code === 'ENOENT')) reject(new NotListening());
      else reject(new PullmailError('unavailable', `cannot reach the node (${err.code ?? err.message})`));
    });
    req.once('response', (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d));
      res.once('end', () => {
        let json: ImportedMessage & { error?: string; detail?: string };
        try {
          json = JSON.parse(text);
        } catch {
          return reject(new PullmailError('internal', `the node answered ${res.statusCode} without JSON`));
        }
        if ((res.statusCode ?? 500) >= 400) reject(new PullmailError((json.error ?? 'internal') as ErrorCode, json.detail ?? `status ${res.statusCode}`));
        else resolve(json);
      });
    });
    req.end(m.raw);
  });
  return {
    async add(address, m) {
      // `?flags=` is a comma list: only flags a message can carry (never a comma) go on the wire, and the
      // rest are named as left off, as importMessage names them on the database path
      const { flags, ignored } = partitionFlags(m.flags ?? []);
      const out = await post(address, m, flags);
      return { ...out, ignored_flags: [...ignored, ...out.ignored_flags] };
    },
    close: async () => agent.destroy(),
  };
}

async function databaseSink(cfg: Config): Promise<Sink> {
  const [{ createAccounts }, { importMessage }] = await Promise.all([import('./accounts/accounts.ts'), import('./mailbox/import.ts')]);
  const database = await openAdminDatabase(cfg);
  const accounts = createAccounts(database.db, cfg.domains);
  const ctx = { db: database.db, config: cfg, now: Date.now };
  const mailboxes = new Map<string, Awaited<ReturnType<typeof accounts.mailbox>>>();
  return {
    async add(address, m) {
      let mailbox = mailboxes.get(address);
      if (!mailbox) mailboxes.set(address, (mailbox = await accounts.mailbox(address)));
      return importMessage(ctx, mailbox, m);
    },
    close: () => database.close(),
  };
}

/** The sink adminRoute() picks; a stale control socket falls back to the database at the first message. */
async function openSink(cfg: Config, url: string | undefined): Promise<Sink> {
  const route = adminRoute({ url, adminToken: process.env.PULLMAIL_ADMIN_TOKEN, config: cfg, socketExists: existsSync });
  if (route.kind === 'url') return httpSink({ url: route.url, token: route.token });
  if (route.kind === 'database') return databaseSink(cfg);
  let sink: Sink = httpSink({ socketPath: route.path });
  let probed = false;
  return {
    async add(address, m) {
      if (probed) return sink.add(address, m);
      try {
        const out = await sink.add(address, m);
        probed = true;
        return out;
      } catch (err) {
        if (!(err instanceof NotListening)) throw err;
        await sink.close();
        sink = await databaseSink(cfg);
        probed = true;
        return sink.add(address, m);
      }
    },
    close: () => sink.close(),
  };
}

/** One message of the source, or one that could not be read, with where it is in the source. */
type SourceItem = { where: string; message: Incoming } | { where: string; failed: string };

interface Source {
  items: AsyncIterable<SourceItem>;
  /** Progress so far and in all, in the source's own unit. */
  progress(): { done: number; total: number; unit: 'bytes' | 'messages' };
}

function openSource(source: string, opts: { maxMessageBytes: number; folder?: string }): Source {
  if (source !== '-' && !existsSync(source)) throw new PullmailError('not_found', `import: ${source} does not exist`);
  if (source !== '-' && statSync(source).isDirectory()) {
    if (!looksLikeMaildir(source)) throw new PullmailError('bad_request', `import: ${source} is a directory but not a Maildir (no cur/ or new/, no .Folder subdirectories)`);
    const total = countMaildir(source);
    let done = 0;
    return {
      progress: () => ({ done, total, unit: 'messages' }),
      items: (async function* () {
        for (const m of readMaildir(source)) {
          done++;
          if (m.size > opts.maxMessageBytes) {
            yield { where: m.path, failed: `the message is larger than ${opts.maxMessageBytes} bytes` };
            continue;
          }
          let raw: Buffer;
          try {
            raw = await readFile(m.path);
          } catch (err) {
            yield { where: m.path, failed: `cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` };
            continue;
          }
          yield { where: m.path, message: { raw, folder: m.folder, flags: m.flags, internalDate: m.date } };
        }
      })(),
    };
  }
  const total = source === '-' ? 0 : statSync(source).size;
  let done = 0;
  const input = source === '-' ? process.stdin : createReadStream(source, { highWaterMark: 256 * 1024 });
  const counted = (async function* () {
    for await (const chunk of input) {
      done += (chunk as Buffer).length;
      yield chunk as Buffer;
    }
  })();
  return {
    progress: () => ({ done, total, unit: 'bytes' }),
    items: (async function* () {
      for await (const item of readMbox(counted, { maxMessageBytes: opts.maxMessageBytes })) {
        const where = `${source === '-' ? 'stdin' : source} at byte ${item.offset}`;
        if (item.kind === 'failed') {
          yield { where, failed: item.reason };
          continue;
        }
        const taken = takeExportHeaders(item.raw);
        yield {
          where,
          message: { raw: taken.raw, folder: taken.folder ?? opts.folder, flags: taken.flags ?? statusFlags(taken.raw), internalDate: item.date },
        };
      }
    })(),
  };
}

/** `[#####.....]  52%  1,234 added  3 duplicates  0 failed`, sized to the terminal. */
export function progressLine(p: { done: number; total: number; unit: 'bytes' | 'messages' }, counts: ImportSummary, columns: number): string {
  const tail = `${counts.added} added  ${counts.duplicates} duplicates  ${counts.failed} failed`;
  if (!p.total) return tail.slice(0, columns - 1);
  const share = Math.min(1, p.done / p.total);
  const percent = `${String(Math.floor(share * 100)).padStart(3)}%`;
  const width = Math.max(10, Math.min(40, columns - tail.length - percent.length - 6));
  const filled = Math.round(share * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${percent}  ${tail}`.slice(0, columns - 1);
}

/**
 * Runs one import. Lines for messages that failed go to `err` (one each); on a terminal `err` also
 * shows a progress bar, otherwise one summary line at the end. Returns the counts (printed by cli.ts).
 */
export async function runImport(cfg: Config, cmd: ImportCommand, err: NodeJS.WriteStream = process.stderr): Promise<ImportSummary> {
  if (!cmd.address || !cmd.source) throw new UsageError('import needs an address and a file, Maildir or - (stdin)');
  const source = openSource(cmd.source, { maxMessageBytes: cfg.maxMessageBytes, folder: cmd.folder });
  const sink = await openSink(cfg, cmd.url);
  const counts: ImportSummary = { added: 0, duplicates: 0, failed: 0 };
  const tty = !!err.isTTY;
  let drawnAt = 0;
  const draw = (force = false) => {
    if (!tty || (!force && Date.now() - drawnAt < 100)) return;
    drawnAt = Date.now();
    err.write(`\r\x1b[2K${progressLine(source.progress(), counts, err.columns || 80)}`);
  };
  const report = (where: string, reason: string) => {
    counts.failed++;
    err.write(`${tty ? '\r\x1b[2K' : ''}pullmail-server: import: ${where}: ${reason}\n`);
  };
  try {
    for await (const item of source.items) {
      if ('failed' in item) {
        report(item.where, item.failed);
      } else {
        try {
          const out = await sink.add(cmd.address, item.message);
          counts[out.result === 'added' ? 'added' : 'duplicates']++;
          if (out.ignored_flags.length) err.write(`${tty ? '\r\x1b[2K' : ''}pullmail-server: import: ${item.where}: flags left off (not IMAP flags): ${out.ignored_flags.join(' ')}\n`);
        } catch (e) {
          if (isFatal(e)) throw e;
          report(item.where, (e as Error).message);
        }
      }
      draw();
    }
  } finally {
    await sink.close();
  }
  if (tty) {
    draw(true);
    err.write('\n');
  } else {
    err.write(`pullmail-server: import: ${counts.added} added, ${counts.duplicates} duplicates, ${counts.failed} failed\n`);
  }
  return counts;
}
