// Web UI server time (issue 14: pages under 50 ms at the server for a 10k-message inbox). One node's
// hono app in this process over its database (PostgreSQL with DATABASE_URL, else in-memory PGlite),
// requests through app.request(), so what is timed is the server's work: session lookup, use cases,
// queries, rendering; no socket, no browser. The inbox is 10,000 messages of ~5 KB filled in one bulk
// INSERT (the shape a REST append files; a third unread, a tenth flagged) and vacuumed, the user signed in through
// the real form. Timed, each `runs` times after 20 warm-up requests, one at a time:
//   - the Inbox page (/mail/: the first 50, folder counts for the nav and the sidebar),
//   - a page deep in the folder (the keyset cursor of message 5,000),
//   - searches by sender or subject over the 10k (ILIKE '%…%', served by the trigram index of migration
//     0011; the count stops at 1,001): one matching 1 in 7 messages, one matching none, one matching all,
//   - a message page (parse and render a 5 KB text message in the middle of the folder).
// Figures are printed, never asserted.
// Usage: node bench/web.ts [messages=10000] [runs=200]
import { and, eq, sql } from 'drizzle-orm';
import { loadConfig } from '../packages/server/src/config/config.ts';
import { nodeExtensions } from '../packages/server/src/extensions.ts';
import { createApp } from '../packages/server/src/http/app.ts';
import { createLogger } from '../packages/server/src/log.ts';
import { createFakeResolver } from '../packages/server/src/peers/fake-resolver.ts';
import { createContext, openMigrated } from '../packages/server/src/server.ts';
import { findMailbox } from '../packages/server/src/store/mailboxes.ts';
import { folderMessages } from '../packages/server/src/store/schema.ts';
import { encodeCursor } from '../packages/server/src/http/pagination.ts';
import { testDatabase } from '../test/harness/database.ts';
import { percentile, printFigure, withCleanup, type Figure } from './lib/common.ts';

export interface WebBenchResult {
  db: 'postgres' | 'pglite';
  messages: number;
  fillSeconds: number;
  pages: { name: string; path: string; ms: number[]; bytes: number }[];
}

const BODY = Array.from({ length: 80 }, (_, i) => `${String(i).padStart(4, '0')} ${'abcdefghijklmnopqrstuvwxyz0123456789'.repeat(2).slice(0, 59)}`).join('\r\n');

