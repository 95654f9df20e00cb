// Notifications (protocol §2): signing on the sender side, full verification on the recipient side.
import {
  MAX_NOTIFY_LIFETIME_SECONDS, NOTIFICATION_KINDS, TokenType, type NotificationClaims,
} from '@pullmail/client/wire';
import { z } from 'zod';
import { canonicalAddress, domainOf, isDomainName, normalizeDomain } from '../address.ts';
import { PullmailError } from '../errors.ts';
import { storableText } from '../text.ts';
import type { Discovery } from '../peers/discovery.ts';
import type { PeerKeys } from '../peers/peer-keys.ts';
import { checkHeader, peek, randomId, signJwt, verifyJwt } from './jws.ts';
import type { KeySet } from './key-set.ts';

const address = z.string().max(320).refine((a) => canonicalAddress(a) !== undefined, 'not an address');
const b64url = z.string().regex(/^[A-Za-z0-9_-]+$/);

export const claimsSchema = z.object({
  iss: z.string().min(1).max(253),
  aud: z.string().min(1).max(253),
  iat: z.number().int(),
  exp: z.number().int(),
  jti: z.string().min(1).max(200),
  kind: z.enum(NOTIFICATION_KINDS),
  msg: z.object({
    id: z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, 'msg.id must be 1-128 of [A-Za-z0-9_-]'),
    from: address,
    rcpt: address,
    version: z.number().int().min(1),
    size: z.number().int().min(0),
    sha256: b64url.length(43),
    // shown and stored as it came, but for what a text column cannot hold
    subject: z.string().max(998).transform(storableText).optional(),
    // seconds since 1970 that a date can hold (a larger value would be no date: stored as NULL, or a 500)
    sent_at: z.number().int().min(0).max(8_640_000_000_000),
  }),
  // refused here rather than by the database: control characters or a broken surrogate in the URL,
  // anything but printable ASCII in the token (a compact JWS)
  fetch: z.object({
    url: z.string().url().max(2048).refine((u) => u.isWellFormed() && !/[\x00-\x1f\x7f]/.test(u), 'fetch.url has control characters or broken UTF-16'),
    cap: z.string().min(1).max(8192).regex(/^[\x21-\x7e]+$/, 'fetch.cap must be printable ASCII'),
  }),
  consent: z.string().max(8192).optional(),
  pow: z.object({ nonce: b64url.max(200), counter: z.string().regex(/^\d{1,20}$/) }).optional(),
});

export type NotificationInput = Omit<NotificationClaims, 'iat' | 'exp' | 'jti'>;

export function signNotification(keys: KeySet, input: NotificationInput, nowSeconds: number, lifetimeSeconds = 600): Promise<string> {
  const claims = { ...input, iat: nowSeconds, exp: nowSeconds + Math.min(lifetimeSeconds, MAX_NOTIFY_LIFETIME_SECONDS), jti: randomId() };
  return signJwt(claims as never, TokenType.notify, keys.signer());
}

export interface VerifyDeps {
  ourDomains: readonly string[];
  peerKeys: PeerKeys;
  discovery: Discovery;
  /** Address of the client that sent the notification: lookups it causes are admitted per address. */
  client?: string;
}

/**
 * True when `iss` may be looked up: a domain name in lower-case A-label form (protocol §2), so no port,
 * user info, path, IP literal or U-label reaches discovery.
 */
export function isLookupableIss(iss: string): boolean {
  return normalizeDomain(iss) === iss && isDomainName(iss);
}

/**
 * Verifies a notification JWS completely: header, signature by a key of the node discovered for `iss`,
 * time claims, audience, sender alignment, the single recipient and the fetch URL's origin.
 * @throws PullmailError with a protocol §2 code.
 */
export async function verifyNotification(jws: string, deps: VerifyDeps, nowSeconds: number): Promise<NotificationClaims> {
  const { header, claims: unverified } = peek(jws);
  const kid = checkHeader(header, TokenType.notify);
  const iss = typeof unverified.iss === 'string' ? unverified.iss.toLowerCase() : '';
  if (!iss) throw new PullmailError('bad_request', 'iss is missing');
  // protocol §2: before the signature is checked, only a domain name may cost a lookup
  if (!isLookupableIss(iss)) throw new PullmailError('bad_request', 'iss is not a domain name in A-label form');
  const own = deps.ourDomains.includes(iss);
  const key = await deps.peerKeys.keyFor(iss, kid, { client: deps.client });
  const payload = await verifyJwt(jws, key, TokenType.notify, nowSeconds);

  const parsed = claimsSchema.safeParse(payload);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new PullmailError('bad_request', `${issue.path.join('.')}: ${issue.message}`);
  }
  const c = parsed.data;
  if (c.exp - c.iat > MAX_NOTIFY_LIFETIME_SECONDS) throw new PullmailError('bad_request', 'exp - iat exceeds 900 s');
  const aud = c.aud.toLowerCase();
  if (!deps.ourDomains.includes(aud)) throw new PullmailError('wrong_audience', `${c.aud} is not served here`);
  if (domainOf(canonicalAddress(c.msg.rcpt)!) !== aud) throw new PullmailError('wrong_audience', 'msg.rcpt is not at aud');
  if (domainOf(canonicalAddress(c.msg.from)!) !== iss) throw new PullmailError('misaligned_sender', 'msg.from is not at iss');

  // protocol §2: fetch.url must have the origin of the sender's discovered node
  let fetchUrl: URL;
  try {
    fetchUrl = new URL(c.fetch.url);
  } catch {
    throw new PullmailError('bad_request', 'fetch.url is not a URL');
  }
  if (!fetchUrl.pathname.endsWith(`/pm/v1/messages/${c.msg.id}`)) throw new PullmailError('bad_request', 'fetch.url does not name msg.id');
  if (!own) {
    const node = await deps.discovery.discover(iss);
    if (!node || fetchUrl.origin !== node.origin) throw new PullmailError('misaligned_sender', 'fetch.url is not on the sender node');
  }
  return { ...c, iss, aud } as NotificationClaims;
}
