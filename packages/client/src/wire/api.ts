// Shapes of the user and admin HTTP API (docs/operator.md), shared by the server and the SDK.

export const DELIVERY_STATES = [
  'queued',
  'notified',
  'held',
  'challenged',
  'fetched',
  'retracted',
  'rejected',
  'expired',
  'failed',
] as const;
export type DeliveryState = (typeof DELIVERY_STATES)[number];

/** How a delivery reaches its recipient: pm1 to another node, `local` to a user of this node, `smtp` by MX. */
export const TRANSPORTS = ['pm1', 'local', 'smtp'] as const;
export type Transport = (typeof TRANSPORTS)[number];

/** States of mail addressed to our users (recipient side), in the order it may pass through them. */
export const INBOUND_STATES = ['fetching', 'held', 'challenged', 'stored', 'retracted', 'rejected', 'expired', 'failed'] as const;
export type InboundState = (typeof INBOUND_STATES)[number];

/** Why a sender is a known correspondent (protocol §6): the user wrote to them, accepted them, or they answered a challenge. */
export const CORRESPONDENT_SOURCES = ['sent', 'accepted', 'pow', 'challenge'] as const;
export type CorrespondentSource = (typeof CORRESPONDENT_SOURCES)[number];

/** Error codes of the user/admin API, beside the protocol ones. */
export const API_ERRORS = [
  'bad_request',
  'unauthorized',
  'forbidden',
  'not_found',
  'conflict',
  'too_large',
  'unsupported_media_type',
  'rate_limited',
  'internal',
  'unavailable',
] as const;
export type ApiError = (typeof API_ERRORS)[number];

export interface ErrorBody {
  error: string;
  detail: string;
}

export interface CreateUserRequest {
  address: string;
  password?: string;
  /** The account may sign in to the admin UI (`user add --admin`). */
  admin?: boolean;
}
export interface CreateUserResponse {
  address: string;
  token: string;
}

/** One mailbox as `GET /api/v1/admin/users` lists it. */
export interface AdminUser {
  address: string;
  has_password: boolean;
  /** May sign in to the admin UI with its password. */
  admin: boolean;
  /** No door lets the account in while disabled; its mail still arrives. */
  disabled: boolean;
  /** API tokens that currently work for this mailbox. */
  tokens: number;
  created_at: string;
}
export interface ListUsersResponse {
  users: AdminUser[];
}
/** `POST /api/v1/admin/users/:address/token`: a new API token, shown once. */
export interface NewTokenRequest {
  /** Keep the mailbox's other tokens working; by default they are revoked (a lost token is replaced). */
  keep_others?: boolean;
}
export interface NewTokenResponse {
  address: string;
  token: string;
  /** How many older tokens stopped working. */
  revoked: number;
}
/** `POST /api/v1/admin/aliases`: `address` `@x.test` is the domain's catch-all; `target` an existing mailbox. */
export interface CreateAliasRequest {
  address: string;
  target: string;
}
export interface AdminAlias {
  id: string;
  address: string;
  target: string;
}
export interface ListAliasesResponse {
  aliases: (AdminAlias & { created_at: string })[];
}
export interface SetPasswordRequest {
  password: string;
}

export interface Attachment {
  filename: string;
  contentType: string;
  /** base64 */
  content: string;
}

export interface SendRequest {
  to: string[];
  cc?: string[];
  bcc?: string[];
  subject: string;
  text?: string;
  html?: string;
  attachments?: Attachment[];
  /** Consent tokens recipients gave the sender (protocol §6); each applies to the recipient in its `sub`. */
  consent?: string[];
  /** Send as one of your aliases; your mailbox address when left out. */
  from?: string;
}

export interface DeliverySummary {
  rcpt: string;
  state: DeliveryState;
  reason?: string;
  challenge_url?: string;
  fetched_at?: string;
}

export interface SendResponse {
  id: string;
  version: number;
  deliveries: DeliverySummary[];
}

export interface MessageStatus {
  id: string;
  subject: string;
  version: number;
  created_at: string;
  deliveries: DeliverySummary[];
}

