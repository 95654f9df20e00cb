// Bearer-token authentication for the user API, and the admin token check.
import { timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { Accounts } from '../../accounts/accounts.ts';
import { PullmailError } from '../../errors.ts';
import type { Mailbox } from '../../store/mailboxes.ts';

export type UserEnv = { Variables: { mailbox: Mailbox } };

function bearer(header: string | undefined): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return m?.[1];
}

/** Puts the caller's mailbox on the context; 401 without a valid token. */
export function requireUser(accounts: Accounts): MiddlewareHandler<UserEnv> {
  return async (c, next) => {
    const token = bearer(c.req.header('authorization'));
    if (!token) throw new PullmailError('unauthorized', 'missing bearer token');
    const mailbox = await accounts.authenticate(token);
    if (!mailbox) throw new PullmailError('unauthorized', 'invalid token');
    c.set('mailbox', mailbox);
    await next();
  };
}

/** `what` names the token in the 401 detail (the same check guards /metrics with its own token). */
export function requireAdmin(adminToken: string | undefined, what = 'admin token'): MiddlewareHandler {
  return async (c, next) => {
    if (!adminToken) throw new PullmailError('forbidden', 'the admin API is off (set PULLMAIL_ADMIN_TOKEN)');
    const token = bearer(c.req.header('authorization'));
    const ok = token !== undefined && token.length === adminToken.length && timingSafeEqual(Buffer.from(token), Buffer.from(adminToken));
    if (!ok) throw new PullmailError('unauthorized', `missing or wrong ${what}`);
    await next();
  };
}
