// Bearer-token authentication for the user API, and the admin token check. Both go through the login
// throttle per client address (policy/login-throttle.ts): a wrong token counts as a failed login.
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Context, MiddlewareHandler } from 'hono';
import type { Accounts } from '../../accounts/accounts.ts';
import { PullmailError } from '../../errors.ts';
import type { LoginThrottle } from '../../policy/login-throttle.ts';
import type { Mailbox } from '../../store/mailboxes.ts';

export type UserEnv = { Variables: { mailbox: Mailbox } };

function bearer(header: string | undefined): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return m?.[1];
}

/** The peer address of the request's socket (@hono/node-server); undefined for in-process requests. */
export function clientAddress(c: Context): string | undefined {
  return (c.env as { incoming?: IncomingMessage } | undefined)?.incoming?.socket?.remoteAddress;
}

/** Puts the caller's mailbox on the context; 401 without a valid token, 429 while locked out. */
export function requireUser(accounts: Accounts, throttle: LoginThrottle): MiddlewareHandler<UserEnv> {
  return async (c, next) => {
    const token = bearer(c.req.header('authorization'));
    if (!token) throw new PullmailError('unauthorized', 'missing bearer token');
    const mailbox = await throttle.guard({ door: 'api_token', client: clientAddress(c) }, () => accounts.authenticate(token));
    if (!mailbox) throw new PullmailError('unauthorized', 'invalid token');
    c.set('mailbox', mailbox);
    await next();
  };
}

/** `what` names the token in the 401 detail (the same check guards /metrics with its own token). */
export function requireAdmin(adminToken: string | undefined, throttle: LoginThrottle, what = 'admin token'): MiddlewareHandler {
  return async (c, next) => {
    if (!adminToken) throw new PullmailError('forbidden', 'the admin API is off (set PULLMAIL_ADMIN_TOKEN)');
    const token = bearer(c.req.header('authorization'));
    if (!token) throw new PullmailError('unauthorized', `missing or wrong ${what}`);
    const ok = await throttle.guard({ door: 'admin_token', client: clientAddress(c) }, async () =>
      token.length === adminToken.length && timingSafeEqual(Buffer.from(token), Buffer.from(adminToken)) ? true : undefined,
    );
    if (!ok) throw new PullmailError('unauthorized', `missing or wrong ${what}`);
    await next();
  };
}
