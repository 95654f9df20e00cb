// Every webmail screen through app.request() (docs/web.md): each renders for a signed-in user with the
// names OPERATOR.md fixes, and each form does what it says through its use case. No workers run here:
// mail arrives by APPEND or a signed notification, and sent mail stays queued.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { seconds } from '../../context.ts';
import { sha256b64url } from '../../protocol/jws.ts';
import { signNotification } from '../../protocol/notification.ts';
import { loadBody } from '../../store/bodies.ts';
import { findDelivery } from '../../store/deliveries.ts';
import { findMailbox } from '../../store/mailboxes.ts';
import { findVersion } from '../../store/messages.ts';
import { createTestApp, type TestApp } from '../../http/test-app.ts';
import { webClient, type WebClient } from '../test-client.ts';

let t: TestApp;
let seq = 0;
before(async () => {
  t = await createTestApp({ env: { PULLMAIL_DOMAINS: 'a.test,b.test' } });
});
after(() => t.close());

interface User { address: string; token: string; web: WebClient }

async function user(): Promise<User> {
  const address = `s${++seq}@b.test`;
  const { token } = await t.ctx.accounts.create(address, 'long enough pw');
  const web = webClient(t);
  assert.equal((await web.signIn(address, 'long enough pw')).status, 303);
  return { address, token, web };
}

async function append(u: User, raw: string, folder = 'INBOX'): Promise<string> {
  const res = await t.request(`/api/v1/folders/${folder}/messages`, { method: 'POST', token: u.token, headers: { 'content-type': 'message/rfc822' }, body: raw.replace(/\n/g, '\r\n') });
  assert.equal(res.status, 201, await res.clone().text());
  return ((await res.json()) as { id: string }).id;
}

const mail = (from: string, subject: string, body = 'Hello there.') => `From: ${from}\nTo: x@b.test\nSubject: ${subject}\nMessage-ID: <${++seq}@x.example>\nDate: Mon, 2 Mar 2026 10:00:00 +0000\n\n${body}\n`;

async function page(u: User, path: string): Promise<string> {
  const res = await u.web.get(path);
  assert.equal(res.status, 200, `${path}: ${res.status} ${res.headers.get('location')}`);
  return res.text();
}

