// Mailbox change notifications (mailbox/watch.ts): a change committed through one database handle
// wakes the listener of that mailbox, with the folder it was in, and only after the commit. On
// PostgreSQL the writer is a second connection pool, as another node process would be.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { createLogger } from '../packages/server/src/log.ts';
import { createMailWatch } from '../packages/server/src/mailbox/watch.ts';
import { IN_MEMORY, openDatabase } from '../packages/server/src/store/db.ts';
import { fileMessage, findFolderByRole } from '../packages/server/src/store/folders.ts';
import { domains, mailboxes } from '../packages/server/src/store/schema.ts';
import { testDatabase } from './harness/database.ts';
import { waitFor } from './harness/wait.ts';

describe(`mailbox change notifications (${process.env.DATABASE_URL ? 'PostgreSQL, across connections' : 'PGlite'})`, () => {
  it('wake the mailbox listener with the folder after commit, and nobody else', async () => {
    const own = await testDatabase();
    const reader = await openDatabase({ databaseUrl: own.env.DATABASE_URL, dataDir: IN_MEMORY });
    const writer = own.env.DATABASE_URL ? await openDatabase({ databaseUrl: own.env.DATABASE_URL, dataDir: IN_MEMORY }) : reader;
    const watch = createMailWatch(reader, createLogger('silent'));
    try {
      await reader.migrate();
      await writer.db.insert(domains).values({ name: 'a.test' });
      const [alice, bob] = await writer.db.insert(mailboxes).values([{ address: 'alice@a.test', domain: 'a.test' }, { address: 'bob@a.test', domain: 'a.test' }]).returning();
      const inbox = (await findFolderByRole(writer.db, alice.id, 'inbox'))!;
      const seen: string[] = [];
      const others: string[] = [];
      watch.subscribe(alice.id, (folderId) => seen.push(folderId));
      const stopBob = watch.subscribe(bob.id, (folderId) => others.push(folderId));
      await watch.ready();
      await writer.db.transaction(async (tx) => {
        await fileMessage(tx, inbox.id, { flags: [], internalDate: new Date(), size: 3, sender: 'x@y.test', subject: 's', body: { raw: Buffer.from('x\r\n'), blobId: null, size: 3, sha256: '' } });
        await tx.execute(sql`select 1`);
        assert.deepEqual(seen, [], 'nothing is announced before the commit');
      });
      await waitFor('the notification', async () => seen.length > 0);
      assert.deepEqual([...new Set(seen)], [inbox.id]);
      assert.deepEqual(others, []);
      stopBob();
    } finally {
      await watch.close();
      if (writer !== reader) await writer.close();
      await reader.close();
      await own.drop();
    }
  });
});
