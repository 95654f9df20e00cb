// The human challenge page (protocol §6 `url`): a sender answers the recipient's question; a right
// answer allows the sender for the allow window and releases the message that waited on it. A page
// opened by the SMTP gateway's 452 (docs/cri.md) has no waiting message: its answer hands the sender a
// CRI token for the retry instead.
import { createHash } from 'node:crypto';
import { Hono } from 'hono';
import { html } from 'hono/html';
import type { AppContext } from '../../context.ts';
import { newCriToken } from '../../smtp/cri-gate.ts';
import { findChallenge, solveChallenge } from '../../store/challenges.ts';
import { queueFetch } from '../../store/inbound.ts';
import { findMailboxById } from '../../store/mailboxes.ts';
import { addCorrespondents } from '../../store/policy-data.ts';

/** Answers compare case- and space-insensitively. */
export function hashAnswer(answer: string): string {
  return createHash('sha256').update(answer.trim().toLowerCase().replace(/\s+/g, ' ')).digest('hex');
}

const page = (title: string, body: unknown) => html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>${title}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;color:#222}
input[type=text]{width:100%;padding:.5rem;font-size:1rem}button{margin-top:1rem;padding:.5rem 1.2rem;font-size:1rem}</style>
</head><body><h1>${title}</h1>${body}</body></html>`;

export function challengePageRoutes(app: Hono, ctx: AppContext): void {
  const load = async (id: string) => {
    const ch = await findChallenge(ctx.db, id);
    if (!ch) return undefined;
    const owner = await findMailboxById(ctx.db, ch.mailboxId);
    return owner?.challengeQuestion ? { ch, owner } : undefined;
  };

  app.get('/challenge/:id', async (c) => {
    const found = await load(c.req.param('id'));
    if (!found) return c.html(page('Challenge not found', html`<p>This challenge does not exist or has expired.</p>`), 404);
    const { ch, owner } = found;
    if (!ch.solvedAt && ch.expiresAt.getTime() < ctx.now()) return c.html(page('Challenge not found', html`<p>This challenge does not exist or has expired.</p>`), 404);
    if (ch.solvedAt) {
      const what = ch.inboundId ? html`Your message to ${owner.address} is on its way.` : html`${owner.address} accepts your mail now; the token was shown once, when you answered.`;
      return c.html(page('Already answered', html`<p>${what}</p>`));
    }
    return c.html(page(`A question from ${owner.address}`, html`
<p>${owner.address} asks senders they do not know yet to answer a question. You are writing as <b>${ch.sender}</b>.</p>
<form method="post"><label for="a">${owner.challengeQuestion}</label><input id="a" name="answer" type="text" autocomplete="off" maxlength="200" required>
<button type="submit">Send answer</button></form>`));
  });

  app.post('/challenge/:id', async (c) => {
    const found = await load(c.req.param('id'));
    if (!found || found.ch.expiresAt.getTime() < ctx.now()) return c.html(page('Challenge not found', html`<p>This challenge does not exist or has expired.</p>`), 404);
    const { ch, owner } = found;
    const form = await c.req.parseBody();
    const answer = typeof form.answer === 'string' ? form.answer.slice(0, 200) : '';
    if (hashAnswer(answer) !== owner.challengeAnswerHash) {
      return c.html(page('Not quite', html`<p>That is not the answer ${owner.address} expects. <a href="">Try again</a>.</p>`), 403);
    }
    const now = new Date(ctx.now());
    const until = new Date(now.getTime() + ctx.config.allowWindowSeconds * 1000);
    // an SMTP-stage challenge (no waiting message) hands out a CRI token; only its hash is kept
    const cri = ch.inboundId ? undefined : newCriToken();
    const solved = await ctx.db.transaction(async (tx) => {
      if (!(await solveChallenge(tx, ch.id, now, cri?.hash ?? null))) return false;
      await addCorrespondents(tx, owner.id, [ch.sender], 'challenge', until);
      if (ch.inboundId) await queueFetch(tx, ch.inboundId, now, 'challenged');
      return true;
    });
    if (!solved) return c.html(page('Already answered', html`<p>This question has been answered already.</p>`));
    ctx.kick('fetch');
    ctx.log.child({ sub: 'policy' }).info({ rcpt: owner.address, sender: ch.sender }, 'human challenge answered');
    if (!cri) return c.html(page('Thank you', html`<p>${owner.address} will now receive your mail.</p>`));
    return c.html(page('Thank you', html`
<p>${owner.address} now accepts mail from <b>${ch.sender}</b> until ${until.toUTCString()}. When your mail server tries again
(most do, by themselves), the message will be taken.</p>
<p>A mail server that speaks CRI can prove the answer with this token, shown only this once:</p>
<pre id="cri-token">${cri.token}</pre>
<p>It goes with the recipient, as in<br><code>RCPT TO:&lt;${owner.address}&gt; CRI-TOKEN-TYPE=plain CRI-TOKEN=${cri.token}</code></p>`));
  });
}
