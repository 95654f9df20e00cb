// Signing in to the admin UI: with PULLMAIL_ADMIN_TOKEN, or with the password of an account marked
// admin (`user add --admin`). Both go through the login throttle shared with every other door
// (doors `admin_token` and `web`), so guesses here count there too.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Hono } from 'hono';
import { html } from 'hono/html';
import { mailboxForPassword } from '../../accounts/password-login.ts';
import { adminTokenFingerprint, endWebSession } from '../../accounts/web-sessions.ts';
import { canonicalAddress } from '../../address.ts';
import type { AppContext } from '../../context.ts';
import { PullmailError } from '../../errors.ts';
import { clientAddress } from '../../http/middleware/auth.ts';
import { anonymousCsrf, csrfField, field } from '../csrf.ts';
import { page } from '../layout.ts';
import { signIn } from '../session.ts';
import { nextPathWithin, signOutRoutes } from '../sign-out.ts';
import { ADMIN, ADMIN_SIGN_IN, type AdminEnv } from './frame.ts';

const digest = (s: string) => createHash('sha256').update(s).digest();
/** Constant time whatever the lengths: both sides hashed first. */
const sameToken = (a: string, b: string) => timingSafeEqual(digest(a), digest(b));

const nextPath = (raw: string | undefined) => nextPathWithin(ADMIN, raw, `${ADMIN}/users`);

export function adminSignInRoutes(app: Hono<AdminEnv>, ctx: AppContext): void {
  const form = async (c: { get(k: 'nonce'): string }, opts: { next: string; address?: string; error?: string }) => {
    const csrf = csrfField(await anonymousCsrf(ctx, ADMIN_SIGN_IN));
    return page({
      title: 'Admin sign in',
      nonce: c.get('nonce'),
      area: 'Admin',
      flash: opts.error ? { kind: 'error', text: opts.error } : undefined,
      body: html`<section class="card narrow" aria-labelledby="sign-in-h"><h1 id="sign-in-h">Sign in</h1>
<p class="muted">With the address and password of an administrator account.</p>
<form method="post" action="${ADMIN_SIGN_IN}" class="stack">${csrf}<input type="hidden" name="next" value="${opts.next}">
<label for="address">Address</label><input id="address" name="address" type="email" autocomplete="username" required value="${opts.address ?? ''}" autofocus>
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit" class="primary">Sign in</button></form>
<h2>Or with the admin token</h2>
<form method="post" action="${ADMIN_SIGN_IN}" class="stack">${csrf}<input type="hidden" name="next" value="${opts.next}">
<label for="token">Admin token</label><input id="token" name="token" type="password" autocomplete="off" required>
<button type="submit">Sign in with the token</button></form></section>`,
    });
  };

  app.get('/sign-in', async (c) => c.html(form(c, { next: nextPath(c.req.query('next')) })));

  app.post('/sign-in', async (c) => {
    const f = c.get('form');
    const next = nextPath(field(f, 'next'));
    const token = field(f, 'token').slice(0, 1024);
    const address = field(f, 'address').trim().slice(0, 320);
    let mailboxId: string | null | undefined;
    try {
      if (token) {
        const adminToken = ctx.config.adminToken;
        const ok = await ctx.loginThrottle.guard({ door: 'admin_token', client: clientAddress(c) }, async () => (adminToken && sameToken(token, adminToken) ? true : undefined));
        mailboxId = ok ? null : undefined;
      } else {
        const account = canonicalAddress(address) ?? address;
        // a right password of an account that is not an admin is a failed admin sign-in like any other
        const mailbox = await ctx.loginThrottle.guard({ door: 'web', client: clientAddress(c), account }, async () => {
          const m = await mailboxForPassword(ctx.db, address, field(f, 'password').slice(0, 1024));
          return m?.admin ? m : undefined;
        });
        mailboxId = mailbox?.id;
      }
    } catch (err) {
      if (!(err instanceof PullmailError) || err.code !== 'rate_limited') throw err;
      c.header('Retry-After', String(err.retryAfter ?? 60));
      return c.html(form(c, { next, address, error: `Too many failed sign-ins. Try again in ${err.retryAfter ?? 60} seconds.` }), 429);
    }
    if (mailboxId === undefined) {
      const error = token ? 'That is not the admin token of this node.' : 'That address and password do not belong to an administrator.';
      return c.html(form(c, { next, address, error }), 401);
    }
    const old = c.get('session');
    if (old) await endWebSession(ctx, old);
    // a token session remembers which token it was: rotating or removing PULLMAIL_ADMIN_TOKEN ends it (frame.ts)
    const tokenFp = mailboxId === null && ctx.config.adminToken ? adminTokenFingerprint(ctx.config.adminToken) : undefined;
    await signIn(c, ctx, { kind: 'admin', mailboxId, tokenFp });
    return c.redirect(next, 303);
  });

  signOutRoutes(app, ctx, { kind: 'admin', base: ADMIN, signInPath: ADMIN_SIGN_IN, area: 'Admin' });
}
