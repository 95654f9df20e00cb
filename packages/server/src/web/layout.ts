// The page frame every screen of the web UI shares (docs/web.md): a skip link, a banner with the
// navigation landmark, one <main>. Templates are hono/html tagged strings: every interpolation is
// escaped, and no build step is needed (see docs/web.md "Why hono/html").
import { html, raw } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import { assets } from './assets.ts';

export type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

export interface NavLink {
  href: string;
  label: string;
  /** Shown beside the label (e.g. unread count), kept out of the link's accessible name. */
  badge?: number;
}

export interface PageInput {
  title: string;
  nonce: string;
  body: unknown;
  /** The product area in the banner ("Mail", "Admin"). */
  area?: string;
  nav?: NavLink[];
  /** href of the nav entry to mark as the current page. */
  current?: string;
  /** Who is signed in, shown in the banner. */
  who?: string;
  /** The session's CSRF token: htmx sends it as X-CSRF-Token with every request it makes. */
  csrf?: string;
  /** A short notice above the page (after an action). */
  flash?: { kind: 'ok' | 'error'; text: string };
}

// htmx: no inline indicator <style> (our CSP has no 'unsafe-inline' styles) and no eval
const HTMX_CONFIG = JSON.stringify({ includeIndicatorStyles: false, allowEval: false, allowScriptTags: false, historyCacheSize: 0 });

export function page(p: PageInput): Html {
  const nav = p.nav?.length
    ? html`<nav aria-label="Main"><ul>${p.nav.map((l, i) => {
      const badgeId = `nav-badge-${i}`;
      const badge = l.badge ? html` <span class="badge" id="${badgeId}" aria-hidden="true">${l.badge}</span><span class="visually-hidden" id="${badgeId}-d">${l.badge} new</span>` : '';
      return html`<li><a href="${l.href}"${l.href === p.current ? raw(' aria-current="page"') : ''}${l.badge ? raw(` aria-describedby="${badgeId}-d"`) : ''}>${l.label}</a>${badge}</li>`;
    })}</ul></nav>`
    : '';
  const flash = p.flash ? html`<p class="flash flash-${p.flash.kind}" role="${p.flash.kind === 'error' ? 'alert' : 'status'}">${p.flash.text}</p>` : '';
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="htmx-config" content="${HTMX_CONFIG}">
<title>${p.title} · pullmail</title>
<link rel="stylesheet" href="${assets.css.path}">
<script src="${assets.htmx.path}" nonce="${p.nonce}" defer></script>
${p.csrf ? html`<meta name="csrf-token" content="${p.csrf}">` : ''}
</head><body${p.csrf ? html` hx-headers="${JSON.stringify({ 'X-CSRF-Token': p.csrf })}"` : ''}>
<a class="skip" href="#main">Skip to content</a>
<header class="banner"><span class="brand">pullmail${p.area ? html` <span class="area">${p.area}</span>` : ''}</span>${p.who ? html`<span class="who">${p.who}</span>` : ''}${nav}</header>
<main id="main" tabindex="-1">${flash}${p.body}</main>
</body></html>`;
}

/** A page for a refusal or an error: a heading, a sentence, a way back. */
export function messagePage(p: { title: string; nonce: string; text: string; back?: { href: string; label: string } }): Html {
  return page({ title: p.title, nonce: p.nonce, body: html`<section class="card narrow"><h1>${p.title}</h1><p>${p.text}</p>${p.back ? html`<p><a href="${p.back.href}">${p.back.label}</a></p>` : ''}</section>` });
}

/** A byte count for people: 980 B, 12 KB, 3.4 MB. */
export function formatSize(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  if (bytes < 1_000_000) return `${Math.round(bytes / 1000)} KB`;
  return `${(bytes / 1_000_000).toFixed(1)} MB`;
}

/** A date for a list: the time today, else the day. UTC, so pages render the same for everyone. */
export function formatDate(d: Date, now: Date): string {
  const iso = d.toISOString();
  return iso.slice(0, 10) === now.toISOString().slice(0, 10) ? iso.slice(11, 16) : iso.slice(0, 10);
}
