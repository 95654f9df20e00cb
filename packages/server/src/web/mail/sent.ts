// Sent: the list of sent messages and one sent message with each recipient's delivery state (the
// API's words, OPERATOR.md) and, while any recipient has not fetched it, Retract and Edit. The states
// update live: htmx polls the recipients fragment every 2 s while one may still change; without
// JavaScript a reload shows the same.
import type { DeliveryState } from '@pullmail/client/wire';
import type { Hono } from 'hono';
import { html } from 'hono/html';
import type { AppContext } from '../../context.ts';
import { retractMessage } from '../../delivery/edit.ts';
import { listSentMessages, sentMessageStatus } from '../../delivery/sent-status.ts';
import { encodeCursor, parsePage } from '../../http/pagination.ts';
import { csrfField } from '../csrf.ts';
import { formatDate } from '../layout.ts';
import { navBadges, PAGE_SIZE } from './folders.ts';
import { MAIL, mailPage, seeOther, type MailContext, type MailEnv } from './frame.ts';

/** States a delivery can still leave by itself (the page keeps polling while one is shown). */
const MOVING: readonly DeliveryState[] = ['queued', 'notified', 'held', 'challenged'];
/** States from which Retract and Edit still reach the recipient. */
const OPEN: readonly DeliveryState[] = ['queued', 'notified', 'held', 'challenged'];

type Status = Awaited<ReturnType<typeof sentMessageStatus>>;

function recipients(id: string, s: Status) {
  const moving = s.deliveries.some((d) => MOVING.includes(d.state));
  const poll = moving ? html` hx-get="${MAIL}/sent/${id}/recipients" hx-trigger="every 2s" hx-swap="outerHTML"` : '';
  return html`<section id="recipients" aria-labelledby="rcpt-h"${poll} aria-live="polite"><h2 id="rcpt-h">Recipients</h2><ul class="recipients">${s.deliveries.map((d) => html`<li><span class="rcpt">${d.rcpt}</span><span><span class="state state-${d.state}">${d.state}</span>${d.reason ? html` <span class="muted">(${d.reason})</span>` : ''}${d.challengeUrl ? html` <a href="${d.challengeUrl}" rel="noreferrer">challenge</a>` : ''}</span></li>`)}</ul></section>`;
}

function sentList(ctx: AppContext, c: MailContext, rows: Awaited<ReturnType<typeof listSentMessages>>, next: string | undefined) {
  const now = new Date(ctx.now());
  return html`<section class="card" aria-labelledby="sent-h"><h1 id="sent-h">Sent</h1>
${rows.length ? html`<table class="list"><caption class="visually-hidden">Sent messages</caption><thead><tr><th scope="col">To</th><th scope="col">Subject</th><th scope="col" class="when">Date</th></tr></thead><tbody>
${rows.map((r) => html`<tr><td class="from">${r.recipients.join(', ')}</td><td class="subject"><a href="${MAIL}/sent/${r.id}">${r.subject || '(no subject)'}</a>${r.version > 1 ? html` <span class="muted">(edited)</span>` : ''}</td><td class="when"><time datetime="${r.createdAt.toISOString()}">${formatDate(r.createdAt, now)}</time></td></tr>`)}
</tbody></table>` : html`<p class="empty">Nothing sent yet. <a href="${MAIL}/compose">Write a message</a>.</p>`}
${next ? html`<div class="pager"><span></span><a href="${next}" rel="next">Older messages</a></div>` : ''}</section>`;
}

export function sentRoutes(app: Hono<MailEnv>, ctx: AppContext): void {
  app.get('/sent', async (c) => {
    const page = { ...parsePage({ cursor: c.req.query('cursor') }, PAGE_SIZE), limit: PAGE_SIZE };
    const rows = await listSentMessages(ctx, c.get('mailbox'), page);
    const last = rows.length === PAGE_SIZE ? rows.at(-1) : undefined;
    const next = last ? `${MAIL}/sent?cursor=${encodeCursor(last.createdAt, last.id)}` : undefined;
    return c.html(mailPage(c, { title: 'Sent', current: `${MAIL}/sent`, body: sentList(ctx, c, rows, next), badges: await navBadges(ctx, c) }));
  });

  app.get('/sent/:id', async (c) => {
    const id = c.req.param('id');
    const s = await sentMessageStatus(ctx, c.get('mailbox'), id);
    const open = s.deliveries.some((d) => OPEN.includes(d.state));
    const actions = open
      ? html`<div class="row" role="group" aria-label="Until it is fetched">
<form method="post" action="${MAIL}/sent/${id}/retract" class="inline">${csrfField(c.get('csrf'))}<button type="submit" class="danger">Retract</button></form>
<form method="get" action="${MAIL}/compose" class="inline"><input type="hidden" name="edit" value="${id}"><button type="submit">Edit</button></form>
<span class="muted">Recipients who have not fetched it yet get the change.</span></div>`
      : html`<p class="muted">Every recipient has fetched this message or it has been closed; it can no longer be retracted or edited.</p>`;
    const body = html`<article class="card" aria-labelledby="sent-msg-h"><p><a href="${MAIL}/sent">← Sent</a></p>
<h1 id="sent-msg-h">${s.message.subject || '(no subject)'}</h1>
<p class="muted">Sent <time datetime="${s.message.createdAt.toISOString()}">${s.message.createdAt.toUTCString()}</time>${s.message.version > 1 ? html` · version ${s.message.version}` : ''}</p>
${recipients(id, s)}<h2 class="visually-hidden">Actions</h2>${actions}</article>`;
    return c.html(mailPage(c, { title: s.message.subject || 'Sent message', current: `${MAIL}/sent`, body, badges: await navBadges(ctx, c) }));
  });

  // the fragment htmx polls
  app.get('/sent/:id/recipients', async (c) => {
    const id = c.req.param('id');
    return c.html(recipients(id, await sentMessageStatus(ctx, c.get('mailbox'), id)));
  });

  app.post('/sent/:id/retract', async (c) => {
    const id = c.req.param('id');
    const r = await retractMessage(ctx, c.get('mailbox'), id);
    const n = r.results.filter((x) => x.result === 'retracted').length;
    return seeOther(c, `${MAIL}/sent/${id}`, n ? `Retracted for ${n} recipient${n === 1 ? '' : 's'}.` : 'Nothing left to retract: every recipient had fetched it.');
  });
}
