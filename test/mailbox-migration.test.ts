// Migration 0005 (the mailbox model) on a database that already holds mail: stored messages land in
// INBOX, held requests in Requests, sent mail in Sent, numbered by arrival; mail that arrives after it
// is filed by the trigger under the next uid. Runs on PGlite, and on PostgreSQL when DATABASE_URL is set.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { PGlite } from '@electric-sql/pglite';
import { sql, type SQL } from 'drizzle-orm';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import { MIGRATIONS_DIR, PGLITE_EXTENSIONS, postgresClient } from '../packages/server/src/store/db.ts';
import { testDatabase } from './harness/database.ts';

/** The migrations folder as it was before `tag`: the same files, a journal that stops short of it. */
function migrationsBefore(tag: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'pm-migrations-'));
  cpSync(MIGRATIONS_DIR, dir, { recursive: true });
  const journalPath = join(dir, 'meta', '_journal.json');
  const journal = JSON.parse(readFileSync(journalPath, 'utf8')) as { entries: { tag: string }[] };
  const cut = journal.entries.findIndex((e) => e.tag === tag);
  assert.ok(cut > 0, `migration ${tag} exists`);
  journal.entries = journal.entries.slice(0, cut);
  writeFileSync(journalPath, JSON.stringify(journal));
  return dir;
}

interface Target {
  run(q: SQL): Promise<Record<string, unknown>[]>;
  migrate(folder: string): Promise<void>;
  close(): Promise<void>;
}

async function pgliteTarget(): Promise<Target> {
  const client = new PGlite({ extensions: PGLITE_EXTENSIONS });
  const db = drizzlePglite(client);
  return {
    run: async (q) => ((await db.execute(q)) as unknown as { rows: Record<string, unknown>[] }).rows,
    migrate: (migrationsFolder) => migratePglite(db, { migrationsFolder }),
    close: () => client.close(),
  };
}

async function postgresTarget(): Promise<Target> {
  const own = await testDatabase();
  const client = postgresClient(own.env.DATABASE_URL, { max: 1, onnotice: () => {}, fetch_types: false });
  const db = drizzlePostgres(client);
  return {
    run: async (q) => [...((await db.execute(q)) as unknown as Record<string, unknown>[])],
    migrate: (migrationsFolder) => migratePostgres(db, { migrationsFolder }),
    close: async () => {
      await client.end();
      await own.drop();
    },
  };
}

const old = migrationsBefore('0005_mailbox');
after(() => rmSync(old, { recursive: true, force: true }));

const targets: [string, () => Promise<Target>][] = [['PGlite', pgliteTarget]];
if (process.env.DATABASE_URL) targets.push(['PostgreSQL', postgresTarget]);

