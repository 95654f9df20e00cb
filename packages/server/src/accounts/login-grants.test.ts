import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Mailbox } from '../store/mailboxes.ts';
import { createCredentialChanges } from './credential-changes.ts';
import { grantHolds, grantStamp, openLoginGrant, RECHECK_MS } from './login-grants.ts';

const row = (over: Partial<Mailbox> = {}): Mailbox => ({ id: 'm1', address: 'bob@b.test', passwordHash: 'scrypt$16384$8$1$salt$hash', disabledAt: null, ...over }) as Mailbox;

describe('grantHolds', () => {
  const stamp = grantStamp(row());
  const cases: [string, Mailbox | undefined, boolean][] = [
    ['the row as it was', row(), true],
    ['other settings changed', row({ admin: true }), true],
    // a new hash, even of the same password (fresh salt): whoever knew the old one is out
    ['password set', row({ passwordHash: 'scrypt$16384$8$1$salt2$hash2' }), false],
    ['password removed', row({ passwordHash: null }), false],
    ['disabled', row({ disabledAt: new Date(0) }), false],
    ['deleted', undefined, false],
    // an address deleted and created again is another mailbox
    ['another row', row({ id: 'm2' }), false],
  ];
  for (const [what, now, holds] of cases) it(what, () => assert.equal(grantHolds(stamp, now), holds));
});

describe('openLoginGrant', () => {
  function setup() {
    let t = 1_000_000;
    let current: Mailbox | undefined = row();
    let reads = 0;
    let failNext = false;
    let pending: (() => void) | undefined;
    const changes = createCredentialChanges();
    const deps = {
      changes,
      now: () => t,
      readMailbox: async () => {
        reads++;
        if (pending) await new Promise<void>((r) => (pending = r));
        if (failNext) {
          failNext = false;
          throw new Error('database away');
        }
        return current;
      },
    };
    return {
      grant: openLoginGrant(deps, row()),
      changes,
      get reads() {
        return reads;
      },
      tick: (ms: number) => (t += ms),
      set: (m: Mailbox | undefined) => (current = m),
      failNext: () => (failNext = true),
      /** Makes the next read wait until the returned function is called. */
      holdNextRead: () => {
        pending = () => undefined;
        return () => {
          const p = pending!;
          pending = undefined;
          p();
        };
      },
    };
  }

  it('answers without a read until RECHECK_MS passed, then reads once', async () => {
    const s = setup();
    assert.equal(await s.grant.holds(), true);
    s.tick(RECHECK_MS - 1);
    assert.equal(await s.grant.holds(), true);
    assert.equal(s.reads, 0);
    s.set(row({ disabledAt: new Date() })); // written by another process: no announcement
    assert.equal(await s.grant.holds(), true, 'not seen before the recheck');
    s.tick(1);
    assert.equal(await s.grant.holds(), false);
    assert.equal(s.reads, 1);
  });

  it('reads at once after an announcement for its mailbox, not for another', async () => {
    const s = setup();
    let told = 0;
    s.grant.onChange(() => told++);
    s.changes.announce('m2');
    assert.equal(await s.grant.holds(), true);
    assert.equal(s.reads, 0);
    assert.equal(told, 0);
    s.set(row({ passwordHash: 'scrypt$other' }));
    s.changes.announce('m1');
    assert.equal(told, 1);
    assert.equal(await s.grant.holds(), false);
    assert.equal(s.reads, 1);
  });

  it('stays revoked: enabling the mailbox again does not revive a login', async () => {
    const s = setup();
    s.set(row({ disabledAt: new Date() }));
    s.changes.announce('m1');
    assert.equal(await s.grant.holds(), false);
    s.set(row());
    s.changes.announce('m1');
    s.tick(RECHECK_MS);
    assert.equal(await s.grant.holds(), false);
    assert.equal(s.reads, 1);
  });

  it('a failed read throws and is tried again at the next call', async () => {
    const s = setup();
    s.changes.announce('m1');
    s.failNext();
    await assert.rejects(s.grant.holds(), /database away/);
    s.set(undefined);
    assert.equal(await s.grant.holds(), false);
    assert.equal(s.reads, 2);
  });

  it('an announcement during a read is not lost', async () => {
    const s = setup();
    s.changes.announce('m1');
    const release = s.holdNextRead();
    const first = s.grant.holds();
    await new Promise((r) => setImmediate(r));
    s.changes.announce('m1'); // the row read above may be from before this change
    release();
    assert.equal(await first, true);
    s.set(row({ disabledAt: new Date() }));
    assert.equal(await s.grant.holds(), false);
    assert.equal(s.reads, 2);
  });

  it('release stops listening', async () => {
    const s = setup();
    let told = 0;
    s.grant.onChange(() => told++);
    s.grant.release();
    s.changes.announce('m1');
    assert.equal(told, 0);
    assert.equal(await s.grant.holds(), true);
    assert.equal(s.reads, 0);
  });

  it('a grant on a row that was already disabled never holds', async () => {
    const s = setup();
    const g = openLoginGrant({ changes: s.changes, now: () => 0, readMailbox: async () => row() }, row({ disabledAt: new Date() }));
    assert.equal(await g.holds(), false);
  });
});
