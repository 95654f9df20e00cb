// Users: create a mailbox, reset its password (which ends its browser sessions), disable or enable it
// (accounts/accounts.ts, the same use cases as the admin API and `pullmail-server user …`).
import type { Hono } from 'hono';
import { html } from 'hono/html';
import type { AppContext } from '../../context.ts';
import { csrfField, field } from '../csrf.ts';
import { formatDate } from '../layout.ts';
import { ADMIN, adminPage, seeOther, type AdminEnv } from './frame.ts';

export function userRoutes(app: Hono<AdminEnv>, ctx: AppContext): void {
  app.get('/users', async (c) => {
    const users = await ctx.accounts.list();
    const token = c.get('csrf');
    const now = new Date(ctx.now());
    const rows = users.map((u) => {
      const path = `${ADMIN}/users/${encodeURIComponent(u.address)}`;
      const status = u.disabledAt ? html`<span class="state state-failed">disabled</span>` : html`<span class="state state-fetched">active</span>`;
      const toggle = u.disabledAt
        ? html`<form method="post" action="${path}/enable" class="inline">${csrfField(token)}<button type="submit" aria-label="Enable ${u.address}">Enable</button></form>`
        : html`<form method="post" action="${path}/disable" class="inline">${csrfField(token)}<button type="submit" class="danger" aria-label="Disable ${u.address}">Disable</button></form>`;
      return html`<tr><td>${u.address}${u.admin ? html` <span class="state">admin</span>` : ''}</td><td>${status}</td><td>${u.hasPassword ? 'set' : 'none'}</td><td>${u.tokens}</td><td class="when">${formatDate(u.createdAt, now)}</td>
<td><details><summary>Reset password</summary><form method="post" action="${path}/password" class="row">${csrfField(token)}
<label for="pw-${u.address}">New password for ${u.address}</label><input id="pw-${u.address}" name="password" type="password" autocomplete="new-password" required minlength="1" maxlength="1024">
<button type="submit">Set password</button></form></details> ${toggle}</td></tr>`;
    });
    const body = html`<section class="card" aria-labelledby="users-h"><h1 id="users-h">Users</h1>
${users.length ? html`<table class="list"><caption class="visually-hidden">Mailboxes of this node</caption><thead><tr><th scope="col">Address</th><th scope="col">Status</th><th scope="col">Password</th><th scope="col">API tokens</th><th scope="col" class="when">Created</th><th scope="col">Actions</th></tr></thead>
<tbody>${rows}</tbody></table>` : html`<p class="empty">No mailboxes yet.</p>`}</section>
<section class="card" aria-labelledby="new-user-h"><h2 id="new-user-h">Create a user</h2>
<form method="post" action="${ADMIN}/users" class="stack">${csrfField(token)}
<label for="new-address">Address</label><input id="new-address" name="address" type="email" required maxlength="320" placeholder="name@${ctx.config.domains[0]}">
<label for="new-password">Password</label><input id="new-password" name="password" type="password" autocomplete="new-password" maxlength="1024">
<p class="muted">Without a password the mailbox is for the API only (no web, IMAP or SMTP sign-in).</p>
<label><input type="checkbox" name="admin" value="1"> Administrator (may sign in here)</label>
<button type="submit" class="primary">Create user</button></form></section>`;
    return c.html(adminPage(c, { title: 'Users', current: `${ADMIN}/users`, body }));
  });

  app.post('/users', async (c) => {
    const f = c.get('form');
    const password = field(f, 'password');
    const created = await ctx.accounts.create(field(f, 'address').trim(), password === '' ? undefined : password, { admin: field(f, 'admin') === '1' });
    return seeOther(c, `${ADMIN}/users`, `Created ${created.address}.`);
  });

  app.post('/users/:address/password', async (c) => {
    const done = await ctx.accounts.setPassword(c.req.param('address'), field(c.get('form'), 'password'));
    return seeOther(c, `${ADMIN}/users`, `Password set for ${done.address}; ${done.sessionsEnded} browser session${done.sessionsEnded === 1 ? '' : 's'} ended.`);
  });

  app.post('/users/:address/disable', async (c) => {
    const done = await ctx.accounts.setDisabled(c.req.param('address'), true);
    return seeOther(c, `${ADMIN}/users`, `Disabled ${done.address}: it can no longer sign in anywhere; its mail still arrives.`);
  });

  app.post('/users/:address/enable', async (c) => {
    const done = await ctx.accounts.setDisabled(c.req.param('address'), false);
    return seeOther(c, `${ADMIN}/users`, `Enabled ${done.address}.`);
  });
}
