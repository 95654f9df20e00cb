// CSRF protection for every form of the web UI (docs/web.md "Security"). Two checks on every request
// that is not GET/HEAD: the browser must not say it comes from another site (Origin, Sec-Fetch-Site),
// and the form (field `csrf`) or an htmx request (header X-CSRF-Token) must carry the token of this
// session, an HMAC of the session's id, which only pages served to this session contain. Before there
// is a session (the sign-in form) the token is a node-signed form token for that page (http/form-token.ts).
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { html } from 'hono/html';
import { seconds, type AppContext } from '../context.ts';
import { PullmailError } from '../errors.ts';
import { checkFormToken, issueFormToken } from '../http/form-token.ts';
import type { CspEnv } from './csp.ts';
import type { SessionEnv } from './session.ts';

export type CsrfEnv = CspEnv & SessionEnv & { Variables: { csrf: string; form: Record<string, FormValue> } };
export type FormValue = string | File | (string | File)[];

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The token bound to a session: an HMAC of its cookie id, so it is never stored and dies with it. */
export function sessionCsrf(sessionId: string): string {
  return createHmac('sha256', sessionId).update('pullmail-web-csrf').digest('base64url');
}

/** A token for a form shown before sign-in (scope: the page's path). */
export function anonymousCsrf(ctx: AppContext, scope: string): Promise<string> {
  return issueFormToken(ctx.keys, `web:${scope}`, seconds(ctx), 3600);
}

/** A browser says where a request comes from; anything but our own origin is refused. */
function crossSite(c: Context, origin: string): boolean {
  const from = c.req.header('origin');
  const site = c.req.header('sec-fetch-site');
  return (from !== undefined && from !== origin) || (site !== undefined && site !== 'same-origin' && site !== 'none');
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Puts the session's token on `csrf` (for templates) and refuses unsafe requests without the right
 * one with a 403 page. Parses the form once (`form`, repeated fields as arrays) for the handlers.
 * `anonymousScopes` are the paths whose forms are posted before there is a session (sign-in).
 */
export function csrfGuard(ctx: AppContext, refused: (c: Context) => Response | Promise<Response>, anonymousScopes: readonly string[] = []): MiddlewareHandler<CsrfEnv> {
  const origin = new URL(ctx.publicUrl).origin;
  return async (c, next) => {
    const sessionId = c.get('sessionId');
    c.set('csrf', sessionId ? sessionCsrf(sessionId) : '');
    if (SAFE.has(c.req.method)) return next();
    if (crossSite(c, origin)) return refused(c);
    // nobody signed in and no sign-in form: refused before a byte of the body is read
    if (!sessionId && !anonymousScopes.includes(c.req.path)) return refused(c);
    const type = c.req.header('content-type') ?? '';
    const form = /^(multipart\/form-data|application\/x-www-form-urlencoded)\b/i.test(type) ? await parseForm(c) : {};
    c.set('form', form as Record<string, FormValue>);
    const sent = c.req.header('x-csrf-token') ?? (typeof form.csrf === 'string' ? form.csrf : undefined);
    const ok = sessionId
      ? sent !== undefined && same(sent, sessionCsrf(sessionId))
      : anonymousScopes.includes(c.req.path) && (await checkFormToken(ctx.keys, sent, `web:${c.req.path}`, seconds(ctx)));
    if (!ok) return refused(c);
    return next();
  };
}

async function parseForm(c: Context) {
  try {
    return await c.req.parseBody({ all: true });
  } catch (err) {
    // a body cut short or a broken multipart boundary is the client's mistake, not ours
    if (err instanceof PullmailError) throw err;
    throw new PullmailError('bad_request', 'the form could not be read (malformed multipart or form body)');
  }
}

/** The hidden field every form carries. */
export const csrfField = (token: string) => html`<input type="hidden" name="csrf" value="${token}">`;

/** The first text value of a form field ('' when absent). */
export function field(form: Record<string, FormValue> | undefined, name: string): string {
  const v = form?.[name];
  const first = Array.isArray(v) ? v[0] : v;
  return typeof first === 'string' ? first : '';
}

/** Every text value of a repeated field. */
export function fields(form: Record<string, FormValue> | undefined, name: string): string[] {
  const v = form?.[name];
  return (Array.isArray(v) ? v : v === undefined ? [] : [v]).filter((x): x is string => typeof x === 'string');
}

/** Every file of a file field, empty picks left out. */
export function files(form: Record<string, FormValue> | undefined, name: string): File[] {
  const v = form?.[name];
  return (Array.isArray(v) ? v : v === undefined ? [] : [v]).filter((x): x is File => typeof x !== 'string' && x.size > 0);
}
