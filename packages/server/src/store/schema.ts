// The node's tables (drizzle pg-core). One schema for PGlite and PostgreSQL; migrations/ is generated
// from this file by `npm run db:generate` and is append-only.
import type { CorrespondentSource, DeliveryState, FirstContact, InboundState, NotificationKind, NotifyResult, PowAnswer, RuleAction, Transport, Via } from '@pullmail/client/wire';
import { sql } from 'drizzle-orm';
import type { ChangeKind, FolderRole } from '@pullmail/client/wire';
import {
  bigint, bigserial, boolean, customType, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid,
} from 'drizzle-orm/pg-core';

const bytea = customType<{ data: Buffer; driverData: Uint8Array }>({
  dataType: () => 'bytea',
  fromDriver: (v) => (Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength)),
  toDriver: (v) => v,
});
const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });
const created = () => ts('created_at').notNull().defaultNow();

export const domains = pgTable('domains', {
  name: text('name').primaryKey(),
  dkimSelector: text('dkim_selector'),
  dkimPrivateKey: text('dkim_private_key'),
  createdAt: created(),
});

export const mailboxes = pgTable('mailboxes', {
  id: uuid('id').primaryKey().defaultRandom(),
  /** Canonical form: local part lower-cased, domain as A-label. */
  address: text('address').notNull().unique(),
  domain: text('domain').notNull().references(() => domains.name),
  passwordHash: text('password_hash'),
  /** Recipient policy for strangers: hold | challenge | fetch (protocol §6). */
  firstContact: text('first_contact').$type<FirstContact>().notNull().default('hold'),
  /** Question shown on the human challenge page; null means no human challenge. */
  challengeQuestion: text('challenge_question'),
  /** SHA-256 hex of the normalized expected answer. */
  challengeAnswerHash: text('challenge_answer_hash'),
  /** May sign in to the admin UI with its password (docs/web.md "Admin"). */
  admin: boolean('admin').notNull().default(false),
  /** Set while the account is disabled: no door (web, IMAP, submission, API token) lets it in; mail still arrives. */
  disabledAt: ts('disabled_at'),
  createdAt: created(),
});

/**
 * Other addresses that deliver to a mailbox (README "Aliases and catch-all"): `address` is a canonical
 * address, or `@domain` for the domain's catch-all. Resolution order in delivery/recipient.ts.
 */
export const aliases = pgTable('aliases', {
  id: uuid('id').primaryKey().defaultRandom(),
  address: text('address').notNull().unique(),
  domain: text('domain').notNull().references(() => domains.name),
  targetMailboxId: uuid('target_mailbox_id').notNull().references(() => mailboxes.id, { onDelete: 'cascade' }),
  createdAt: created(),
}, (t) => [index('aliases_target_idx').on(t.targetMailboxId)]);

export const apiTokens = pgTable('api_tokens', {
  id: uuid('id').primaryKey().defaultRandom(),
  mailboxId: uuid('mailbox_id').notNull().references(() => mailboxes.id, { onDelete: 'cascade' }),
  /** SHA-256 hex of the token; the token itself is shown once and never stored. */
  tokenHash: text('token_hash').notNull().unique(),
  createdAt: created(),
  lastUsedAt: ts('last_used_at'),
});

export const nodeKeys = pgTable('node_keys', {
  kid: text('kid').primaryKey(),
  publicJwk: jsonb('public_jwk').notNull(),
  privateJwk: jsonb('private_jwk').notNull(),
  createdAt: created(),
  /** Set when a newer key takes over signing; the key stays published until its tokens expire. */
  retiredAt: ts('retired_at'),
});

