// Guarded SMTP copies (issue 15): stored only while RCPT's facts hold, and concurrent ones sharing a
// statement without one bad row failing the others. PGlite (and PostgreSQL when DATABASE_URL is set).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import { testDatabase, type TestDatabase } from '../../../../test/harness/database.ts';
import { IN_MEMORY, openDatabase, type Database } from './db.ts';
import type { SmtpCopy } from './inbound.ts';
import { insertMailbox, type Mailbox } from './mailboxes.ts';
import { addCorrespondents, putRule } from './policy-data.ts';
import { domains, inbound } from './schema.ts';
import { createCopyBatcher, insertSmtpCopyIf, type FactsSeen } from './smtp-copies.ts';

describe(`guarded SMTP copies (${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'})`, () => {
  let test: TestDatabase;
  let d: Database;
  let bob: Mailbox;
  before(async () => {
    test = await testDatabase();
    d = await openDatabase({ databaseUrl: test.env.DATABASE_URL, dataDir: IN_MEMORY });
    await d.migrate();
    await d.db.insert(domains).values({ name: 'b.test' });
    bob = (await insertMailbox(d.db, { address: 'bob@b.test', domain: 'b.test', passwordHash: null, tokenHash: 'x' }))!;
  });
  after(async () => {
    await d?.close();
    await test?.drop();
  });

  let n = 0;
  const row = (sender: string, extra: Partial<SmtpCopy> = {}): SmtpCopy => ({
    mailboxId: bob.id, iss: 'smtp', remoteId: `r${++n}`, rcpt: 'bob@b.test', sender, subject: `copy ${n}`, size: 2, sha256: 'h',
    via: 'smtp', state: 'held', raw: Buffer.from('hi'), receivedAt: new Date(), storedAt: null, ...extra,
  });
  const stranger: FactsSeen = { blocked: false, allowed: false, knownCorrespondent: false, firstContact: 'hold' };

  it('stores while the facts hold and not once a rule, a correspondent or the first-contact setting differs', async () => {
    assert.ok(await insertSmtpCopyIf(d.db, { row: row('amy@x.test'), seen: stranger }));
    assert.equal(await insertSmtpCopyIf(d.db, { row: row('amy@x.test'), seen: { ...stranger, firstContact: 'fetch' } }), undefined);
    assert.equal(await insertSmtpCopyIf(d.db, { row: row('amy@x.test'), seen: { ...stranger, knownCorrespondent: true } }), undefined);

    await putRule(d.db, bob.id, 'allow', '@y.test');
    assert.equal(await insertSmtpCopyIf(d.db, { row: row('ann@y.test'), seen: stranger }), undefined, 'a domain rule counts');
    assert.ok(await insertSmtpCopyIf(d.db, { row: row('ann@y.test'), seen: { ...stranger, allowed: true } }));
    await putRule(d.db, bob.id, 'block', 'ann@y.test');
    assert.equal(await insertSmtpCopyIf(d.db, { row: row('ann@y.test'), seen: { ...stranger, allowed: true } }), undefined, 'blocked since');

    await addCorrespondents(d.db, bob.id, ['cat@z.test'], 'sent');
    assert.equal(await insertSmtpCopyIf(d.db, { row: row('cat@z.test'), seen: stranger }), undefined);
    assert.ok(await insertSmtpCopyIf(d.db, { row: row('cat@z.test'), seen: { ...stranger, knownCorrespondent: true } }));
    // an expired correspondent is none, as of the copy's receivedAt
    await addCorrespondents(d.db, bob.id, ['dan@z.test'], 'challenge', new Date(Date.now() + 60_000));
    assert.ok(await insertSmtpCopyIf(d.db, { row: row('dan@z.test', { receivedAt: new Date(Date.now() + 120_000) }), seen: stranger }));
  });

  it('sends concurrent copies as one statement, each answered with its own id', async () => {
    let statements = 0;
    const counting = new Proxy(d.db, { get: (t, p, r) => (p === 'execute' ? (...a: unknown[]) => (statements++, (t.execute as (...x: unknown[]) => unknown)(...a)) : Reflect.get(t, p, r)) });
    const store = createCopyBatcher(counting);
    const rows = Array.from({ length: 5 }, () => row('eve@w.test'));
    const ids = await Promise.all([...rows.map((r) => store({ row: r, seen: stranger })), store({ row: row('eve@w.test'), seen: { ...stranger, allowed: true } })]);
    assert.equal(statements, 1);
    assert.equal(ids[5], undefined, 'the one whose facts changed is left to its caller');
    for (const [i, r] of rows.entries()) {
      const [stored] = await d.db.select({ id: inbound.id }).from(inbound).where(eq(inbound.remoteId, r.remoteId));
      assert.equal(ids[i], stored.id);
    }
  });

  it('tries each copy alone when the shared statement fails: only the bad one fails', async () => {
    const store = createCopyBatcher(d.db);
    const good = row('fay@w.test');
    const results = await Promise.allSettled([store({ row: good, seen: stranger }), store({ row: row('fay@w.test', { size: 2 ** 40 }), seen: stranger })]);
    assert.equal(results[0].status, 'fulfilled');
    assert.ok((results[0] as PromiseFulfilledResult<string | undefined>).value);
    assert.equal(results[1].status, 'rejected', 'an integer out of range');
  });
});
