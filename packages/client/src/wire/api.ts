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
}
export interface CreateUserResponse {
  address: string;
  token: string;
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

export type Via = 'pm1' | 'smtp';

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

export type RuleAction = 'allow' | 'block';
export interface Rule {
  id: string;
  action: RuleAction;
  pattern: string;
}

export type FirstContact = 'hold' | 'challenge' | 'fetch';
export interface Settings {
  first_contact: FirstContact;
}