/** Sent messages, held by the sender's node until fetched (protocol §5). */
export const messages = pgTable('messages', {
  id: text('id').primaryKey(),
  mailboxId: uuid('mailbox_id').notNull().references(() => mailboxes.id, { onDelete: 'cascade' }),
  sender: text('sender').notNull(),
  subject: text('subject').notNull().default(''),
  version: integer('version').notNull().default(1),
  messageIdHeader: text('message_id_header'),
  createdAt: created(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
}, (t) => [
  index('messages_mailbox_created_idx').on(t.mailboxId, t.createdAt),
  // a CRI challenge names the Message-ID it is about (docs/cri.md)
  index('messages_mailbox_message_id_idx').on(t.mailboxId, t.messageIdHeader),
]);

/**
 * Message bodies too large to keep in their row (store/bodies.ts): written and read in chunks, so
 * no process ever holds a large message whole. Immutable once written; a blob that no
 * message_versions or inbound row names is removed by maintenance.
 */
export const blobs = pgTable('blobs', {
  id: uuid('id').primaryKey().defaultRandom(),
  size: integer('size').notNull().default(0),
  /** base64url SHA-256 of the whole body; null while it is being written. */
  sha256: text('sha256'),
  createdAt: created(),
}, (t) => [index('blobs_created_idx').on(t.createdAt)]);

export const blobChunks = pgTable('blob_chunks', {
  blobId: uuid('blob_id').notNull().references(() => blobs.id, { onDelete: 'cascade' }),
  seq: integer('seq').notNull(),
  data: bytea('data').notNull(),
}, (t) => [primaryKey({ columns: [t.blobId, t.seq] })]);

/**
 * Every version's exact bytes: a recipient who fetched version n keeps getting version n. Small
 * bodies are kept in `raw`; large ones in a blob (`blob_id`). Exactly one of the two is set.
 */
export const messageVersions = pgTable('message_versions', {
  messageId: text('message_id').notNull().references(() => messages.id, { onDelete: 'cascade' }),
  version: integer('version').notNull(),
  raw: bytea('raw'),
  blobId: uuid('blob_id').references(() => blobs.id),
  size: integer('size').notNull(),
  sha256: text('sha256').notNull(),
  createdAt: created(),
}, (t) => [primaryKey({ columns: [t.messageId, t.version] }), index('message_versions_blob_idx').on(t.blobId).where(sql`${t.blobId} is not null`)]);

/** One row per (message, recipient); also the outbound notification queue (protocol §7). */
export const deliveries = pgTable('deliveries', {
  id: uuid('id').primaryKey().defaultRandom(),
  messageId: text('message_id').notNull().references(() => messages.id, { onDelete: 'cascade' }),
  rcpt: text('rcpt').notNull(),
  rcptDomain: text('rcpt_domain').notNull(),
  /** pm1 | local | smtp */
  transport: text('transport').$type<Transport>().notNull(),
  state: text('state').$type<DeliveryState>().notNull().default('queued'),
  reason: text('reason'),
  challengeUrl: text('challenge_url'),
  challenge: jsonb('challenge'),
  /** The version this recipient is offered (or fetched). */
  version: integer('version').notNull().default(1),
  /** Notification still to push: new | update | retract; null when nothing is owed. */
  notifyKind: text('notify_kind').$type<NotificationKind>(),
  /** Consent token (protocol §6) the sender's user supplied for this recipient. */
  consent: text('consent'),
  /** Proof-of-work answer to send with the next notification (protocol §6). */
  pow: jsonb('pow').$type<PowAnswer>(),
  attempts: integer('attempts').notNull().default(0),
  nextAttemptAt: ts('next_attempt_at'),
  leaseUntil: ts('lease_until'),
  /** The process holding the lease (queue_workers.id; PostgreSQL only): when it stops beating the lease is free. */
  leaseOwner: text('lease_owner'),
  lastError: text('last_error'),
  createdAt: created(),
  notifiedAt: ts('notified_at'),
  fetchedAt: ts('fetched_at'),
  /** After this the notification is given up and the delivery is `expired`. */
  giveUpAt: ts('give_up_at').notNull(),
}, (t) => [
  uniqueIndex('deliveries_message_rcpt_idx').on(t.messageId, t.rcpt),
  index('deliveries_due_idx').on(t.nextAttemptAt).where(sql`${t.notifyKind} is not null`),
]);

/** Mail addressed to our users: held requests, pending fetches and stored messages. */
export const inbound = pgTable('inbound', {
  id: uuid('id').primaryKey().defaultRandom(),
  mailboxId: uuid('mailbox_id').notNull().references(() => mailboxes.id, { onDelete: 'cascade' }),
  /** Sender domain (pm1 `iss`), or `smtp` for gateway mail. */
  iss: text('iss').notNull(),
  remoteId: text('remote_id').notNull(),
  rcpt: text('rcpt').notNull(),
  sender: text('sender').notNull(),
  subject: text('subject').notNull().default(''),
  size: integer('size').notNull(),
  sha256: text('sha256'),
  version: integer('version').notNull().default(1),
  sentAt: ts('sent_at'),
  /** pm1 | smtp */
  via: text('via').$type<Via>().notNull(),
  /** fetching | held | challenged | stored | retracted | rejected | failed */
  state: text('state').$type<InboundState>().notNull(),
  fetchUrl: text('fetch_url'),
  cap: text('cap'),
  /** The stored bytes: small bodies in `raw`, large ones in a blob (see message_versions). */
  raw: bytea('raw'),
  blobId: uuid('blob_id').references(() => blobs.id),
  attempts: integer('attempts').notNull().default(0),
  nextAttemptAt: ts('next_attempt_at'),
  leaseUntil: ts('lease_until'),
  /** The process holding the lease (queue_workers.id; PostgreSQL only): when it stops beating the lease is free. */
  leaseOwner: text('lease_owner'),
  lastError: text('last_error'),
  receivedAt: created(),
  storedAt: ts('stored_at'),
  deletedAt: ts('deleted_at'),
}, (t) => [
  // protocol §7: the recipient deduplicates on (iss, msg.id, msg.rcpt)
  uniqueIndex('inbound_origin_idx').on(t.iss, t.remoteId, t.rcpt),
  index('inbound_mailbox_state_idx').on(t.mailboxId, t.state, t.receivedAt),
  index('inbound_due_idx').on(t.nextAttemptAt).where(sql`${t.state} = 'fetching'`),
  index('inbound_blob_idx').on(t.blobId).where(sql`${t.blobId} is not null`),
]);

/** Answers given to notifications, for idempotent retries (protocol §2). */
export const notifyLog = pgTable('notify_log', {
  iss: text('iss').notNull(),
  remoteId: text('remote_id').notNull(),
  rcpt: text('rcpt').notNull(),
  version: integer('version').notNull(),
  kind: text('kind').$type<NotificationKind>().notNull(),
  result: jsonb('result').$type<NotifyResult>().notNull(),
  createdAt: created(),
}, (t) => [primaryKey({ columns: [t.iss, t.remoteId, t.rcpt, t.version, t.kind] })]);

/** Single-use token ids (fetch proofs, PoW nonces) kept until they could no longer verify. */
export const seenJti = pgTable('seen_jti', {
  jti: text('jti').primaryKey(),
  iss: text('iss').notNull(),
  expiresAt: ts('expires_at').notNull(),
}, (t) => [index('seen_jti_expires_idx').on(t.expiresAt)]);

export const rules = pgTable('rules', {
  id: uuid('id').primaryKey().defaultRandom(),
  mailboxId: uuid('mailbox_id').notNull().references(() => mailboxes.id, { onDelete: 'cascade' }),
  /** allow | block */
  action: text('action').$type<RuleAction>().notNull(),
  /** `a@x.test` or `@x.test`, canonical. */
  pattern: text('pattern').notNull(),
  createdAt: created(),
}, (t) => [uniqueIndex('rules_mailbox_pattern_idx').on(t.mailboxId, t.pattern)]);

/** Known correspondents: people the user wrote to or accepted (protocol §6). */
export const correspondents = pgTable('correspondents', {
  mailboxId: uuid('mailbox_id').notNull().references(() => mailboxes.id, { onDelete: 'cascade' }),
  address: text('address').notNull(),
  /** sent | accepted | pow */
  source: text('source').$type<CorrespondentSource>().notNull(),
  /** null = for good; set for a proof-of-work allow window. */
  expiresAt: ts('expires_at'),
  createdAt: created(),
}, (t) => [primaryKey({ columns: [t.mailboxId, t.address] })]);

export const consentTokens = pgTable('consent_tokens', {
  id: uuid('id').primaryKey().defaultRandom(),
  mailboxId: uuid('mailbox_id').notNull().references(() => mailboxes.id, { onDelete: 'cascade' }),
  jti: text('jti').notNull().unique(),
  senderPattern: text('sender_pattern').notNull(),
  maxUses: integer('max_uses').notNull(),
  uses: integer('uses').notNull().default(0),
  expiresAt: ts('expires_at').notNull(),
  revokedAt: ts('revoked_at'),
  createdAt: created(),
});

/** Human challenge pages (protocol §6 `url`): one per challenged sender and recipient. */
export const challenges = pgTable('challenges', {
  /** Random, unguessable: it is the path of the page. */
  id: text('id').primaryKey(),
  mailboxId: uuid('mailbox_id').notNull().references(() => mailboxes.id, { onDelete: 'cascade' }),
  sender: text('sender').notNull(),
  /** The held pm1 message that waits on this challenge; null for an SMTP-stage challenge (docs/cri.md). */
  inboundId: uuid('inbound_id').references(() => inbound.id, { onDelete: 'cascade' }),
  createdAt: created(),
  expiresAt: ts('expires_at').notNull(),
  solvedAt: ts('solved_at'),
  /** SHA-256 hex of the CRI token shown when an SMTP-stage challenge was answered; the token is never stored. */
  tokenHash: text('token_hash'),
}, (t) => [index('challenges_mailbox_sender_idx').on(t.mailboxId, t.sender), uniqueIndex('challenges_token_idx').on(t.tokenHash)]);

/**
 * CRI challenges answered on behalf of our users (docs/cri.md): one row per sent message and
 * recipient, so a challenge repeated or resent is answered once at most.
 */
export const criAnswers = pgTable('cri_answers', {
  /** The message of ours the challenge was about. */
  messageId: text('message_id').notNull().references(() => messages.id, { onDelete: 'cascade' }),
  /** The delivery recipient that challenged it. */
  rcpt: text('rcpt').notNull(),
  /** The response we queued, itself a row in `messages`. */
  responseId: text('response_id').notNull(),
  createdAt: created(),
}, (t) => [primaryKey({ columns: [t.messageId, t.rcpt] })]);

/**
 * Greylisting (SMTP gateway): one row per (client network, envelope sender, recipient). A triplet seen
 * again after the delay has passed and is remembered from then on.
 */
export const greylist = pgTable('greylist', {
  /** The client's /24 (IPv4) or /64 (IPv6) network: senders retry from pools of addresses. */
  client: text('client').notNull(),
  /** Canonical envelope sender, '' for the null sender. */
  sender: text('sender').notNull(),
  rcpt: text('rcpt').notNull(),
  firstSeenAt: ts('first_seen_at').notNull(),
  lastSeenAt: ts('last_seen_at').notNull(),
  passedAt: ts('passed_at'),
}, (t) => [primaryKey({ columns: [t.client, t.sender, t.rcpt] }), index('greylist_last_seen_idx').on(t.lastSeenAt)]);

/**
 * A user's folders (docs/mailbox.md): the fixed ones by `role`, made for every mailbox by a database
 * trigger, and any the user creates (role null). The counters are IMAP's (RFC 3501 §2.3.1.1, RFC 7162).
 */
export const folders = pgTable('folders', {
  id: uuid('id').primaryKey().defaultRandom(),
  mailboxId: uuid('mailbox_id').notNull().references(() => mailboxes.id, { onDelete: 'cascade' }),
  /** As IMAP shows it; `/` separates levels. */
  name: text('name').notNull(),
  role: text('role').$type<FolderRole>(),
  /** RFC 6154 attribute such as `\Sent`. */
  specialUse: text('special_use'),
  uidValidity: bigint('uid_validity', { mode: 'number' }).notNull().default(sql`(floor(random() * 2147483646) + 1)::bigint`),
  uidNext: bigint('uid_next', { mode: 'number' }).notNull().default(1),
  highestModseq: bigint('highest_modseq', { mode: 'number' }).notNull().default(1),
  subscribed: boolean('subscribed').notNull().default(true),
  createdAt: created(),
}, (t) => [
  uniqueIndex('folders_mailbox_name_idx').on(t.mailboxId, t.name),
  uniqueIndex('folders_mailbox_role_idx').on(t.mailboxId, t.role).where(sql`${t.role} is not null`),
]);

/**
 * One message filed in one folder. Its bytes are those of its source: a received message (`inbound_id`),
 * a sent one (`message_id`, its current version), or, for a message a client appended, its own
 * (`raw`/`blob_id`). Received and held mail is filed by a trigger on `inbound` (migration 0005), so
 * every writer of that table, in any process, keeps INBOX and Requests in step.
 */
export const folderMessages = pgTable('folder_messages', {
  id: uuid('id').primaryKey().defaultRandom(),
  mailboxId: uuid('mailbox_id').notNull().references(() => mailboxes.id, { onDelete: 'cascade' }),
  folderId: uuid('folder_id').notNull().references(() => folders.id, { onDelete: 'cascade' }),
  uid: bigint('uid', { mode: 'number' }).notNull(),
  modseq: bigint('modseq', { mode: 'number' }).notNull(),
  /** IMAP flags and keywords, e.g. `["\\Seen","$Label1"]`. */
  flags: jsonb('flags').$type<string[]>().notNull().default(sql`'[]'::jsonb`),
  internalDate: ts('internal_date').notNull(),
  size: integer('size').notNull(),
  inboundId: uuid('inbound_id').references(() => inbound.id, { onDelete: 'cascade' }),
  messageId: text('message_id').references(() => messages.id, { onDelete: 'cascade' }),
  raw: bytea('raw'),
  blobId: uuid('blob_id').references(() => blobs.id),
  sha256: text('sha256'),
  sender: text('sender').notNull().default(''),
  subject: text('subject').notNull().default(''),
  /** The Message-ID field, so an appended copy of a message already filed is recognised. */
  messageIdHeader: text('message_id_header'),
  createdAt: created(),
}, (t) => [
  uniqueIndex('folder_messages_folder_uid_idx').on(t.folderId, t.uid),
  index('folder_messages_folder_date_idx').on(t.folderId, t.internalDate),
  index('folder_messages_inbound_idx').on(t.inboundId).where(sql`${t.inboundId} is not null`),
  index('folder_messages_message_idx').on(t.messageId).where(sql`${t.messageId} is not null`),
  index('folder_messages_blob_idx').on(t.blobId).where(sql`${t.blobId} is not null`),
  index('folder_messages_mailbox_msgid_idx').on(t.mailboxId, t.messageIdHeader),
  // unread counts (folder list, IMAP STATUS, the web UI's badges) read only the unread rows: with it the
  // web inbox page of a 10k folder stays a few ms (bench/web.ts); the predicate is the one listFolders uses
  index('folder_messages_unseen_idx').on(t.folderId).where(sql`not ${t.flags} @> '["\\\\Seen"]'::jsonb`),
  // the web UI's search by sender or subject (ILIKE '%…%', store/folders.ts matching): trigrams find the
  // few matching rows of a folder instead of reading all of it (pg_trgm, created by migration 0011)
  index('folder_messages_search_idx').using('gin', t.sender.op('gin_trgm_ops'), t.subject.op('gin_trgm_ops')),
]);

/**
 * What changed in a mailbox, in order: IMAP IDLE and NOOP, CONDSTORE and web pages follow it. Every
 * write also raises `pg_notify('pullmail_mail', '<mailbox id> <folder id>')`, so a listener in any process wakes up.
 */
export const folderChanges = pgTable('folder_changes', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  mailboxId: uuid('mailbox_id').notNull().references(() => mailboxes.id, { onDelete: 'cascade' }),
  folderId: uuid('folder_id').notNull().references(() => folders.id, { onDelete: 'cascade' }),
  modseq: bigint('modseq', { mode: 'number' }).notNull(),
  uid: bigint('uid', { mode: 'number' }).notNull(),
  kind: text('kind').$type<ChangeKind>().notNull(),
  createdAt: created(),
}, (t) => [index('folder_changes_mailbox_idx').on(t.mailboxId, t.id), index('folder_changes_created_idx').on(t.createdAt)]);

