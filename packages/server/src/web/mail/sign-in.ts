// Signing in and out of the webmail. The password is checked by accounts/password-login.ts inside the
// login throttle shared with SMTP AUTH and IMAP (door `web`), so guessing here counts there too.
import type { Hono } from 'hono';
import { html } from 'hono/html';
import { mailboxForPassword } from '../../accounts/password-login.ts';
import { canonicalAddress } from '../../address.ts';
import { endWebSession } from '../../accounts/web-sessions.ts';
import type { AppContext } from '../../context.ts';
import { PullmailError } from '../../errors.ts';
import { clientAddress } from '../../http/middleware/auth.ts';
import type { Mailbox } from '../../store/mailboxes.ts';
import { anonymousCsrf, csrfField, field } from '../csrf.ts';
import { page } from '../layout.ts';
import { signIn } from '../session.ts';
import { nextPathWithin, signOutRoutes } from '../sign-out.ts';
import { MAIL, SIGN_IN, type MailEnv } from './frame.ts';

const nextPath = (raw: string | undefined) => nextPathWithin(MAIL, raw, `${MAIL}/`);

export function signInRoutes(app: Hono<MailEnv>, ctx: AppContext): void {
  const form = async (c: { get(k: 'nonce'): string }, opts: { next: string; address?: string; error?: string }) => page({
    title: 'Sign in',
    nonce: c.get('nonce'),
    area: 'Mail',
    flash: opts.error ? { kind: 'error', text: opts.error } : undefined,
    body: html`<section class="card narrow" aria-labelledby="sign-in-h"><h1 id="sign-in-h">Sign in</h1>
<form method="post" action="${SIGN_IN}" class="stack">${csrfField(await anonymousCsrf(ctx, SIGN_IN))}
<input type="hidden" name="next" value="${opts.next}">
<label for="address">Address</label><input id="address" name="address" type="email" autocomplete="username" required value="${opts.address ?? ''}" autofocus>
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit" class="primary">Sign in</button></form></section>`,
  });

  app.get('/sign-in', async (c) => {
    if (c.get('session')?.mailbox) return c.redirect(nextPath(c.req.query('next')), 303);
    return c.html(form(c, { next: nextPath(c.req.query('next')) }));
  });

  app.post('/sign-in', async (c) => {
    const f = c.get('form');
    const address = field(f, 'address').trim().slice(0, 320);
    const password = field(f, 'password').slice(0, 1024);
    const next = nextPath(field(f, 'next'));
    let mailbox: Mailbox | undefined;
    try {
      const account = canonicalAddress(address) ?? address;
      mailbox = await ctx.loginThrottle.guard({ door: 'web', client: clientAddress(c), account }, () => mailboxForPassword(ctx.db, address, password));
    } catch (err) {
      if (!(err instanceof PullmailError) || err.code !== 'rate_limited') throw err;
      c.header('Retry-After', String(err.retryAfter ?? 60));
      return c.html(form(c, { next, address, error: `Too many failed sign-ins. Try again in ${err.retryAfter ?? 60} seconds.` }), 429);
    }
    if (!mailbox) return c.html(form(c, { next, address, error: 'That address and password do not match.' }), 401);
    const old = c.get('session');
    if (old) await endWebSession(ctx, old);
    await signIn(c, ctx, { kind: 'user', mailboxId: mailbox.id });
    return c.redirect(next, 303);
  });

  signOutRoutes(app, ctx, { kind: 'user', base: MAIL, signInPath: SIGN_IN, area: 'Mail' });
}
