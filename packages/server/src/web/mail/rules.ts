// Rules: allow or block a sender address or a whole @domain (screening/rules.ts).
import { RULE_ACTIONS } from '@pullmail/client/wire';
import type { Hono } from 'hono';
import { html } from 'hono/html';
import type { AppContext } from '../../context.ts';
import { PullmailError } from '../../errors.ts';
import { addRule, listRules, removeRule } from '../../screening/rules.ts';
import { canonicalPattern } from '../../screening/sender-pattern.ts';
import { csrfField, field } from '../csrf.ts';
import { navBadges } from './folders.ts';
import { MAIL, mailPage, seeOther, type MailEnv } from './frame.ts';

export function ruleRoutes(app: Hono<MailEnv>, ctx: AppContext): void {
  app.get('/rules', async (c) => {
    const rows = await listRules(ctx, c.get('mailbox').id);
    const token = c.get('csrf');
    const body = html`<section class="card" aria-labelledby="rules-h"><h1 id="rules-h">Rules</h1>
<p class="muted">Allowed senders reach your Inbox without a request; blocked senders are refused.</p>
${rows.length ? html`<table class="list"><caption class="visually-hidden">Your rules</caption><thead><tr><th scope="col">Sender</th><th scope="col">Action</th><th scope="col"><span class="visually-hidden">Remove</span></th></tr></thead><tbody>
${rows.map((r) => html`<tr><td>${r.pattern}</td><td>${r.action}</td><td><form method="post" action="${MAIL}/rules/${r.id}/delete" class="inline">${csrfField(token)}<button type="submit" aria-label="Remove the rule for ${r.pattern}">Remove</button></form></td></tr>`)}
</tbody></table>` : html`<p class="empty">No rules yet.</p>`}
<h2>Add a rule</h2>
<form method="post" action="${MAIL}/rules" class="stack">${csrfField(token)}
<label for="pattern">Sender address or @domain</label><input id="pattern" name="pattern" type="text" required maxlength="320" placeholder="news@shop.example or @shop.example">
<label for="action">Action</label><div class="row"><select id="action" name="action" class="auto">${RULE_ACTIONS.map((a) => html`<option value="${a}">${a}</option>`)}</select>
<button type="submit" class="primary">Add rule</button></div></form></section>`;
    return c.html(mailPage(c, { title: 'Rules', current: `${MAIL}/rules`, body, badges: await navBadges(ctx, c) }));
  });

  app.post('/rules', async (c) => {
    const form = c.get('form');
    const pattern = canonicalPattern(field(form, 'pattern').trim().slice(0, 320));
    const action = RULE_ACTIONS.find((a) => a === field(form, 'action'));
    if (!pattern || !action) throw new PullmailError('bad_request', 'A rule needs a sender address (name@domain) or a domain (@domain), and allow or block.');
    await addRule(ctx, c.get('mailbox').id, { action, pattern });
    return seeOther(c, `${MAIL}/rules`, `Rule saved: ${action} ${pattern}.`);
  });

  app.post('/rules/:id/delete', async (c) => {
    await removeRule(ctx, c.get('mailbox').id, c.req.param('id'));
    return seeOther(c, `${MAIL}/rules`, 'Rule removed.');
  });
}
