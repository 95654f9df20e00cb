// Memory of a node process holding many stored messages: a fresh PostgreSQL database is migrated,
// given one mailbox and N stored inbox messages of ~5 KB (bulk SQL), then `pullmail-server start`
// runs on it as its own process. RSS is read from /proc/<pid>/status after start-up, and again after
// the mailbox owner lists the inbox (first pages, count over all N) and /metrics is scraped. The same
// steps on an empty database give the baseline.
// Usage: node bench/rss-stored.ts [N=100000]
import { loadConfig } from '../packages/server/src/config/config.ts';
import { createAccounts } from '../packages/server/src/accounts/accounts.ts';
import { openMigrated } from '../packages/server/src/server.ts';
import { findMailbox } from '../packages/server/src/store/mailboxes.ts';
import { prefillInbound } from './lib/bulk-store.ts';
import { benchDatabase, mb, memoryOf, sleep, sqlClient, startNodeProcess, withCleanup, printFigure, type Figure } from './lib/common.ts';

export interface RssStoredResult {
  n: number;
  prefillSeconds: number;
  dbBytes: number;
  empty: { startKb: number; afterKb: number; hwmKb: number };
  full: { startKb: number; afterKb: number; hwmKb: number };
  inboxTotal: number;
  firstPageMs: number;
}

async function measure(n: number): Promise<{ startKb: number; afterKb: number; hwmKb: number; prefillSeconds: number; dbBytes: number; inboxTotal: number; firstPageMs: number }> {
  return withCleanup(async (cleanup) => {
    const db = await benchDatabase();
    cleanup(() => db.drop());
    // migrate and create the mailbox in this process, then fill in bulk
    const { config } = loadConfig({ DATABASE_URL: db.url, PULLMAIL_DOMAINS: 'b.test', PULLMAIL_LOG_LEVEL: 'silent' });
    const database = await openMigrated(config);
    let token: string;
    let t0 = 0;
    try {
      token = (await createAccounts(database.db, config.domains).create('bob@b.test')).token;
      const mailbox = (await findMailbox(database.db, 'bob@b.test'))!;
      t0 = performance.now();
      if (n > 0) {
        const sql = sqlClient(db.url);
        try {
          await prefillInbound(sql, { mailboxId: mailbox.id, rcpt: 'bob@b.test', sender: 'alice@a.test', iss: 'a.test', count: n });
        } finally {
          await sql.end();
        }
      }
    } finally {
      await database.close();
    }
    const prefillSeconds = (performance.now() - t0) / 1000;
    const sql = sqlClient(db.url);
    const [{ size }] = await sql<{ size: string }[]>`select pg_database_size(current_database()) as size`;
    await sql.end();

    const node = await startNodeProcess({ domain: 'b.test', databaseUrl: db.url, env: { PULLMAIL_LOG_LEVEL: 'warn' } });
    cleanup(() => node.stop());
    await sleep(3000); // workers' first ticks, lazy modules
    const start = memoryOf(node.pid);
    // the owner reads: first page of the inbox (with the count over every stored message), a few pages on
    const t = performance.now();
    const first = await node.api('/api/v1/inbox?limit=50', { token });
    const body = (await first.json()) as { total: number; cursor?: string };
    const firstPageMs = performance.now() - t;
    let cursor = body.cursor;
    for (let i = 0; i < 20 && cursor; i++) {
      const page = (await (await node.api(`/api/v1/inbox?limit=50&cursor=${encodeURIComponent(cursor)}`, { token })).json()) as { cursor?: string };
      cursor = page.cursor;
    }
    await (await node.api('/metrics')).text();
    await sleep(1000);
    const after = memoryOf(node.pid);
    return { startKb: start.rssKb, afterKb: after.rssKb, hwmKb: after.hwmKb, prefillSeconds, dbBytes: Number(size), inboxTotal: body.total, firstPageMs };
  });
}

export async function benchRssStored(n = 100_000): Promise<RssStoredResult> {
  const empty = await measure(0);
  const full = await measure(n);
  return {
    n,
    prefillSeconds: full.prefillSeconds,
    dbBytes: full.dbBytes,
    empty: { startKb: empty.startKb, afterKb: empty.afterKb, hwmKb: empty.hwmKb },
    full: { startKb: full.startKb, afterKb: full.afterKb, hwmKb: full.hwmKb },
    inboxTotal: full.inboxTotal,
    firstPageMs: full.firstPageMs,
  };
}

export function rssStoredFigures(r: RssStoredResult): Figure[] {
  return [{
    name: `RSS holding ${r.n.toLocaleString('en')} stored messages`,
    short: `${mb(r.full.afterKb)} (empty db: ${mb(r.empty.afterKb)})`,
    value: `${mb(r.full.startKb)} after start, ${mb(r.full.afterKb)} after reading the inbox (peak ${mb(r.full.hwmKb)}); empty database: ${mb(r.empty.startKb)} / ${mb(r.empty.afterKb)} (peak ${mb(r.empty.hwmKb)}); inbox first page with total=${r.inboxTotal} in ${r.firstPageMs.toFixed(0)} ms`,
    method: `pullmail-server start as its own process on a PostgreSQL database (${(r.dbBytes / 1e9).toFixed(2)} GB) bulk-filled with ${r.n} ~5 KB inbox messages (generate_series SQL, ${r.prefillSeconds.toFixed(0)} s); VmRSS/VmHWM from /proc/<pid>/status 3 s after start and after 21 inbox pages + a /metrics scrape`,
  }];
}

if (import.meta.main) {
  const r = await benchRssStored(Number(process.argv[2] ?? 100_000));
  for (const f of rssStoredFigures(r)) printFigure(f);
}
