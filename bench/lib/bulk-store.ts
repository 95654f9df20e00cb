// Fills a node's PostgreSQL database with many already-delivered messages in bulk SQL (server-side
// generate_series, 10k rows per statement), much faster than sending them through the API.
// Bodies are ~5 KB: a per-row header plus one block of md5() hex digits made once per statement.
// pglz compresses within one value only, so every row still takes its full ~5 KB in TOAST, about as
// large as real mail, without paying for 157 md5() calls per row.
import type { Sql } from 'postgres';

const CHUNK = 10_000;
/** 157 md5 hex strings of 32 characters plus a short header: 5,074 bytes per message. */
const BODY = (seed: string) => `convert_to('From: bulk\r\nSubject: bulk ' || ${seed} || '\r\n\r\n' || blk.t, 'UTF8')`;
const BLOCK = `(select string_agg(md5(random()::text), '') as t from generate_series(1, 157)) blk`;

/** Stored inbox messages (recipient side), with the notification answers a real delivery leaves. */
export async function prefillInbound(sql: Sql, o: { mailboxId: string; rcpt: string; sender: string; iss: string; count: number }): Promise<void> {
  for (let from = 1; from <= o.count; from += CHUNK) {
    const to = Math.min(o.count, from + CHUNK - 1);
    await sql.unsafe(
      `insert into inbound (mailbox_id, iss, remote_id, rcpt, sender, subject, size, sha256, version, sent_at, via, state, raw, attempts, created_at, stored_at)
       select $1, $2, 'bulk' || g, $3, $4, 'bulk ' || g, 5074, rpad(md5(g::text), 43, 'x'), 1, now() - g * interval '1 second', 'pm1', 'stored', ${BODY('g::text')}, 1,
              now() - g * interval '1 second', now() - g * interval '1 second'
       from generate_series($5::int, $6::int) g, ${BLOCK}`,
      [o.mailboxId, o.iss, o.rcpt, o.sender, from, to],
    );
    await sql.unsafe(
      `insert into notify_log (iss, remote_id, rcpt, version, kind, result)
       select $1, 'bulk' || g, $2, 1, 'new', '{"decision":"fetch","reason":"allowed"}'::jsonb from generate_series($3::int, $4::int) g`,
      [o.iss, o.rcpt, from, to],
    );
  }
  await sql.unsafe('analyze inbound; analyze notify_log');
}

/** Sent messages already fetched by their recipient (sender side): messages, versions, deliveries. */
export async function prefillSent(sql: Sql, o: { mailboxId: string; sender: string; rcpt: string; count: number }): Promise<void> {
  const rcptDomain = o.rcpt.slice(o.rcpt.indexOf('@') + 1);
  for (let from = 1; from <= o.count; from += CHUNK) {
    const to = Math.min(o.count, from + CHUNK - 1);
    const range = `from generate_series($1::int, $2::int) g, ${BLOCK}`;
    await sql.unsafe(
      `insert into messages (id, mailbox_id, sender, subject, version, message_id_header, created_at, updated_at)
       select 'bulk' || g, $3, $4, 'bulk ' || g, 1, '<bulk' || g || '@x>', now() - g * interval '1 second', now() - g * interval '1 second' ${range}`,
      [from, to, o.mailboxId, o.sender],
    );
    await sql.unsafe(
      `insert into message_versions (message_id, version, raw, size, sha256, created_at)
       select 'bulk' || g, 1, ${BODY('g::text')}, 5074, rpad(md5(g::text), 43, 'x'), now() - g * interval '1 second' ${range}`,
      [from, to],
    );
    await sql.unsafe(
      `insert into deliveries (message_id, rcpt, rcpt_domain, transport, state, version, attempts, created_at, notified_at, fetched_at, give_up_at)
       select 'bulk' || g, $3, $4, 'pm1', 'fetched', 1, 1, now() - g * interval '1 second', now() - g * interval '1 second', now() - g * interval '1 second', now() + interval '5 days' ${range}`,
      [from, to, o.rcpt, rcptDomain],
    );
  }
  await sql.unsafe('analyze messages; analyze message_versions; analyze deliveries');
}
