// The session cookie of the web UI (docs/web.md "Sessions"): HttpOnly, SameSite=Lax, Secure (with the
// __Host- prefix) when the node is reached over HTTPS. Users and admins have separate cookies, so an
// admin session is never a user session and the other way round.
import type { Context, MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { resumeWebSession, startWebSession, type WebSession, type WebSessionKind } from '../accounts/web-sessions.ts';
import type { AppContext } from '../context.ts';

export type SessionEnv = { Variables: { session: WebSession | undefined; sessionId: string | undefined } };

/** True when browsers reach the node over HTTPS: the listener has TLS, or the public URL is https (a TLS proxy in front). */
export function isSecure(ctx: Pick<AppContext, 'config' | 'publicUrl'>): boolean {
  return !!ctx.config.tls || ctx.publicUrl.startsWith('https:');
}

export function cookieName(kind: WebSessionKind, secure: boolean): string {
  const base = kind === 'admin' ? 'pm_admin' : 'pm_session';
  return secure ? `__Host-${base}` : base;
}

/** Resumes the `kind` session the request's cookie names, if any, onto `session`/`sessionId`. */
export function loadSession(ctx: AppContext, kind: WebSessionKind): MiddlewareHandler<SessionEnv> {
  const name = cookieName(kind, isSecure(ctx));
  return async (c, next) => {
    const id = getCookie(c, name);
    const session = await resumeWebSession(ctx, id);
    c.set('session', session?.kind === kind ? session : undefined);
    c.set('sessionId', session?.kind === kind ? id : undefined);
    await next();
  };
}

/** Starts a session and sets its cookie on the response. */
export async function signIn(c: Context, ctx: AppContext, s: { kind: WebSessionKind; mailboxId: string | null; tokenFp?: string }): Promise<void> {
  const { id, maxAgeS } = await startWebSession(ctx, s);
  const secure = isSecure(ctx);
  setCookie(c, cookieName(s.kind, secure), id, { path: '/', httpOnly: true, sameSite: 'Lax', secure, maxAge: maxAgeS });
}

/** Clears the cookie (the caller ends the session row itself). */
export function clearSessionCookie(c: Context, ctx: AppContext, kind: WebSessionKind): void {
  const secure = isSecure(ctx);
  deleteCookie(c, cookieName(kind, secure), { path: '/', secure, httpOnly: true, sameSite: 'Lax' });
}
