// Requests: first-contact mail held for the user (protocol §6 `hold`), each with who sent it (verified
// by the sender node's signature for pm1, by the SMTP gateway's checks otherwise), the subject and the
// size, and Accept / Reject / Block (screening/held-requests.ts).
import type { Hono } from 'hono';
import { html } from 'hono/html';
import type { AppContext } from '../../context.ts';
import { acceptRequest, blockRequestSender, listHeldRequests, rejectRequest } from '../../screening/held-requests.ts';
import { csrfField } from '../csrf.ts';
import { formatDate, formatSize } from '../layout.ts';
import { navBadges } from './folders.ts';
import { MAIL, mailPage, seeOther, type MailEnv } from './frame.ts';

const DONE = { accept: 'Accepted: the message is being fetched into your Inbox.', reject: 'Rejected.', block: 'Rejected, and the sender is blocked.' } as const;

export function requestRoutes(app: Hono<MailEnv>, ctx: AppContext): void {
  app.get('/requests', async (c) => {
    const rows = await listHeldRequests(ctx, c.get('mailbox').id);
    const now = new Date(ctx.now());
    const token = c.get('csrf');
    const item = (r: (typeof rows)[number]) => {
      const button = (action: keyof typeof DONE, label: string, cls: string) => html`<form method="post" action="${MAIL}/requests/${r.id}/${action}" class="inline">${csrfField(token)}<button type="submit" class="${cls}">${label}</button></form>`;
      const verified = r.via === 'pm1' ? html`verified: signed by ${r.iss}` : html`by SMTP`;
      return html`<li class="card" aria-labelledby="rq-${r.id}"><h2 id="rq-${r.id}">${r.subject || '(no subject)'}</h2>
<p><span class="rcpt">${r.sender}</span> <span class="muted">(${verified}) · ${formatSize(r.size)} · <time datetime="${r.receivedAt.toISOString()}">${formatDate(r.receivedAt, now)}</time></span></p>
<div class="row" role="group" aria-label="Decide on the request from ${r.sender}">${button('accept', 'Accept', 'primary')}${button('reject', 'Reject', '')}${button('block', 'Block', 'danger')}</div></li>`;
    };
    const body = html`<section aria-labelledby="rq-h"><h1 id="rq-h">Requests</h1>
<p class="muted">People who have not written to you before. Nothing of their message is fetched until you accept it.</p>
${rows.length ? html`<ul class="stack plain">${rows.map(item)}</ul>` : html`<p class="card empty">No one is waiting.</p>`}</section>`;
    return c.html(mailPage(c, { title: 'Requests', current: `${MAIL}/requests`, body, badges: await navBadges(ctx, c) }));
  });

  const actions = { accept: acceptRequest, reject: rejectRequest, block: blockRequestSender } as const;
  for (const [action, run] of Object.entries(actions) as [keyof typeof actions, (typeof actions)[keyof typeof actions]][]) {
    app.post(`/requests/:id/${action}`, async (c) => {
      await run(ctx, c.get('mailbox').id, c.req.param('id'));
      return seeOther(c, `${MAIL}/requests`, DONE[action]);
    });
  }
}
