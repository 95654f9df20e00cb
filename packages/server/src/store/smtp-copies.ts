// SMTP copies stored under the facts RCPT read (issue 15): the INSERT itself checks that the sender's
// matching rules, correspondent flag and the mailbox's first-contact setting are still what RCPT saw,
// so DATA needs no second look at them; and copies from concurrent sessions share one statement (one
// commit), each caller answered only after it committed.
import type { FirstContact } from '@pullmail/client/wire';
import { sql } from 'drizzle-orm';
import { rowsOf, type Executor } from './db.ts';
import type { SmtpCopy } from './inbound.ts';
import { correspondents, inbound, mailboxes, rules } from './schema.ts';

/** What the rules and history said about the copy's sender at its mailbox when RCPT read them (delivery/recipient-policy.ts SenderFacts). */
export interface FactsSeen {
  blocked: boolean;
  allowed: boolean;
  knownCorrespondent: boolean;
  firstContact: FirstContact;
}

export interface GuardedCopy {
  row: SmtpCopy;
  seen: FactsSeen;
}

const keyOf = (remoteId: string, rcpt: string) => `${remoteId}\n${rcpt}`;

/**
 * Inserts each copy whose `seen` still holds (the correspondent flag as of its receivedAt), in one
 * statement; returns the new ids by `remoteId\nrcpt`. A copy missing from the map was not stored: something
 * changed since RCPT (or that origin exists), and the caller decides again.
 */
export async function insertSmtpCopiesIf(db: Executor, copies: readonly GuardedCopy[]): Promise<Map<string, string>> {
  const iso = (d: Date | null | undefined) => d?.toISOString() ?? null;
  const values = copies.map(({ row, seen }) => sql`(${row.mailboxId}::uuid, ${row.iss}::text, ${row.remoteId}::text, ${row.rcpt}::text, ${row.sender}::text,
    ${row.sender.slice(row.sender.lastIndexOf('@'))}::text, ${row.subject}::text, ${row.size}::int, ${row.sha256}::text, ${row.via}::text, ${row.state}::text,
    ${iso(row.receivedAt)}::timestamptz, ${iso(row.sentAt)}::timestamptz, ${row.raw ?? null}::bytea, ${row.blobId ?? null}::uuid, ${iso(row.storedAt)}::timestamptz,
    ${seen.firstContact}::text, ${seen.blocked}::boolean, ${seen.allowed}::boolean, ${seen.knownCorrespondent}::boolean)`);
  // the patterns matchingRules (store/policy-data.ts) looks up: the address and its @domain
  const rule = (action: 'block' | 'allow') =>
    sql`exists (select 1 from ${rules} r where r.mailbox_id = m.id and r.pattern in (v.sender, v.domain) and r.action = ${sql.raw(`'${action}'`)})`;
  const res = await db.execute(sql`insert into ${inbound} (mailbox_id, iss, remote_id, rcpt, sender, subject, size, sha256, via, state, ${sql.identifier(inbound.receivedAt.name)}, sent_at, raw, blob_id, stored_at)
    select m.id, v.iss, v.remote_id, v.rcpt, v.sender, v.subject, v.size, v.sha256, v.via, v.state, v.received_at, v.sent_at, v.raw, v.blob_id, v.stored_at
    from (values ${sql.join(values, sql`, `)}) as v(mailbox_id, iss, remote_id, rcpt, sender, domain, subject, size, sha256, via, state,
      received_at, sent_at, raw, blob_id, stored_at, first_contact, blocked, allowed, known)
    join ${mailboxes} m on m.id = v.mailbox_id and m.first_contact = v.first_contact
    cross join lateral (
      select ${rule('block')} as blocked, ${rule('allow')} as allowed,
        exists (select 1 from ${correspondents} c where c.mailbox_id = m.id and c.address = v.sender and (c.expires_at is null or c.expires_at > v.received_at)) as correspondent
    ) f
    where f.blocked = v.blocked and f.allowed = v.allowed and (not f.blocked and not f.allowed and f.correspondent) = v.known
    on conflict do nothing
    returning id, remote_id, rcpt`);
  return new Map(rowsOf<{ id: string; remote_id: string; rcpt: string }>(res).map((r) => [keyOf(r.remote_id, r.rcpt), r.id]));
}

/** One guarded copy (insertSmtpCopiesIf): its new id, or undefined when it was not stored. */
export async function insertSmtpCopyIf(db: Executor, copy: GuardedCopy): Promise<string | undefined> {
  return (await insertSmtpCopiesIf(db, [copy])).get(keyOf(copy.row.remoteId, copy.row.rcpt));
}

/** Most copies in one statement, and most inline body bytes. */
const MAX_BATCH = 50;
const MAX_BATCH_BYTES = 4 * 1024 * 1024;

/**
 * insertSmtpCopyIf on `db` (autocommitted, never a transaction handle) for concurrent sessions: the
 * copies asked for while the event loop handles one round of I/O go out as one statement when it ends
 * (setImmediate), so they share one commit and one WAL flush. Each promise settles after that commit;
 * if the statement fails, every copy of it is tried again on its own, so one bad row fails only itself.
 */
export function createCopyBatcher(db: Executor): (copy: GuardedCopy) => Promise<string | undefined> {
  let queue: { copy: GuardedCopy; resolve: (id: string | undefined) => void; reject: (err: unknown) => void }[] = [];
  let bytes = 0;
  const flush = async () => {
    const batch = queue;
    queue = [];
    bytes = 0;
    if (!batch.length) return;
    try {
      const ids = await insertSmtpCopiesIf(db, batch.map((b) => b.copy));
      for (const b of batch) b.resolve(ids.get(keyOf(b.copy.row.remoteId, b.copy.row.rcpt)));
    } catch (err) {
      if (batch.length === 1) return batch[0].reject(err);
      for (const b of batch) insertSmtpCopyIf(db, b.copy).then(b.resolve, b.reject);
    }
  };
  return (copy) => new Promise((resolve, reject) => {
    if (!queue.length) setImmediate(flush);
    queue.push({ copy, resolve, reject });
    bytes += copy.row.raw?.length ?? 0;
    if (queue.length >= MAX_BATCH || bytes >= MAX_BATCH_BYTES) void flush();
  });
}