export interface SentList {
  messages: { id: string; subject: string; version: number; created_at: string; recipients: string[] }[];
  cursor?: string;
}

export type RetractResult = 'retracted' | 'already_fetched';
export interface RetractResponse {
  results: { rcpt: string; result: RetractResult }[];
}

/** The door a message came in by. */
export const VIAS = ['pm1', 'smtp'] as const;
export type Via = (typeof VIAS)[number];

export interface InboxEntry {
  id: string;
  from: string;
  subject: string;
  received_at: string;
  size: number;
  via: Via;
}
export interface InboxList {
  messages: InboxEntry[];
  total: number;
  cursor?: string;
}

export interface ParsedMessage extends InboxEntry {
  headers: { name: string; value: string }[];
  text?: string;
  html?: string;
  attachments: { filename: string; contentType: string; size: number }[];
}

export interface HeldRequest {
  id: string;
  from: string;
  subject: string;
  size: number;
  received_at: string;
  via: Via;
}

export const RULE_ACTIONS = ['allow', 'block'] as const;
export type RuleAction = (typeof RULE_ACTIONS)[number];
export interface Rule {
  id: string;
  action: RuleAction;
  pattern: string;
}

/** Every `first_contact` mode (protocol §6), in the order of the docs. */
export const FIRST_CONTACT_MODES = ['hold', 'challenge', 'fetch'] as const;
export type FirstContact = (typeof FIRST_CONTACT_MODES)[number];
/** `GET /api/v1/me`: the mailbox the token opens. */
export interface Me {
  /** Canonical address; a raw message's From must be this. */
  address: string;
}

export interface Settings {
  first_contact: FirstContact;
  /** Question on the human challenge page; null when there is none. */
  challenge_question?: string | null;
}

// Shapes the SDK (src/api) needs beside the ones above; the server answers exactly these.

/** Query of the paginated, newest-first listings (`GET /api/v1/sent`, `GET /api/v1/inbox`). */
export interface PageQuery {
  /** 1-200; the server's default is 50. */
  limit?: number;
  /** The `cursor` of the previous page. */
  cursor?: string;
}

export type SentEntry = SentList['messages'][number];

/** Body of `PUT /api/v1/settings`: only what changes. A question needs its answer; `null` removes it. */
export interface SettingsUpdate {
  first_contact?: FirstContact;
  challenge_question?: string | null;
  challenge_answer?: string;
}


export interface RequestList {
  requests: HeldRequest[];
}

export type RequestOutcome = 'accepted' | 'rejected' | 'blocked';
/** Answer to `POST /api/v1/requests/:id/accept|reject|block`. */
export interface RequestActionResponse {
  id: string;
  state: RequestOutcome;
}

/** Body of `POST /api/v1/rules`: an address `a@x.test` or a whole domain `@x.test`. */
export interface RuleRequest {
  action: RuleAction;
  pattern: string;
}
export interface RuleList {
  rules: Rule[];
}

/** Body of `POST /api/v1/consent-tokens`. */
export interface ConsentTokenRequest {
  /** The sender it lets in: an address `a@x.test` or a domain `@x.test`. */
  sender: string;
  max_uses: number;
  expires_in_days: number;
}
/** Answer to `POST /api/v1/consent-tokens`: the token itself is shown only here. */
export interface ConsentTokenCreated {
  id: string;
  token: string;
  /** The canonical sender pattern, as stored. */
  sender?: string;
  max_uses?: number;
  expires_at?: string;
}
/** One entry of `GET /api/v1/consent-tokens` (never the token itself). */
export interface ConsentTokenInfo {
  id: string;
  sender: string;
  max_uses: number;
  uses: number;
  expires_at: string;
  created_at: string;
  revoked: boolean;
}
export interface ConsentTokenList {
  tokens: ConsentTokenInfo[];
}

/** `GET /healthz` when the node and its database answer. */
export interface HealthStatus {
  status: 'ok';
}

/** True when `value` is one of `values`, narrowing it to their union (CLI arguments, database text). */
export function isOneOf<T extends string>(values: readonly T[], value: string): value is T {
  return (values as readonly string[]).includes(value);
}
