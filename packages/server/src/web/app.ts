// The web UI's doors (docs/web.md): `/` → `/mail/`, the static assets, the webmail under /mail and
// (web/admin) the admin UI under /admin. Each area is a hono sub-app built by `webArea`, which puts
// the same protection in front of every screen: a CSP nonce, the area's session, the CSRF check, and
// errors as HTML pages instead of the API's JSON.
import type { Context } from 'hono';
import { Hono } from 'hono';
import type { WebSessionKind } from '../accounts/web-sessions.ts';
import type { AppContext } from '../context.ts';
import { takeRefusedBody } from '../http/refused-body.ts';
import { assetRoutes } from './assets.ts';
import { cspHeaders } from './csp.ts';
import { csrfGuard, type CsrfEnv } from './csrf.ts';
import { messagePage } from './layout.ts';
import { pageError } from './page-error.ts';
import { adminRoutes } from './admin/routes.ts';
import { mailRoutes } from './mail/routes.ts';
import { loadSession } from './session.ts';

export type WebEnv = CsrfEnv;

/** The refusal every area shows for a failed CSRF check. */
export function csrfRefused(c: Context<WebEnv>, home: string): Response | Promise<Response> {
  return c.html(messagePage({
    nonce: c.get('nonce'),
    title: 'This form was refused',
    text: 'The form did not come from a page of this session (it is older than your last sign-in, or another site sent it). Nothing was changed. Open the page again and retry.',
    back: { href: home, label: 'Back' },
  }), 403);
}

/**
 * A sub-app with the protection every screen of an area needs. `home` is the area's root with its slash (`/mail/`), its routes are relative to it,
 * `anonymousForms` the paths whose forms are posted before sign-in.
 */
export function webArea(ctx: AppContext, opts: { kind: WebSessionKind; home: string; anonymousForms: string[] }): Hono<WebEnv> {
  // basePath '/mail/' (with the slash): the sub-app's '/' is then '/mail/', and its middleware sees
  // only its own paths
  const area = new Hono<WebEnv>().basePath(opts.home) as unknown as Hono<WebEnv>;
  const log = ctx.log.child({ sub: 'web' });
  area.use('*', cspHeaders());
  // a body over the node's limits (http/app.ts) is refused here, so the refusal is a page of the area;
  // before the session and the CSRF check, which would read the form
  area.use('*', async (c, next) => {
    const refused = takeRefusedBody(c);
    if (refused) throw refused;
    await next();
  });
  area.use('*', loadSession(ctx, opts.kind));
  area.use('*', csrfGuard(ctx, (c) => csrfRefused(c as Context<WebEnv>, opts.home), opts.anonymousForms));
  area.onError(async (err, c) => {
    const e = pageError(c, err, log);
    const res = await c.html(messagePage({ nonce: c.get('nonce') ?? '', title: e.title, text: e.text, back: { href: opts.home, label: 'Back' } }), e.status);
    if (e.retryAfter) res.headers.set('retry-after', e.retryAfter);
    return res;
  });
  return area;
}

/** Mounts the web UI into the node's app (extensions.ts). */
export function webRoutes(app: Hono, ctx: AppContext): void {
  app.get('/', (c) => c.redirect('/mail/', 302));
  assetRoutes(app);
  app.get('/mail', (c) => c.redirect('/mail/', 302));
  app.route('/', mailRoutes(ctx));
  app.get('/admin', (c) => c.redirect('/admin/', 302));
  app.route('/', adminRoutes(ctx));
}