export async function benchWeb(messages = 10_000, runs = 200): Promise<WebBenchResult> {
  return withCleanup(async (cleanup) => {
    const database = await testDatabase();
    cleanup(() => database.drop());
    const { config } = loadConfig({ PULLMAIL_DOMAINS: 'b.test', PULLMAIL_PUBLIC_URL: 'http://b.test.example', PULLMAIL_LOG_LEVEL: 'silent', ...database.env });
    const opened = await openMigrated(config);
    cleanup(() => opened.close());
    const ctx = await createContext(config, opened, { resolver: createFakeResolver(), logger: createLogger('silent'), kick: () => {} });
    cleanup(() => ctx.fetcher.close());
    const app = createApp(ctx, nodeExtensions().flatMap((e) => (e.routes ? [e.routes] : [])));
    await ctx.accounts.create('bob@b.test', 'bench-web-password');
    const mailbox = (await findMailbox(ctx.db, 'bob@b.test'))!;

    const t0 = performance.now();
    await ctx.db.execute(sql`
      insert into folder_messages (mailbox_id, folder_id, uid, modseq, flags, internal_date, size, sender, subject, message_id_header, raw, sha256)
      select f.mailbox_id, f.id, g, 1,
             case when g % 10 = 0 then '["\\\\Seen","\\\\Flagged"]'::jsonb when g % 3 = 0 then '[]'::jsonb else '["\\\\Seen"]'::jsonb end,
             now() - (${messages}::int - g) * interval '1 second', octet_length(m.raw),
             case when g % 7 = 0 then 'carol@c.example' else 'alice@a.example' end, 'bench message ' || g, '<bench-' || g || '@a.example>', m.raw, encode(sha256(m.raw), 'base64')
      from folders f, generate_series(1, ${messages}::int) g,
           lateral (select convert_to('From: alice@a.example' || chr(13) || chr(10) || 'To: bob@b.test' || chr(13) || chr(10) || 'Subject: bench message ' || g || chr(13) || chr(10)
             || 'Message-ID: <bench-' || g || '@a.example>' || chr(13) || chr(10) || 'Date: Thu, 01 Jan 2026 00:00:00 +0000' || chr(13) || chr(10) || chr(13) || chr(10) || ${BODY}::text, 'UTF8') as raw) m
      where f.mailbox_id = ${mailbox.id}::uuid and f.role = 'inbox'`);
    await ctx.db.execute(sql`update folders set uid_next = ${messages + 1}::int, highest_modseq = greatest(highest_modseq, 1) where mailbox_id = ${mailbox.id}::uuid and role = 'inbox'`);
    // what autovacuum does soon after a bulk insert (PostgreSQL 13+ vacuums on inserts too): index-only
    // scans for the counts need the visibility map
    await ctx.db.execute(sql`vacuum analyze folder_messages`);
    const fillSeconds = (performance.now() - t0) / 1000;

    // sign in through the form, as a browser does
    let cookie = '';
    const request = async (path: string, init: RequestInit = {}) => {
      const res = await app.request(`${ctx.publicUrl}${path}`, { ...init, headers: { ...(init.headers as Record<string, string>), cookie } });
      const set = res.headers.getSetCookie().find((l) => l.startsWith('pm_session='));
      if (set) cookie = set.split(';')[0];
      return res;
    };
    const form = await (await request('/mail/sign-in')).text();
    const csrf = /name="csrf" value="([^"]+)"/.exec(form)![1];
    const signIn = await request('/mail/sign-in', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ csrf, address: 'bob@b.test', password: 'bench-web-password' }) });
    if (signIn.status !== 303 || !cookie) throw new Error(`sign-in failed: ${signIn.status}`);

    const [row] = await ctx.db.select({ id: folderMessages.id, at: folderMessages.internalDate }).from(folderMessages)
      .where(and(eq(folderMessages.mailboxId, mailbox.id), eq(folderMessages.uid, Math.ceil(messages / 2))));
    const deep = encodeCursor(row.at, row.id);
    const pages = [
      { name: 'Inbox page', path: '/mail/' },
      { name: `Inbox page at message ${Math.ceil(messages / 2)} (cursor)`, path: `/mail/?cursor=${deep}` },
      { name: 'Inbox search (sender or subject)', path: '/mail/?q=carol' },
      { name: 'Inbox search matching no message', path: '/mail/?q=nobody%40nowhere' },
      { name: 'Inbox search matching every message', path: '/mail/?q=bench%20message' },
      { name: 'Message page (5 KB text)', path: `/mail/m/${row.id}` },
    ];
    const out: WebBenchResult['pages'] = [];
    for (const p of pages) {
      let bytes = 0;
      for (let i = 0; i < 20; i++) await (await request(p.path)).arrayBuffer();
      const ms: number[] = [];
      for (let i = 0; i < runs; i++) {
        const t = performance.now();
        const res = await request(p.path);
        const body = await res.arrayBuffer();
        ms.push(performance.now() - t);
        if (res.status !== 200) throw new Error(`${p.path}: ${res.status}`);
        bytes = body.byteLength;
      }
      out.push({ ...p, ms: ms.sort((x, y) => x - y), bytes });
    }
    return { db: database.env.DATABASE_URL ? 'postgres' : 'pglite', messages, fillSeconds, pages: out };
  });
}

export function webFigures(r: WebBenchResult): Figure[] {
  return r.pages.map((p) => {
    const mean = p.ms.reduce((a, b) => a + b, 0) / p.ms.length;
    return {
      name: `web: ${p.name}, ${r.messages.toLocaleString('en')} in the inbox`,
      value: `p50 ${percentile(p.ms, 50).toFixed(1)} ms, p90 ${percentile(p.ms, 90).toFixed(1)} ms, p99 ${percentile(p.ms, 99).toFixed(1)} ms, mean ${mean.toFixed(1)} ms (${(p.bytes / 1024).toFixed(1)} KB of HTML)`,
      method: `${p.ms.length} requests one at a time through app.request() after 20 warm-ups, signed in (session lookup included), ${r.db}; inbox filled in bulk SQL in ${r.fillSeconds.toFixed(1)} s`,
      short: `p50 ${percentile(p.ms, 50).toFixed(1)} ms, p99 ${percentile(p.ms, 99).toFixed(1)} ms`,
    };
  });
}

if (import.meta.main) {
  const [messages, runs] = process.argv.slice(2).map(Number);
  for (const f of webFigures(await benchWeb(messages || 10_000, runs || 200))) printFigure(f);
  process.exit(0);
}
