// Signing out, the same in the webmail and the admin UI. "Sign out" is a link (OPERATOR.md): followed
// from one of our pages (Sec-Fetch-Site: same-origin) it signs out at once; from anywhere else it only
// asks, with a CSRF-protected button, so a link on another site cannot sign anyone out.
import type { Hono } from 'hono';
import { html } from 'hono/html';
import { endWebSession, type WebSessionKind } from '../accounts/web-sessions.ts';
import type { AppContext } from '../context.ts';
import type { WebEnv } from './app.ts';
import { csrfField } from './csrf.ts';
import { page } from './layout.ts';
import { clearSessionCookie } from './session.ts';

export interface SignOutArea {
  kind: WebSessionKind;
  /** The area's root path (`/mail`, `/admin`). */
  base: string;
  signInPath: string;
  /** The banner's area name. */
  area: string;
}

/** GET and POST `<base>/sign-out` on `app` (mounted at `base`). */
export function signOutRoutes<E extends WebEnv>(app: Hono<E>, ctx: AppContext, a: SignOutArea): void {
  app.get('/sign-out', async (c) => {
    const session = c.get('session');
    if (!session) return c.redirect(a.signInPath, 303);
    if (c.req.header('sec-fetch-site') === 'same-origin') {
      await endWebSession(ctx, session);
      clearSessionCookie(c, ctx, a.kind);
      return c.redirect(a.signInPath, 303);
    }
    return c.html(page({
      title: 'Sign out', nonce: c.get('nonce'), area: a.area,
      body: html`<section class="card narrow"><h1>Sign out?</h1><form method="post" action="${a.base}/sign-out">${csrfField(c.get('csrf'))}<button type="submit" class="primary">Sign out</button></form></section>`,
    }));
  });

  app.post('/sign-out', async (c) => {
    const session = c.get('session');
    if (session) await endWebSession(ctx, session);
    clearSessionCookie(c, ctx, a.kind);
    return c.redirect(a.signInPath, 303);
  });
}

/** The path to go on to after sign-in: only one of the area's own paths (no open redirect), else `fallback`. */
export function nextPathWithin(base: string, raw: string | undefined, fallback: string): string {
  return raw && raw.startsWith(`${base}/`) && !raw.startsWith('//') && !raw.includes('\\') && /^[\x21-\x7e]*$/.test(raw) ? raw : fallback;
}
