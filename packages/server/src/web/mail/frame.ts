// What every webmail screen shares: the signed-in mailbox, the navigation (names fixed by
// OPERATOR.md "Web UI"), and the page frame around a screen's body.
import type { Context, MiddlewareHandler } from 'hono';
import type { AppContext } from '../../context.ts';
import type { Mailbox } from '../../store/mailboxes.ts';
import type { WebEnv } from '../app.ts';
import { noticeOf, withNotice } from '../flash.ts';
import { page, type Html, type PageInput } from '../layout.ts';

export const MAIL = '/mail';
export const SIGN_IN = `${MAIL}/sign-in`;

export type MailEnv = WebEnv & { Variables: { mailbox: Mailbox } };
export type MailContext = Context<MailEnv>;

/** Signed-in screens only: others are sent to the sign-in page (and back after it). */
export function requireMailbox(): MiddlewareHandler<MailEnv> {
  return async (c, next) => {
    const mailbox = c.get('session')?.mailbox;
    if (!mailbox) {
      const back = c.req.method === 'GET' ? `?next=${encodeURIComponent(c.req.path + (new URL(c.req.url).search))}` : '';
      return c.redirect(`${SIGN_IN}${back}`, 303);
    }
    c.set('mailbox', mailbox);
    await next();
  };
}

export const NAV = [
  { href: `${MAIL}/`, label: 'Inbox' },
  { href: `${MAIL}/requests`, label: 'Requests' },
  { href: `${MAIL}/sent`, label: 'Sent' },
  { href: `${MAIL}/compose`, label: 'Compose' },
  { href: `${MAIL}/rules`, label: 'Rules' },
  { href: `${MAIL}/consent-tokens`, label: 'Consent tokens' },
  { href: `${MAIL}/settings`, label: 'Settings' },
  { href: `${MAIL}/sign-out`, label: 'Sign out' },
] as const;

/** A signed-in screen: `current` is the nav entry it belongs to. */
export function mailPage(c: MailContext, p: Omit<PageInput, 'nonce' | 'nav' | 'who' | 'area'> & { badges?: Record<string, number> }): Html {
  const nav = NAV.map((l) => ({ ...l, badge: p.badges?.[l.label] }));
  const flashText = noticeOf((n) => c.req.query(n), c.get('csrf'));
  const flash = p.flash ?? (flashText ? { kind: 'ok' as const, text: flashText } : undefined);
  return page({ ...p, flash, nonce: c.get('nonce'), csrf: c.get('csrf'), area: 'Mail', nav, who: c.get('mailbox').address });
}

/** After a POST: back to a page (303, so a reload does not post again), with a short notice. */
export function seeOther(c: MailContext, path: string, done?: string): Response {
  return c.redirect(withNotice(path, c.get('csrf'), done), 303);
}

export type MailCtx = AppContext;
