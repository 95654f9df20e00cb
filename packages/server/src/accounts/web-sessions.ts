// Browser sessions of the web UI (docs/web.md "Sessions"): a random 32-byte id goes into the cookie,
// only its SHA-256 into the database, so a copy of the table signs nobody in. A session ends when the
// user signs out (its row is deleted), after 7 idle days or 30 days in all, or when every
// session of the mailbox is revoked (a password change). A session signed in with the admin token keeps
// a fingerprint of that token and ends when PULLMAIL_ADMIN_TOKEN is rotated or removed.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { AppContext } from '../context.ts';
import type { Mailbox } from '../store/mailboxes.ts';
import { deleteMailboxWebSessions, deleteWebSession, findWebSession, insertWebSession, pruneWebSessions, touchWebSession, type WebSessionRow } from '../store/web-sessions.ts';

export type WebSessionKind = WebSessionRow['kind'];

/** A session unused this long ends. */
export const SESSION_IDLE_MS = 7 * 86_400_000;
/** No session lives longer than this, used or not. */
export const SESSION_MAX_MS = 30 * 86_400_000;
/** last_seen_at is written at most this often: a page view is then usually a read only. */
const TOUCH_EVERY_MS = 5 * 60_000;

type Ctx = Pick<AppContext, 'db' | 'now'>;

export interface WebSession {
  /** SHA-256 hex of the cookie's id: the row's key, and what the CSRF token is bound to. */
  idHash: string;
  kind: WebSessionKind;
  mailbox: Mailbox | null;
  /** For a session signed in with the admin token: the fingerprint of that token (adminTokenFingerprint). */
  tokenFp: string | null;
  createdAt: Date;
}

const hashId = (id: string) => createHash('sha256').update(id).digest('hex');

/** What an admin-token session stores of the token: its SHA-256 (hex), never the token itself. */
export const adminTokenFingerprint = (token: string): string => createHash('sha256').update(`pullmail admin token\0${token}`).digest('hex');

/**
 * Whether a session signed in with the admin token still holds the node's current one: false when no
 * token is configured any more, when it was rotated, or for a row from before fingerprints were kept.
 */
export function holdsAdminToken(session: Pick<WebSession, 'tokenFp'>, adminToken: string | undefined): boolean {
  if (!adminToken || !session.tokenFp) return false;
  const a = Buffer.from(session.tokenFp, 'utf8');
  const b = Buffer.from(adminTokenFingerprint(adminToken), 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Starts a session; returns the id for the cookie (shown to nobody else, never stored). */
export async function startWebSession(ctx: Ctx, s: { kind: WebSessionKind; mailboxId: string | null; tokenFp?: string }): Promise<{ id: string; maxAgeS: number }> {
  const now = new Date(ctx.now());
  await pruneWebSessions(ctx.db, now);
  const id = randomBytes(32).toString('base64url');
  await insertWebSession(ctx.db, { idHash: hashId(id), kind: s.kind, mailboxId: s.mailboxId, tokenFp: s.tokenFp ?? null, expiresAt: new Date(now.getTime() + SESSION_IDLE_MS), now });
  return { id, maxAgeS: SESSION_MAX_MS / 1000 };
}

/** The live session a cookie names, or undefined (unknown, expired, revoked, malformed). */
export async function resumeWebSession(ctx: Ctx, id: string | undefined): Promise<WebSession | undefined> {
  if (!id || !/^[A-Za-z0-9_-]{43}$/.test(id)) return undefined;
  const now = ctx.now();
  const idHash = hashId(id);
  const found = await findWebSession(ctx.db, idHash, new Date(now));
  if (!found) return undefined;
  const { session, mailbox } = found;
  if (session.kind === 'user' && !mailbox) return undefined;
  // a disabled account is signed out everywhere (accounts.setDisabled also deletes its rows)
  if (mailbox?.disabledAt) return undefined;
  const hardEnd = session.createdAt.getTime() + SESSION_MAX_MS;
  if (now >= hardEnd) {
    await deleteWebSession(ctx.db, idHash);
    return undefined;
  }
  if (now - session.lastSeenAt.getTime() >= TOUCH_EVERY_MS) {
    await touchWebSession(ctx.db, idHash, { lastSeenAt: new Date(now), expiresAt: new Date(Math.min(now + SESSION_IDLE_MS, hardEnd)) });
  }
  return { idHash, kind: session.kind, mailbox, tokenFp: session.tokenFp, createdAt: session.createdAt };
}

/** Signs out: the row is gone, the cookie names nothing any more. */
export async function endWebSession(ctx: Ctx, session: Pick<WebSession, 'idHash'>): Promise<void> {
  await deleteWebSession(ctx.db, session.idHash);
}

/** Ends every web session of a mailbox (call after a password change or when disabling it); returns how many ended. */
export function revokeMailboxWebSessions(ctx: Pick<AppContext, 'db'>, mailboxId: string): Promise<number> {
  return deleteMailboxWebSessions(ctx.db, mailboxId);
}