describe('webmail screens', () => {
  it('lists the inbox with unread and flagged marks, pages of 50 and search by sender or subject', async () => {
    const u = await user();
    for (let i = 0; i < 52; i++) await append(u, mail(i % 2 ? 'amy@a.example' : 'bob@c.example', `Note ${i}`));
    const first = await page(u, '/mail/');
    assert.match(first, /Inbox <span class="muted">\(52\)<\/span>/);
    assert.equal(first.match(/<tr class="unread">/g)?.length, 50);
    const older = /href="(\/mail\/\?cursor=[^"]+)" rel="next"/.exec(first)?.[1];
    assert.ok(older);
    assert.equal((await page(u, older.replace(/&amp;/g, '&'))).match(/<tr class/g)?.length, 2);
    const amy = await page(u, '/mail/?q=AMY@');
    assert.match(amy, /\(26\)/);
    assert.match(await page(u, '/mail/?q=Note%2051'), /\(1\)/);
    assert.match(await page(u, '/mail/?q=100%25'), /No message matches/);
  });

  it('counts a search up to 1,000 matches, then says 1000+; a text too short for the trigram index is still found', async () => {
    const u = await user();
    const mailbox = (await findMailbox(t.ctx.db, u.address))!;
    // 1,001 entries in one statement (bench/web.ts fills its inbox so): appended one at a time they would
    // take most of a minute. 1,000 from many@, one from last@, all of bulk.example
    await t.ctx.db.execute(sql`
      insert into folder_messages (mailbox_id, folder_id, uid, modseq, flags, internal_date, size, sender, subject, raw, sha256)
      select f.mailbox_id, f.id, g, 1, '["\\\\Seen"]'::jsonb, now() - g * interval '1 second', 2,
             case when g = 1001 then 'last@bulk.example' else 'Many@Bulk.example' end, 'bulk ' || g, '\\x6869'::bytea, 'x'
      from folders f, generate_series(1, 1001) g where f.mailbox_id = ${mailbox.id}::uuid and f.role = 'inbox'`);
    await t.ctx.db.execute(sql`update folders set uid_next = 1002 where mailbox_id = ${mailbox.id}::uuid and role = 'inbox'`);
    await append(u, mail('amy@a.example', 'Plan B9 for Friday'));
    assert.match(await page(u, '/mail/'), /Inbox <span class="muted">\(1002\)<\/span>/, 'the folder itself is counted in full');
    assert.match(await page(u, '/mail/?q=bulk.EXAMPLE'), /Inbox <span class="muted">\(1000\+\)<\/span>/);
    assert.match(await page(u, '/mail/?q=many@'), /Inbox <span class="muted">\(1000\)<\/span>/, 'exactly the cap is no more than it');
    // two characters hold no trigram: the index cannot serve them, the folder is read
    const short = await page(u, '/mail/?q=b9');
    assert.match(short, /Inbox <span class="muted">\(1\)<\/span>/);
    assert.match(short, /Plan B9 for Friday/);
    assert.match(await page(u, '/mail/?q=n%20b9%20f'), /\(1\)/, 'a substring across words');
  });

  it('reads a message (marks it read), flags, moves and deletes it into Trash', async () => {
    const u = await user();
    const id = await append(u, mail('amy@a.example', 'Lunch?', 'Shall we meet at noon?'));
    const read = await page(u, `/mail/m/${id}`);
    assert.match(read, /<h1 id="msg-h">Lunch\?/);
    assert.match(read, /Shall we meet at noon\?/);
    assert.doesNotMatch(await page(u, '/mail/'), /class="unread"/);
    const flag = await u.web.post(`/mail/m/${id}/flag`, { on: '1' });
    assert.equal(flag.status, 303);
    assert.match(await page(u, '/mail/'), /aria-label="flagged"/);
    const moved = await u.web.post(`/mail/m/${id}/move`, { folder: 'Archive' });
    assert.equal(moved.status, 303);
    assert.match(await page(u, '/mail/folders/Archive'), /Lunch\?/);
    assert.match(await page(u, '/mail/'), /No messages here/);
    const newId = /\/mail\/m\/([^?]+)/.exec(moved.headers.get('location') ?? '')?.[1];
    assert.ok(newId);
    await u.web.get(`/mail/m/${newId}`);
    assert.equal((await u.web.post(`/mail/m/${newId}/move`, { folder: 'Trash', deleted: '1' })).status, 303);
    assert.match(await page(u, '/mail/folders/Trash'), /Lunch\?/);
  });

  it('shows HTML in a sandboxed frame without scripts, remote content only after asking', async () => {
    const u = await user();
    const raw = `From: amy@a.example\nTo: x@b.test\nSubject: Offer\nMIME-Version: 1.0\nContent-Type: text/html; charset=utf-8\n\n<p>Hi</p><img src="https://tracker.example/p.png"><script>parent.document.title='owned'</script>\n`;
    const id = await append(u, raw);
    const res = await u.web.get(`/mail/m/${id}`);
    const text = await res.text();
    const frame = /<iframe[^>]*>/.exec(text)?.[0] ?? '';
    assert.match(frame, /sandbox="allow-popups allow-popups-to-escape-sandbox"/);
    assert.doesNotMatch(frame, /allow-scripts|allow-same-origin/);
    assert.match(frame, /srcdoc="[^"]*Content-Security-Policy[^"]*img-src data:;/);
    assert.doesNotMatch(frame, /<script/); // escaped inside the attribute
    assert.match(text, /Show remote content/);
    const csp = res.headers.get('content-security-policy') ?? '';
    assert.match(csp, /img-src 'self' data:;/);
    assert.match(csp, /script-src 'nonce-/);
    const shown = await u.web.get(`/mail/m/${id}?remote=1`);
    assert.match(shown.headers.get('content-security-policy') ?? '', /img-src 'self' data: https: http:/);
    assert.match(/<iframe[^>]*>/.exec(await shown.text())?.[0] ?? '', /img-src data: https: http:/);
  });

  it('offers attachments as downloads, never rendered in our origin', async () => {
    const u = await user();
    const raw = `From: amy@a.example\nTo: x@b.test\nSubject: File\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nSee attached.\n--b\nContent-Type: text/html; name=x.html\nContent-Disposition: attachment; filename=x.html\nContent-Transfer-Encoding: base64\n\nPHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\n--b--\n`;
    const id = await append(u, raw);
    assert.match(await page(u, `/mail/m/${id}`), /x\.html/);
    const res = await u.web.get(`/mail/m/${id}/attachments/0`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/octet-stream');
    assert.match(res.headers.get('content-disposition') ?? '', /^attachment; filename\*=UTF-8''x\.html$/);
    assert.equal(await res.text(), '<script>alert(1)</script>');
    assert.equal((await u.web.get(`/mail/m/${id}/attachments/1`)).status, 404);
  });

  it('composes and sends (with an attachment), then shows each recipient queued with Retract and Edit, and retracts', async () => {
    const u = await user();
    assert.match(await page(u, '/mail/compose'), /<label for="to">To<\/label>[\s\S]*<label for="subject">Subject<\/label>[\s\S]*<label for="message">Message<\/label>[\s\S]*>Send<\/button>/);
    const form = new FormData();
    form.set('to', 'Amy <amy@a.example>, carl@b.test');
    form.set('subject', 'Plans');
    form.set('message', 'See you Friday.');
    form.set('attachments', new File(['a,b\n1,2\n'], 'plan.csv', { type: 'text/csv' }));
    const sent = await u.web.post('/mail/compose', {}, { multipart: form });
    assert.equal(sent.status, 303, await sent.clone().text());
    const where = sent.headers.get('location') ?? '';
    assert.match(where, /^\/mail\/sent\/[^?]+\?done=Sent\./);
    const id = /\/mail\/sent\/([^?]+)/.exec(where)![1];
    const status = await page(u, `/mail/sent/${id}`);
    assert.match(status, /amy@a\.example<\/span><span><span class="state state-queued">queued<\/span>/);
    assert.match(status, /carl@b\.test/);
    assert.match(status, />Retract<\/button>/);
    assert.match(status, />Edit<\/button>/);
    assert.match(status, /hx-trigger="every 2s"/);
    assert.match(await page(u, '/mail/sent'), /Plans/);
    assert.match(await page(u, `/mail/sent/${id}/recipients`), /^<section id="recipients"/);

    const edit = await page(u, `/mail/compose?edit=${id}`);
    assert.match(edit, /value="amy@a\.example, carl@b\.test" readonly/);
    assert.match(edit, /See you Friday\./);
    const edited = await u.web.post('/mail/compose', { edit: id, to: 'amy@a.example, carl@b.test', subject: 'Plans (new time)', message: 'Saturday instead.' });
    assert.equal(edited.status, 303, await edited.clone().text());
    assert.match(await page(u, `/mail/sent/${id}`), /Plans \(new time\)[\s\S]*version 2/);
    assert.match(edit, /Attachments kept: plan\.csv/);
    const after2 = await page(u, `/mail/compose?edit=${id}`);
    assert.match(after2, /Saturday instead\./);
    assert.match(after2, /Attachments kept: plan\.csv/, 'the edit kept the attachment');

    const retract = await u.web.post(`/mail/sent/${id}/retract`, {});
    assert.equal(retract.status, 303);
    const after = await page(u, `/mail/sent/${id}`);
    assert.match(after, /state-retracted">retracted/);
    assert.doesNotMatch(after, />Retract<\/button>|>Edit<\/button>|hx-trigger/);
  });

  it('refuses a send without a valid recipient on the form itself', async () => {
    const u = await user();
    const res = await u.web.post('/mail/compose', { to: 'not an address', subject: 'x', message: 'y' });
    assert.equal(res.status, 400);
    assert.match(await res.text(), /not a mail address/);
  });

  it('edits a message sent with Bcc: the form shows the Bcc recipients fixed, and they are offered the edited version, still unnamed', async () => {
    const u = await user();
    const sent = await u.web.post('/mail/compose', { to: 'amy@a.example', bcc: 'carl@b.test, Dora <dora@c.example>', subject: 'Party', message: 'Friday at 8.' });
    assert.equal(sent.status, 303, await sent.clone().text());
    const id = /\/mail\/sent\/([^?]+)/.exec(sent.headers.get('location') ?? '')![1];
    const form = await page(u, `/mail/compose?edit=${id}`);
    assert.match(form, /id="bcc" name="bcc" type="text" value="carl@b\.test, dora@c\.example" readonly/);
    // what a browser posts: every field of the form, the read-only ones as shown
    const shown = (name: string) => new RegExp(`name="${name}" type="text"[^>]*?value="([^"]*)"`).exec(form)![1];
    const edited = await u.web.post('/mail/compose', { edit: id, to: shown('to'), cc: shown('cc'), bcc: shown('bcc'), subject: 'Party (moved)', message: 'Saturday at 8.' });
    assert.equal(edited.status, 303, await edited.clone().text());
    assert.match(await page(u, `/mail/sent/${id}`), /Party \(moved\)[\s\S]*version 2[\s\S]*carl@b\.test[\s\S]*dora@c\.example/);
    for (const rcpt of ['amy@a.example', 'carl@b.test', 'dora@c.example']) assert.equal((await findDelivery(t.ctx.db, id, rcpt))?.version, 2, rcpt);
    const v2 = await findVersion(t.ctx.db, id, 2);
    const bytes = (await loadBody(t.ctx.db, v2!)).toString();
    assert.match(bytes, /Saturday at 8\./);
    assert.doesNotMatch(bytes, /carl|dora|^bcc:/im, 'Bcc recipients are in no header of the new version');
    assert.match(await page(u, `/mail/compose?edit=${id}`), /name="bcc" type="text" value="carl@b\.test, dora@c\.example" readonly/);
  });

  it('shows the form again with what was typed when the send is refused, and says attachments must be chosen again', async () => {
    const u = await user();
    // 1001 recipients: each list passes the form's check, the send refuses the total
    const to = Array.from({ length: 600 }, (_, i) => `t${i}@a.example`).join(', ');
    const bcc = Array.from({ length: 401 }, (_, i) => `b${i}@a.example`).join(', ');
    const form = new FormData();
    form.set('to', to);
    form.set('cc', 'cc@a.example');
    form.set('bcc', bcc);
    form.set('subject', 'Newsletter <March>');
    form.set('message', 'Long text I do not want to type again.');
    form.set('attachments', new File(['x'], 'flyer.pdf', { type: 'application/pdf' }));
    const res = await u.web.post('/mail/compose', {}, { multipart: form });
    assert.equal(res.status, 400);
    const text = await res.text();
    assert.match(text, /role="alert">at most 1000 recipients Your attachments were not kept: choose them again before sending\.</);
    assert.ok(text.includes(`id="to" name="to" type="text" autocomplete="email" value="${to}"`));
    assert.match(text, /id="cc" name="cc" type="text" value="cc@a\.example"/);
    assert.ok(text.includes(`id="bcc" name="bcc" type="text" value="${bcc}"`));
    assert.match(text, /value="Newsletter &lt;March&gt;"/);
    assert.match(text, /<textarea id="message" name="message">Long text I do not want to type again\.<\/textarea>/);
    assert.match(await page(u, '/mail/sent'), /Nothing sent yet/);
  });

  it('shows the edit form again with the new text when the edit is refused (retracted meanwhile), without a word about attachments', async () => {
    const u = await user();
    const sent = await u.web.post('/mail/compose', { to: 'amy@a.example', subject: 'Offer', message: 'Old price.' });
    const id = /\/mail\/sent\/([^?]+)/.exec(sent.headers.get('location') ?? '')![1];
    await page(u, `/mail/compose?edit=${id}`);
    // retracted in another tab before the edit is sent
    assert.equal((await u.web.post(`/mail/sent/${id}/retract`, {})).status, 303);
    const res = await u.web.post('/mail/compose', { edit: id, to: 'amy@a.example', cc: '', bcc: '', subject: 'Offer (new)', message: 'New price.' });
    assert.equal(res.status, 409);
    const text = await res.text();
    assert.match(text, /role="alert">every recipient has fetched \(or refused\) this message</);
    assert.doesNotMatch(text, /attachments were not kept/);
    assert.match(text, /<h1 id="compose-h">Edit sent message<\/h1>/);
    assert.match(text, new RegExp(`name="edit" value="${id}"`));
    assert.match(text, /value="Offer \(new\)"[\s\S]*>New price\.<\/textarea>/);
  });

  it('prefills reply and forward', async () => {
    const u = await user();
    const id = await append(u, mail('amy@a.example', 'Question', 'Are you coming?'));
    const reply = await page(u, `/mail/compose?reply=${id}`);
    assert.match(reply, /id="to" name="to" type="text" autocomplete="email" value="amy@a\.example"/);
    assert.match(reply, /value="Re: Question"/);
    assert.match(reply, /&gt; Are you coming\?/);
    assert.match(await page(u, `/mail/compose?forward=${id}`), /value="Fwd: Question"[\s\S]*Forwarded message/);
  });

  it('shows a held request with its sender, subject and size, and Accept, Reject, Block decide it', async () => {
    const u = await user();
    const held = async (subject: string) => {
      const id = `r${++seq}`;
      const jws = await signNotification(t.ctx.keys, {
        iss: 'a.test', aud: 'b.test', kind: 'new',
        msg: { id, from: `stranger${seq}@a.test`, rcpt: u.address, version: 1, size: 2048, sha256: sha256b64url('x'), sent_at: seconds(t.ctx), subject },
        fetch: { url: `${t.ctx.publicUrl}/pm/v1/messages/${id}`, cap: 'cap' },
      } as never, seconds(t.ctx));
      const res = await t.request('/pm/v1/notify', { method: 'POST', headers: { 'content-type': 'application/jose' }, body: jws });
      assert.equal(((await res.json()) as { decision: string }).decision, 'hold');
    };
    await held('Hello from a stranger');
    await held('Second try');
    const list = await page(u, '/mail/requests');
    assert.match(list, /Hello from a stranger/);
    assert.match(list, /verified: signed by a\.test/);
    assert.match(list, /2 KB/);
    for (const b of ['Accept', 'Reject', 'Block']) assert.ok(list.includes(`>${b}</button>`), b);
    const ids = [...list.matchAll(/action="\/mail\/requests\/([^/]+)\/reject"/g)].map((m) => m[1]);
    assert.equal(ids.length, 2);
    assert.equal((await u.web.post(`/mail/requests/${ids[0]}/reject`, {})).status, 303);
    assert.equal((await u.web.post(`/mail/requests/${ids[1]}/block`, {})).status, 303);
    assert.match(await page(u, '/mail/requests'), /No one is waiting/);
    assert.match(await page(u, '/mail/rules'), /stranger\d+@a\.test<\/td><td>block/);
  });

  it('adds and removes rules', async () => {
    const u = await user();
    assert.equal((await u.web.post('/mail/rules', { pattern: '@Shop.Example', action: 'allow' })).status, 303);
    const list = await page(u, '/mail/rules');
    assert.match(list, /@shop\.example<\/td><td>allow/);
    const id = /action="\/mail\/rules\/([^/]+)\/delete"/.exec(list)![1];
    assert.equal((await u.web.post(`/mail/rules/${id}/delete`, {})).status, 303);
    assert.match(await page(u, '/mail/rules'), /No rules yet/);
    assert.equal((await u.web.post('/mail/rules', { pattern: 'nonsense', action: 'allow' })).status, 400);
  });

  it('creates a consent token shown once, lists its uses left, revokes it', async () => {
    const u = await user();
    const res = await u.web.post('/mail/consent-tokens', { sender: '@shop.example', max_uses: '5', days: '30' });
    assert.equal(res.status, 201);
    const text = await res.text();
    const token = /<p class="token" id="new-token">([^<]+)<\/p>/.exec(text)?.[1];
    assert.ok(token && token.split('.').length === 3, 'a JWS');
    assert.match(text, /5 of 5/);
    const list = await page(u, '/mail/consent-tokens');
    assert.ok(!list.includes(token), 'shown only once');
    const id = /action="\/mail\/consent-tokens\/([^/]+)\/revoke"/.exec(list)![1];
    assert.equal((await u.web.post(`/mail/consent-tokens/${id}/revoke`, {})).status, 303);
    assert.match(await page(u, '/mail/consent-tokens'), /<td>revoked<\/td>/);
  });

  it('changes the first-contact mode and the challenge question', async () => {
    const u = await user();
    assert.match(await page(u, '/mail/settings'), /id="fc-hold" name="first_contact" value="hold" checked/);
    assert.equal((await u.web.post('/mail/settings', { first_contact: 'challenge', challenge_question: '' })).status, 400);
    assert.equal((await u.web.post('/mail/settings', { first_contact: 'challenge', challenge_question: 'Name of my cat?', challenge_answer: 'Tom' })).status, 303);
    const s = await page(u, '/mail/settings');
    assert.match(s, /value="challenge" checked/);
    assert.match(s, /value="Name of my cat\?"/);
    assert.equal((await u.web.post('/mail/settings', { first_contact: 'fetch', challenge_question: '' })).status, 303);
    assert.match(await page(u, '/mail/settings'), /value="fetch" checked[\s\S]*id="question"[^>]*value=""/);
  });

  it('takes a NUL in a subject, a challenge question or a search as U+FFFD; a folder or sent message named with one is a 404 page', async () => {
    const u = await user();
    const sent = await u.web.post('/mail/compose', { to: 'amy@a.example', subject: 'a\u0000b', message: 'x' });
    assert.equal(sent.status, 303, await sent.clone().text());
    const id = /\/mail\/sent\/([^?]+)/.exec(sent.headers.get('location') ?? '')![1];
    assert.match(await page(u, `/mail/sent/${id}`), /a\uFFFDb/);
    assert.equal((await u.web.post('/mail/settings', { first_contact: 'challenge', challenge_question: 'c\u0000d?', challenge_answer: 'e' })).status, 303);
    assert.match(await page(u, '/mail/settings'), /value="c\uFFFDd\?"/);
    await append(u, mail('amy@a.example', 'Null search'));
    assert.match(await page(u, '/mail/?q=a%00b'), /No message matches/);
    for (const path of ['/mail/folders/a%00b', '/mail/sent/a%00b']) {
      const res = await u.web.get(path);
      assert.equal(res.status, 404, path);
      assert.match(await res.text(), /<h1>Not found<\/h1>/, path);
    }
  });

  it('shows errors as pages: an unknown message is a 404 page, not JSON', async () => {
    const u = await user();
    const res = await u.web.get('/mail/m/00000000-0000-0000-0000-000000000000');
    assert.equal(res.status, 404);
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(await res.text(), /<h1>Not found<\/h1>/);
  });
});
