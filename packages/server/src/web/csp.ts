// The Content-Security-Policy of every web page (docs/web.md "Security"): scripts only from our own
// origin with this response's nonce, nothing framed from elsewhere, no plugins, no <base>, forms post
// only to us, and no other site may frame us. A message page loosens exactly two things for the
// sandboxed message frame (whose srcdoc document inherits this policy): inline styles, and remote
// images once the user asked for them.
import { randomBytes } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';

export type CspEnv = { Variables: { nonce: string } };

export interface CspOptions {
  /** Inline style attributes and <style> (the message frame's HTML). */
  inlineStyles?: boolean;
  /** Images from anywhere (after "Show remote content"). */
  remoteImages?: boolean;
}

export function contentSecurityPolicy(nonce: string, opts: CspOptions = {}): string {
  return [
    "default-src 'self'",
    `script-src 'nonce-${nonce}'`,
    `style-src 'self'${opts.inlineStyles ? " 'unsafe-inline'" : ''}`,
    `img-src 'self' data:${opts.remoteImages ? ' https: http:' : ''}`,
    "frame-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** Sets a fresh nonce on the context and the policy (plus the usual hardening headers) on the response. */
export function cspHeaders(): MiddlewareHandler<CspEnv> {
  return async (c, next) => {
    const nonce = randomBytes(16).toString('base64');
    c.set('nonce', nonce);
    await next();
    // a handler that set its own policy (the message page) keeps it
    if (!c.res.headers.has('content-security-policy')) c.res.headers.set('content-security-policy', contentSecurityPolicy(nonce));
    c.res.headers.set('x-content-type-options', 'nosniff');
    // not no-referrer: under it Chromium sends `Origin: null` even with our own form posts, which the
    // CSRF check must then refuse; same-origin keeps every referrer and origin from other sites
    c.res.headers.set('referrer-policy', 'same-origin');
    c.res.headers.set('x-frame-options', 'DENY');
    if (!c.res.headers.has('cache-control')) c.res.headers.set('cache-control', 'no-store');
  };
}
