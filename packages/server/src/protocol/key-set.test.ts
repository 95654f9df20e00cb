// The node's key set when several processes share one database (issue 15's two processes): processes
// starting together make one first key between them, and a key another process made is published.
// PGlite: two key sets over one connection, interleaved at every await; PostgreSQL (DATABASE_URL):
// two connection pools.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sharedDatabase } from '../../../../test/harness/database.ts';
import type { Database } from '../store/db.ts';
import { listKeys } from '../store/node-keys.ts';
import { loadKeySet, rotateKeys } from './key-set.ts';

describe(`key set on one database shared by two processes (${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'})`, () => {
  let first: Database;
  let second: Database;
  let close: (() => Promise<void>) | undefined;
  before(async () => {
    ({ first, second, close } = await sharedDatabase());
  });
  after(async () => {
    await close?.();
  });

  const opts = { now: () => new Date(), publishSeconds: 3600 };

  it('two starting at once on an empty database make one key, and both sign with it', async () => {
    const sets = await Promise.all([first, second, first, second].map((d) => loadKeySet(d.db, opts)));
    assert.equal((await listKeys(first.db)).length, 1);
    assert.equal(new Set(sets.map((s) => s.signer().kid)).size, 1);
  });

  it('publishes, after a refresh, a key another process made; a refresh within maxAge reads nothing', async () => {
    const mine = await loadKeySet(first.db, opts);
    const kid = await rotateKeys(second.db, new Date());
    await mine.refresh(60_000);
    assert.ok(!mine.jwks().keys.some((k) => k.kid === kid), 'loaded just now: not read again');
    await mine.refresh(0);
    assert.ok(mine.jwks().keys.some((k) => k.kid === kid), 'the other process\'s key is published');
    assert.equal(mine.signer().kid, kid, 'and signs from now on');
  });
});
