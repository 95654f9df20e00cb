// Aliases and catch-alls: list, create, delete (accounts/aliases.ts, as the admin API and
// `pullmail-server alias …`).
import type { Hono } from 'hono';
import { html } from 'hono/html';
import type { AppContext } from '../../context.ts';
import { csrfField, field } from '../csrf.ts';
import { ADMIN, adminPage, seeOther, type AdminEnv } from './frame.ts';

export function aliasRoutes(app: Hono<AdminEnv>, ctx: AppContext): void {
  app.get('/aliases', async (c) => {
    const aliases = await ctx.aliases.list();
    const token = c.get('csrf');
    const body = html`<section class="card" aria-labelledby="aliases-h"><h1 id="aliases-h">Aliases</h1>
<p class="muted">Mail to an alias goes to its target mailbox, under the target's rules. <code>@domain</code> is the catch-all: it takes mail for addresses of the domain that have no mailbox or alias.</p>
${aliases.length ? html`<table class="list"><caption class="visually-hidden">Aliases of this node</caption><thead><tr><th scope="col">Address</th><th scope="col">Delivers to</th><th scope="col"><span class="visually-hidden">Delete</span></th></tr></thead><tbody>
${aliases.map((a) => html`<tr><td>${a.address}${a.address.startsWith('@') ? html` <span class="state">catch-all</span>` : ''}</td><td>${a.target}</td><td><form method="post" action="${ADMIN}/aliases/${a.id}/delete" class="inline">${csrfField(token)}<button type="submit" class="danger" aria-label="Delete the alias ${a.address}">Delete</button></form></td></tr>`)}
</tbody></table>` : html`<p class="empty">No aliases yet.</p>`}
<h2>Add an alias</h2>
<form method="post" action="${ADMIN}/aliases" class="stack">${csrfField(token)}
<label for="alias-address">Alias address or @domain</label><input id="alias-address" name="address" type="text" required maxlength="320" placeholder="sales@${ctx.config.domains[0]} or @${ctx.config.domains[0]}">
<label for="alias-target">Target mailbox</label><input id="alias-target" name="target" type="email" required maxlength="320">
<button type="submit" class="primary">Add alias</button></form></section>`;
    return c.html(adminPage(c, { title: 'Aliases', current: `${ADMIN}/aliases`, body }));
  });

  app.post('/aliases', async (c) => {
    const f = c.get('form');
    const created = await ctx.aliases.create(field(f, 'address').trim(), field(f, 'target').trim());
    return seeOther(c, `${ADMIN}/aliases`, `Mail to ${created.address} now goes to ${created.target}.`);
  });

  app.post('/aliases/:id/delete', async (c) => {
    const done = await ctx.aliases.remove(c.req.param('id'));
    return seeOther(c, `${ADMIN}/aliases`, `Deleted the alias ${done.address}.`);
  });
}
