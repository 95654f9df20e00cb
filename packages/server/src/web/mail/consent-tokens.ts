// Consent tokens (protocol §6): a token the user gives a shop or service so its first mail is let in;
// created here and shown once, listed with the uses left, revoked (screening/consent-tokens.ts).
import type { Hono } from 'hono';
import { html } from 'hono/html';
import type { AppContext } from '../../context.ts';
import { PullmailError } from '../../errors.ts';
import { createConsentToken, listConsentTokens, revokeConsentToken } from '../../screening/consent-tokens.ts';
import { canonicalPattern } from '../../screening/sender-pattern.ts';
import { csrfField, field } from '../csrf.ts';
import { formatDate } from '../layout.ts';
import { navBadges } from './folders.ts';
import { MAIL, mailPage, seeOther, type MailContext, type MailEnv } from './frame.ts';

async function screen(ctx: AppContext, c: MailContext, created?: { token: string; sender: string }) {
  const rows = await listConsentTokens(ctx, c.get('mailbox').id);
  const now = new Date(ctx.now());
  const token = c.get('csrf');
  const state = (r: (typeof rows)[number]) => (r.revokedAt ? 'revoked' : r.expiresAt <= now ? 'expired' : r.uses >= r.maxUses ? 'used up' : 'active');
  const shown = created
    ? html`<section class="card" aria-labelledby="new-token-h" role="status"><h2 id="new-token-h">Your new token for ${created.sender}</h2>
<p>Copy it now: it is shown only this once.</p><p class="token" id="new-token">${created.token}</p></section>`
    : '';
  const body = html`${shown}<section class="card" aria-labelledby="ct-h"><h1 id="ct-h">Consent tokens</h1>
<p class="muted">Give a token to a shop or service you sign up with: its mail then reaches you without a request, as many times as you allow.</p>
${rows.length ? html`<table class="list"><caption class="visually-hidden">Your consent tokens</caption><thead><tr><th scope="col">Sender</th><th scope="col">Uses left</th><th scope="col">Expires</th><th scope="col">State</th><th scope="col"><span class="visually-hidden">Revoke</span></th></tr></thead><tbody>
${rows.map((r) => html`<tr><td>${r.senderPattern}</td><td>${Math.max(0, r.maxUses - r.uses)} of ${r.maxUses}</td><td><time datetime="${r.expiresAt.toISOString()}">${formatDate(r.expiresAt, now)}</time></td><td>${state(r)}</td>
<td>${r.revokedAt ? '' : html`<form method="post" action="${MAIL}/consent-tokens/${r.id}/revoke" class="inline">${csrfField(token)}<button type="submit" class="danger" aria-label="Revoke the token for ${r.senderPattern}">Revoke</button></form>`}</td></tr>`)}
</tbody></table>` : html`<p class="empty">No tokens yet.</p>`}
<h2>Create a token</h2>
<form method="post" action="${MAIL}/consent-tokens" class="stack">${csrfField(token)}
<label for="sender">Sender address or @domain</label><input id="sender" name="sender" type="text" required maxlength="320" placeholder="orders@shop.example or @shop.example">
<div class="grid2"><div class="stack"><label for="max_uses">Uses</label><input id="max_uses" name="max_uses" type="number" min="1" max="1000000" value="10" required></div>
<div class="stack"><label for="days">Valid for (days)</label><input id="days" name="days" type="number" min="1" max="365" value="90" required></div></div>
<div><button type="submit" class="primary">Create token</button></div></form></section>`;
  return mailPage(c, { title: 'Consent tokens', current: `${MAIL}/consent-tokens`, body, badges: await navBadges(ctx, c) });
}

const wholeIn = (text: string, min: number, max: number) => {
  const n = Number(text);
  return Number.isInteger(n) && n >= min && n <= max ? n : undefined;
};

export function consentTokenRoutes(app: Hono<MailEnv>, ctx: AppContext): void {
  app.get('/consent-tokens', async (c) => c.html(await screen(ctx, c)));

  app.post('/consent-tokens', async (c) => {
    const form = c.get('form');
    const sender = canonicalPattern(field(form, 'sender').trim().slice(0, 320));
    const maxUses = wholeIn(field(form, 'max_uses'), 1, 1_000_000);
    const days = wholeIn(field(form, 'days'), 1, 365);
    if (!sender) throw new PullmailError('bad_request', 'The sender must be an address (name@domain) or a domain (@domain).');
    if (!maxUses || !days) throw new PullmailError('bad_request', 'Uses must be 1 to 1,000,000 and the lifetime 1 to 365 days.');
    const { token } = await createConsentToken(ctx, c.get('mailbox'), { sender, maxUses, expiresInDays: days });
    // shown in the answer to the POST itself, never stored, never in a URL
    return c.html(await screen(ctx, c, { token, sender }), 201);
  });

  app.post('/consent-tokens/:id/revoke', async (c) => {
    await revokeConsentToken(ctx, c.get('mailbox').id, c.req.param('id'));
    return seeOther(c, `${MAIL}/consent-tokens`, 'Token revoked.');
  });
}