/**
 * Counters of the rate limits and login throttles when several processes share PostgreSQL
 * (store/rate-counters.ts): one row per limiter and key, a fixed window that ends at `expire`.
 * rate-limiter-flexible's RateLimiterDrizzle reads and writes it with one atomic upsert per hit.
 */
export const rateCounters = pgTable('rate_counters', {
  /** `<limiter>:<key>`, e.g. `u:amy@a.test` (send limit) or `lc:192.0.2.1` (failed logins of a client). */
  key: text('key').primaryKey(),
  points: integer('points').notNull(),
  expire: ts('expire'),
}, (t) => [index('rate_counters_expire_idx').on(t.expire)]);

/**
 * The node processes sharing a PostgreSQL database, each beating every few seconds
 * (store/queue-workers.ts). A queue lease whose owner stopped beating is free before `lease_until`.
 */
export const queueWorkers = pgTable('queue_workers', {
  id: text('id').primaryKey(),
  /** Written with the database's clock, so processes on hosts with skewed clocks agree. */
  seenAt: ts('seen_at').notNull(),
});

/**
 * Browser sessions of the web UI (docs/web.md): the cookie carries a random id, the table only its
 * SHA-256. `user` sessions belong to a mailbox; `admin` sessions may have none (signed in with the
 * admin token). Deleting the row ends the session.
 */
export const webSessions = pgTable('web_sessions', {
  idHash: text('id_hash').primaryKey(),
  kind: text('kind').$type<'user' | 'admin'>().notNull(),
  mailboxId: uuid('mailbox_id').references(() => mailboxes.id, { onDelete: 'cascade' }),
  /** An admin-token session only: a fingerprint of the token it signed in with (accounts/web-sessions.ts). */
  tokenFp: text('token_fp'),
  createdAt: created(),
  lastSeenAt: ts('last_seen_at').notNull().defaultNow(),
  expiresAt: ts('expires_at').notNull(),
}, (t) => [index('web_sessions_mailbox_idx').on(t.mailboxId), index('web_sessions_expires_idx').on(t.expiresAt)]);
