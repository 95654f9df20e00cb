// The human challenge page (protocol §6 `url`), a plain HTML form: shows the question and passes the
// answer to screening/challenge-answer.ts. The form carries a token signed by the node for this page
// (http/form-token.ts) and posts from other sites are refused, so another site cannot post answers
// through a visitor's browser; wrong answers are limited per page and per client address (issue 12).
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';
import { Hono } from 'hono';
import { html } from 'hono/html';
import { seconds, type AppContext } from '../../context.ts';
import { answerChallenge, viewChallenge } from '../../screening/challenge-answer.ts';
import { checkFormToken, issueFormToken } from '../form-token.ts';

const page = (title: string, body: unknown) => html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>${title}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;color:#222}
input[type=text]{width:100%;padding:.5rem;font-size:1rem}button{margin-top:1rem;padding:.5rem 1.2rem;font-size:1rem}</style>
</head><body><h1>${title}</h1>${body}</body></html>`;

const notFound = () => page('Challenge not found', html`<p>This challenge does not exist or has expired.</p>`);

/**
 * A browser says where a form post comes from (Origin, Sec-Fetch-Site): from anywhere but our own
 * pages it is refused. Clients that send neither (scripts) still need the page's form token.
 */
function crossSite(c: Context, origin: string): boolean {
  const from = c.req.header('origin');
  const site = c.req.header('sec-fetch-site');
  return (from !== undefined && from !== origin) || (site !== undefined && site !== 'same-origin' && site !== 'none');
}

/** The client's address for the guess limit; `unknown` when the request came from no socket. */
function clientAddress(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

export function challengePageRoutes(app: Hono, ctx: AppContext): void {
  const origin = new URL(ctx.publicUrl).origin;
  const scope = (id: string) => `/challenge/${id}`;

  app.get('/challenge/:id', async (c) => {
    const id = c.req.param('id');
    const view = await viewChallenge(ctx, id);
    if (view.state === 'not_found') return c.html(notFound(), 404);
    if (view.state === 'answered') {
      const what = view.waitingMessage ? html`Your message to ${view.rcpt} is on its way.` : html`${view.rcpt} accepts your mail now; the token was shown once, when you answered.`;
      return c.html(page('Already answered', html`<p>${what}</p>`));
    }
    const token = await issueFormToken(ctx.keys, scope(id), seconds(ctx));
    return c.html(page(`A question from ${view.rcpt}`, html`
<p>${view.rcpt} asks senders they do not know yet to answer a question. You are writing as <b>${view.sender}</b>.</p>
<form method="post"><input type="hidden" name="csrf" value="${token}"><label for="a">${view.question}</label><input id="a" name="answer" type="text" autocomplete="off" maxlength="200" required>
<button type="submit">Send answer</button></form>`));
  });

  app.post('/challenge/:id', async (c) => {
    const id = c.req.param('id');
    const form = await c.req.parseBody();
    if (crossSite(c, origin) || !(await checkFormToken(ctx.keys, form.csrf, scope(id), seconds(ctx)))) {
      return c.html(page('Please try again', html`<p>This form has expired or was not sent from this page. <a href="">Open the question again</a>.</p>`), 403);
    }
    const answer = typeof form.answer === 'string' ? form.answer.slice(0, 200) : '';
    const r = await answerChallenge(ctx, id, answer, clientAddress(c));
    switch (r.outcome) {
      case 'not_found':
        return c.html(notFound(), 404);
      case 'locked':
        c.header('Retry-After', String(r.retryAfter));
        return c.html(page('Too many tries', html`<p>Too many wrong answers. Please try again in ${Math.ceil(r.retryAfter / 60)} minutes.</p>`), 429);
      case 'wrong':
        return c.html(page('Not quite', html`<p>That is not the answer ${r.rcpt} expects. <a href="">Try again</a>.</p>`), 403);
      case 'already_answered':
        return c.html(page('Already answered', html`<p>This question has been answered already.</p>`));
    }
    if (!r.criToken) return c.html(page('Thank you', html`<p>${r.rcpt} will now receive your mail.</p>`));
    return c.html(page('Thank you', html`
<p>${r.rcpt} now accepts mail from <b>${r.sender}</b> until ${r.until.toUTCString()}. When your mail server tries again
(most do, by themselves), the message will be taken.</p>
<p>A mail server that speaks CRI can prove the answer with this token, shown only this once:</p>
<pre id="cri-token">${r.criToken}</pre>
<p>It goes with the recipient, as in<br><code>RCPT TO:&lt;${r.rcpt}&gt; CRI-TOKEN-TYPE=plain CRI-TOKEN=${r.criToken}</code></p>`));
  });
}