for (const [name, open] of targets) {
  describe(`migration 0005 (mailbox model) on ${name}`, () => {
    it('files existing mail in INBOX, Requests and Sent, then files new mail under the next uid', async () => {
      const t = await open();
      try {
        await t.migrate(old);
        // the schema of 0004, with mail in it
        await t.run(sql`insert into domains (name) values ('a.test')`);
        const [alice] = await t.run(sql`insert into mailboxes (address, domain) values ('alice@a.test', 'a.test') returning id`);
        const [bob] = await t.run(sql`insert into mailboxes (address, domain) values ('bob@a.test', 'a.test') returning id`);
        const inbound = (state: string, subject: string, at: string, extra: SQL = sql`'\\x6869'::bytea`) => t.run(sql`
          insert into inbound (mailbox_id, iss, remote_id, rcpt, sender, subject, size, via, state, raw, created_at, stored_at)
          values (${alice.id}, 'b.test', ${subject}, 'alice@a.test', 'carol@b.test', ${subject}, 2, 'pm1', ${state}, ${extra},
                  ${at}::timestamptz, ${state === 'stored' ? at : null}::timestamptz)`);
        await inbound('stored', 'second', '2026-11-02T10:00:00Z');
        await inbound('stored', 'first', '2026-11-01T10:00:00Z');
        await inbound('stored', 'deleted', '2026-11-01T11:00:00Z', sql`null`); // deleted: no bytes left
        await t.run(sql`update inbound set deleted_at = now() where subject = 'deleted'`);
        await inbound('held', 'request', '2026-11-03T10:00:00Z', sql`null`);
        await inbound('rejected', 'refused', '2026-11-03T11:00:00Z', sql`null`);
        await t.run(sql`insert into messages (id, mailbox_id, sender, subject, version, message_id_header) values ('m1', ${alice.id}, 'alice@a.test', 'sent v2', 2, '<m1@a.test>')`);
        await t.run(sql`insert into message_versions (message_id, version, raw, size, sha256) values ('m1', 1, '\\x31'::bytea, 1, 'x'), ('m1', 2, '\\x3232'::bytea, 2, 'y')`);

        await t.migrate(MIGRATIONS_DIR);

        const folders = await t.run(sql`select name, role, special_use, uid_next, highest_modseq from folders where mailbox_id = ${alice.id} order by name`);
        assert.deepEqual(folders.map((f) => [f.name, f.role, f.special_use]), [
          ['Archive', 'archive', '\\Archive'], ['Drafts', 'drafts', '\\Drafts'], ['INBOX', 'inbox', null], ['Junk', 'junk', '\\Junk'],
          ['Requests', 'requests', null], ['Sent', 'sent', '\\Sent'], ['Trash', 'trash', '\\Trash'],
        ]);
        assert.equal((await t.run(sql`select count(*)::int as n from folders where mailbox_id = ${bob.id}`))[0].n, 7, 'a mailbox without mail gets its folders too');
        const filed = await t.run(sql`select f.name, m.uid::int, m.subject, m.flags, m.size from folder_messages m join folders f on f.id = m.folder_id
          where m.mailbox_id = ${alice.id} order by f.name, m.uid`);
        assert.deepEqual(filed.map((r) => [r.name, r.uid, r.subject]), [
          ['INBOX', 1, 'first'], ['INBOX', 2, 'second'], ['Requests', 1, 'request'], ['Sent', 1, 'sent v2'],
        ]);
        assert.deepEqual(filed.find((r) => r.name === 'Sent')!.flags, ['\\Seen'], 'what the user sent counts as read');
        assert.equal(filed.find((r) => r.name === 'Sent')!.size, 2, 'Sent shows the current version');
        const inboxFolder = folders.find((f) => f.role === 'inbox')!;
        assert.equal(Number(inboxFolder.uid_next), 3);

        // mail stored after the migration is filed by the trigger, under the next uid
        await inbound('stored', 'third', '2026-11-04T10:00:00Z');
        const [third] = await t.run(sql`select m.uid::int, m.modseq::int from folder_messages m join folders f on f.id = m.folder_id where f.role = 'inbox' and m.subject = 'third'`);
        assert.equal(third.uid, 3);
        assert.ok(Number(third.modseq) > Number(inboxFolder.highest_modseq), 'a new message has a higher modseq than anything before');
        // a held request that is accepted leaves Requests and, once stored, enters INBOX
        await t.run(sql`update inbound set state = 'fetching' where subject = 'request'`);
        assert.equal((await t.run(sql`select count(*)::int as n from folder_messages m join folders f on f.id = m.folder_id where f.role = 'requests'`))[0].n, 0);
        await t.run(sql`update inbound set state = 'stored', raw = '\\x6869'::bytea, stored_at = now() where subject = 'request'`);
        const kinds = await t.run(sql`select f.name, c.kind, c.uid::int from folder_changes c join folders f on f.id = c.folder_id order by c.id`);
        assert.deepEqual(kinds.map((k) => [k.name, k.kind, k.uid]), [['INBOX', 'added', 3], ['Requests', 'removed', 1], ['INBOX', 'added', 4]]);
      } finally {
        await t.close();
      }
    });
  });
}
