// The outbound queue: deliveries by state, and "Retry now" / "Give up" for one that still owes a
// notification or SMTP hand-off (queue/operator.ts).
import type { Hono } from 'hono';
import { html } from 'hono/html';
import type { AppContext } from '../../context.ts';
import { giveUp, parseDeliveryState, queueOverview, retryNow } from '../../queue/operator.ts';
import { csrfField } from '../csrf.ts';
import { formatDate } from '../layout.ts';
import { ADMIN, adminPage, seeOther, type AdminEnv } from './frame.ts';

export function queueRoutes(app: Hono<AdminEnv>, ctx: AppContext): void {
  app.get('/queue', async (c) => {
    const q = await queueOverview(ctx, parseDeliveryState(c.req.query('state')));
    const token = c.get('csrf');
    const now = new Date(ctx.now());
    const here = q.shown ? `${ADMIN}/queue?state=${q.shown}` : `${ADMIN}/queue`;
    const counts = html`<ul class="row plain" aria-label="Deliveries by state">
<li><a href="${ADMIN}/queue"${q.shown ? '' : html` aria-current="true"`}>waiting to be sent</a></li>
${q.counts.map((s) => html`<li><a href="${ADMIN}/queue?state=${s.state}"${q.shown === s.state ? html` aria-current="true"` : ''}><span class="state state-${s.state}">${s.state}</span> ${s.n}</a></li>`)}</ul>`;
    const rows = q.deliveries.map((d) => html`<tr><td>${d.sender}</td><td>${d.rcpt}</td><td>${d.transport}</td><td><span class="state state-${d.state}">${d.state}</span></td><td>${d.attempts}</td>
<td class="when">${d.owed && d.nextAttemptAt ? formatDate(d.nextAttemptAt, now) : ''}</td><td>${d.lastError ?? ''}</td>
<td>${d.owed ? html`<form method="post" action="${ADMIN}/queue/${d.id}/retry" class="inline">${csrfField(token)}<input type="hidden" name="back" value="${here}"><button type="submit" aria-label="Retry now: ${d.rcpt}">Retry now</button></form>
<form method="post" action="${ADMIN}/queue/${d.id}/give-up" class="inline">${csrfField(token)}<button type="submit" class="danger" aria-label="Give up: ${d.rcpt}">Give up</button></form>` : ''}</td></tr>`);
    const body = html`<section class="card" aria-labelledby="queue-h"><h1 id="queue-h">Queue</h1>${counts}
<h2>${q.shown ? `Deliveries ${q.shown}` : 'Deliveries waiting to be sent'}</h2>
${q.deliveries.length ? html`<table class="list"><caption class="visually-hidden">Deliveries</caption><thead><tr><th scope="col">From</th><th scope="col">To</th><th scope="col">Via</th><th scope="col">State</th><th scope="col">Attempts</th><th scope="col" class="when">Next try</th><th scope="col">Last error</th><th scope="col">Actions</th></tr></thead>
<tbody>${rows}</tbody></table>` : html`<p class="empty">Nothing here.</p>`}</section>`;
    return c.html(adminPage(c, { title: 'Queue', current: `${ADMIN}/queue`, body }));
  });

  app.post('/queue/:id/retry', async (c) => {
    await retryNow(ctx, c.req.param('id'));
    return seeOther(c, `${ADMIN}/queue`, 'The delivery will be tried again now.');
  });

  app.post('/queue/:id/give-up', async (c) => {
    await giveUp(ctx, c.req.param('id'));
    return seeOther(c, `${ADMIN}/queue`, 'Given up: the delivery is failed and will not be tried again.');
  });
}
