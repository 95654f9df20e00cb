// What every admin screen shares (docs/web.md "Admin"): the admin session, the navigation, the page
// frame. An admin session is its own kind with its own cookie (web/session.ts): a user session never
// opens these screens.
import type { Context, MiddlewareHandler } from 'hono';
import { holdsAdminToken } from '../../accounts/web-sessions.ts';
import type { AppContext } from '../../context.ts';
import type { WebEnv } from '../app.ts';
import { noticeOf, withNotice } from '../flash.ts';
import { page, type Html, type PageInput } from '../layout.ts';

export const ADMIN = '/admin';
export const ADMIN_SIGN_IN = `${ADMIN}/sign-in`;

/** Who is signed in: an admin account's address, or "admin token". */
export type AdminEnv = WebEnv & { Variables: { admin: string } };
export type AdminContext = Context<AdminEnv>;

/**
 * Admin screens only with an admin session; an account's session also needs the account still marked
 * admin and not disabled (both checked on every request, so taking the flag away takes effect at once);
 * a session signed in with the admin token needs that token still to be the configured one, so rotating
 * or removing PULLMAIL_ADMIN_TOKEN ends it.
 */
export function requireAdminSession(ctx: Pick<AppContext, 'config'>): MiddlewareHandler<AdminEnv> {
  return async (c, next) => {
    const session = c.get('session');
    const mailbox = session?.mailbox;
    const ok = session?.kind === 'admin' && (mailbox === null ? holdsAdminToken(session, ctx.config.adminToken) : mailbox !== undefined && mailbox.admin && !mailbox.disabledAt);
    if (!ok) {
      const back = c.req.method === 'GET' ? `?next=${encodeURIComponent(c.req.path)}` : '';
      return c.redirect(`${ADMIN_SIGN_IN}${back}`, 303);
    }
    c.set('admin', mailbox ? mailbox.address : 'admin token');
    await next();
  };
}

export const ADMIN_NAV = [
  { href: `${ADMIN}/users`, label: 'Users' },
  { href: `${ADMIN}/aliases`, label: 'Aliases' },
  { href: `${ADMIN}/domains`, label: 'Domains' },
  { href: `${ADMIN}/dkim`, label: 'DKIM keys' },
  { href: `${ADMIN}/queue`, label: 'Queue' },
  { href: `${ADMIN}/health`, label: 'Health' },
  { href: `${ADMIN}/sign-out`, label: 'Sign out' },
] as const;

export function adminPage(c: AdminContext, p: Omit<PageInput, 'nonce' | 'nav' | 'who' | 'area'>): Html {
  const done = noticeOf((n) => c.req.query(n), c.get('csrf'));
  const flash = p.flash ?? (done ? { kind: 'ok' as const, text: done } : undefined);
  return page({ ...p, flash, nonce: c.get('nonce'), csrf: c.get('csrf'), area: 'Admin', nav: [...ADMIN_NAV], who: c.get('admin') });
}

/** After a POST: 303 to a page with a short notice. */
export function seeOther(c: AdminContext, path: string, done?: string): Response {
  return c.redirect(withNotice(path, c.get('csrf'), done), 303);
}
