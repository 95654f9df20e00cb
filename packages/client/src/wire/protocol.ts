// Wire names of the pm1 node-to-node protocol (docs/protocol.md). Defined once, imported everywhere.

export const PROTOCOL_VERSION = 'pm1';

/** JOSE `typ` header values, one per token kind (protocol §2, §3, §4, §6). */
export const TokenType = {
  notify: 'pm-notify+jwt',
  capability: 'pm-cap+jwt',
  proof: 'pm-proof+jwt',
  consent: 'pm-consent+jwt',
} as const;
export type TokenType = (typeof TokenType)[keyof typeof TokenType];

export const NOTIFICATION_KINDS = ['new', 'update', 'retract'] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

export const DECISIONS = ['fetch', 'hold', 'challenge', 'reject'] as const;
export type Decision = (typeof DECISIONS)[number];

/** Reasons a `reject` decision may carry (protocol §2). */
export const REJECT_REASONS = ['unknown_recipient', 'blocked', 'too_large', 'expired', 'policy'] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

/** Error codes a peer sees in `{"error":…}` bodies (protocol §2, §4). */
export const PROTOCOL_ERRORS = [
  'bad_request',
  'bad_signature',
  'unknown_key',
  'wrong_audience',
  'expired',
  'misaligned_sender',
  'replayed',
  'retracted',
  'not_found',
  'rate_limited',
] as const;
export type ProtocolError = (typeof PROTOCOL_ERRORS)[number];

/** Node metadata served at /.well-known/pullmail (protocol §1). */
export interface NodeMetadata {
  version: typeof PROTOCOL_VERSION;
  domains: string[];
  notify: string;
  jwks_uri: string;
  max_message_bytes: number;
}

export interface PowChallenge {
  type: 'pow';
  alg: 'sha-256';
  bits: number;
  nonce: string;
  expires: number;
  url?: string;
}

/** Answer to one notification (protocol §2). */
export interface NotifyResult {
  decision: Decision;
  reason: string;
  challenge?: PowChallenge | { type: 'human'; url: string };
  retry_after?: number;
}

/** Claims of a notification JWS (protocol §2). */
export interface NotificationClaims {
  iss: string;
  aud: string;
  iat: number;
  exp: number;
  jti: string;
  kind: NotificationKind;
  msg: {
    id: string;
    from: string;
    rcpt: string;
    version: number;
    size: number;
    sha256: string;
    subject?: string;
    sent_at: number;
  };
  fetch: { url: string; cap: string };
  consent?: string;
  pow?: PowAnswer;
}

/** A sender node's answer to a proof-of-work challenge (protocol §6). */
export interface PowAnswer {
  nonce: string;
  counter: string;
}

export const HEADER_PROOF = 'PM-Proof';
export const HEADER_VERSION = 'PM-Version';
export const AUTH_SCHEME_CAP = 'PM-Cap';
export const ALLOWED_SKEW_SECONDS = 120;
export const MAX_NOTIFY_LIFETIME_SECONDS = 900;
export const MAX_BATCH = 500;
