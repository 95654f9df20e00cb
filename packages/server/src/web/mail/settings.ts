// Settings: what happens to mail from strangers (first-contact mode) and the question of the human
// challenge page (screening/settings.ts).
import { FIRST_CONTACT_MODES, type FirstContact } from '@pullmail/client/wire';
import type { Hono } from 'hono';
import { html } from 'hono/html';
import type { AppContext } from '../../context.ts';
import { PullmailError } from '../../errors.ts';
import { changeSettings } from '../../screening/settings.ts';
import { csrfField, field } from '../csrf.ts';
import { navBadges } from './folders.ts';
import { MAIL, mailPage, seeOther, type MailEnv } from './frame.ts';

const MODES: Record<FirstContact, string> = {
  hold: 'Hold it as a request until I decide',
  challenge: 'Ask the sender my question first, then hold',
  fetch: 'Let it straight into my Inbox',
};

export function settingsRoutes(app: Hono<MailEnv>, ctx: AppContext): void {
  app.get('/settings', async (c) => {
    const m = c.get('mailbox');
    const body = html`<section class="card" aria-labelledby="set-h"><h1 id="set-h">Settings</h1>
<form method="post" action="${MAIL}/settings" class="stack">${csrfField(c.get('csrf'))}
<fieldset><legend>When someone writes to you for the first time</legend>
${FIRST_CONTACT_MODES.map((mode) => html`<div><input type="radio" id="fc-${mode}" name="first_contact" value="${mode}"${m.firstContact === mode ? html` checked` : ''}> <label for="fc-${mode}">${MODES[mode]}</label></div>`)}
</fieldset>
<label for="question">Challenge question</label><input id="question" name="challenge_question" type="text" maxlength="300" value="${m.challengeQuestion ?? ''}" placeholder="e.g. What is the name of my cat?">
<label for="answer">Expected answer</label><input id="answer" name="challenge_answer" type="text" maxlength="200" autocomplete="off" aria-describedby="answer-note">
<p class="muted" id="answer-note">Only a hash of the answer is kept. Leave it empty to keep the current answer; clear the question to remove both.</p>
<div><button type="submit" class="primary">Save settings</button></div></form></section>`;
    return c.html(mailPage(c, { title: 'Settings', current: `${MAIL}/settings`, body, badges: await navBadges(ctx, c) }));
  });

  app.post('/settings', async (c) => {
    const m = c.get('mailbox');
    const form = c.get('form');
    const firstContact = FIRST_CONTACT_MODES.find((x) => x === field(form, 'first_contact'));
    const question = field(form, 'challenge_question').trim().slice(0, 300);
    const answer = field(form, 'challenge_answer').trim().slice(0, 200);
    if (question && !answer && question !== m.challengeQuestion) throw new PullmailError('bad_request', 'A new challenge question needs its expected answer.');
    if (firstContact === 'challenge' && !question) throw new PullmailError('bad_request', 'The challenge mode needs a challenge question and its answer.');
    await changeSettings(ctx, m.id, {
      firstContact,
      challengeQuestion: question ? question : null,
      ...(answer ? { challengeAnswer: answer } : {}),
    });
    return seeOther(c, `${MAIL}/settings`, 'Settings saved.');
  });
}
