// Compose, reply, forward and edit. The form posts to /mail/compose as multipart (attachments); the
// handler builds the API's JSON send from it and calls delivery/send.ts, or delivery/edit.ts when it
// edits a sent message (recipients fixed, as protocol §5 wants: To, Cc and Bcc go back as they were).
// A send the form's check or the use case refuses shows the form again with what was typed.
import type { Hono } from 'hono';
import { html } from 'hono/html';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import addressparser from 'nodemailer/lib/addressparser';
import type { AppContext } from '../../context.ts';
import { editMessage } from '../../delivery/edit.ts';
import { sendMessage } from '../../delivery/send.ts';
import { sentMessageContent } from '../../delivery/sent-status.ts';
import { PullmailError } from '../../errors.ts';
import { sendSchema, type SendInput } from '../../mail/compose.ts';
import { readAttachment, readParsed } from '../../mailbox/read.ts';
import type { Mailbox } from '../../store/mailboxes.ts';
import { csrfField, field, files } from '../csrf.ts';
import { pageError } from '../page-error.ts';
import { MAIL, mailPage, seeOther, type MailContext, type MailEnv } from './frame.ts';

interface Draft {
  to: string;
  cc: string;
  bcc: string;
  subject: string;
  text: string;
  /** Editing this sent message (recipients fixed). */
  edit?: string;
  /** Forwarding this message: its attachments go along. */
  forwardOf?: string;
  /** Names of the attachments that go along (forwarded, or kept by an edit). */
  forwardAttachments?: string[];
}

/** "Amy <amy@a.example>, bob@b.example" → the bare addresses; what is not an address is kept for the schema to refuse. */
export function parseAddresses(text: string): string[] {
  // addressparser drops control characters, so `a\0b@x` would go to ab@x: such a list is split as
  // typed instead, and the schema refuses the piece that is no address
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x08\x0a-\x1f\x7f]/.test(text)) return text.split(',').map((a) => a.trim()).filter(Boolean);
  const out: string[] = [];
  const walk = (list: ReturnType<typeof addressparser>) => {
    for (const a of list) {
      if ('group' in a && a.group) walk(a.group);
      else if (a.address) {
        out.push(a.address);
        // `x@a y@b` parses as y@b naming x@a: the second recipient was typed too
        if (a.name?.includes('@')) out.push(...a.name.split(/[\s,;]+/).filter((w) => w.includes('@')));
      } else if (a.name) out.push(a.name);
    }
  };
  walk(addressparser(text));
  return out;
}

type Attachment = NonNullable<SendInput['attachments']>[number];

/** An attachment as the API's JSON send takes it: one-line filename, a plain type/subtype, base64. */
function asAttachment(filename: string, contentType: string, content: Buffer): Attachment {
  return { filename: filename.replace(/[\r\n]/g, ' ') || 'attachment', contentType: /^[\w.+-]+\/[\w.+-]+$/.test(contentType) ? contentType : 'application/octet-stream', content: content.toString('base64') };
}

const prefixed = (prefix: string, subject: string) => (subject.toLowerCase().startsWith(prefix.toLowerCase()) ? subject : `${prefix} ${subject}`);
const quote = (text: string) => text.split(/\r?\n/).map((l) => `> ${l}`).join('\n');

function composeScreen(c: MailContext, d: Draft, error?: string) {
  const editing = d.edit !== undefined;
  const title = editing ? 'Edit sent message' : d.forwardOf ? 'Forward' : 'Compose';
  const fixed = editing ? html` readonly aria-describedby="fixed-note"` : '';
  const body = html`<section class="card" aria-labelledby="compose-h"><h1 id="compose-h">${title}</h1>
${editing ? html`<p class="muted" id="fixed-note">Recipients who have not fetched the message yet get this version instead; the recipients themselves cannot change.</p>` : ''}
<form method="post" action="${MAIL}/compose" enctype="multipart/form-data" class="stack">${csrfField(c.get('csrf'))}
${editing ? html`<input type="hidden" name="edit" value="${d.edit}">` : ''}
${d.forwardOf ? html`<input type="hidden" name="forward_of" value="${d.forwardOf}">` : ''}
<label for="to">To</label><input id="to" name="to" type="text" autocomplete="email" value="${d.to}"${fixed} ${editing ? '' : html`required`}>
<div class="grid2"><div class="stack"><label for="cc">Cc</label><input id="cc" name="cc" type="text" value="${d.cc}"${fixed}></div>
<div class="stack"><label for="bcc">Bcc</label><input id="bcc" name="bcc" type="text" value="${d.bcc}"${fixed}></div></div>
<label for="subject">Subject</label><input id="subject" name="subject" type="text" maxlength="998" value="${d.subject}">
<label for="message">Message</label><textarea id="message" name="message">${d.text}</textarea>
${d.forwardAttachments?.length ? html`<p class="muted">${editing ? 'Attachments kept' : 'Forwarded with'}: ${d.forwardAttachments.join(', ')}</p>` : ''}
${editing ? '' : html`<label for="attachments">Attachments</label><input id="attachments" name="attachments" type="file" multiple>`}
<div class="row"><button type="submit" class="primary">Send</button><a href="${editing ? `${MAIL}/sent/${d.edit}` : `${MAIL}/`}">Cancel</a></div>
</form></section>`;
  return mailPage(c, { title, current: editing ? `${MAIL}/sent` : `${MAIL}/compose`, body, flash: error ? { kind: 'error', text: error } : undefined });
}

export function composeRoutes(app: Hono<MailEnv>, ctx: AppContext): void {
  const log = ctx.log.child({ sub: 'web' });
  app.get('/compose', async (c) => {
    const mailbox = c.get('mailbox');
    const { reply, forward, edit, to } = c.req.query();
    if (edit) {
      const m = await sentMessageContent(ctx, mailbox, edit);
      return c.html(composeScreen(c, { to: m.to.join(', '), cc: m.cc.join(', '), bcc: m.bcc.join(', '), subject: m.subject, text: m.text, edit, forwardAttachments: m.attachments.map((a) => a.filename) }));
    }
    const source = reply ?? forward;
    if (source) {
      const { entry, parsed } = await readParsed(ctx, mailbox, source, { peek: true });
      const head = (name: string) => parsed.headers.find((h) => h.name.toLowerCase() === name)?.value ?? '';
      if (reply) {
        const replyTo = parseAddresses(head('reply-to'))[0] ?? entry.sender;
        return c.html(composeScreen(c, { to: replyTo, cc: '', bcc: '', subject: prefixed('Re:', entry.subject), text: `\n\nOn ${entry.internalDate.toUTCString()}, ${entry.sender} wrote:\n${quote(parsed.text ?? '')}\n` }));
      }
      const fwd = `\n\n---------- Forwarded message ----------\nFrom: ${head('from') || entry.sender}\nDate: ${entry.internalDate.toUTCString()}\nSubject: ${entry.subject}\nTo: ${head('to')}\n\n${parsed.text ?? ''}\n`;
      return c.html(composeScreen(c, { to: '', cc: '', bcc: '', subject: prefixed('Fwd:', entry.subject), text: fwd, forwardOf: entry.id, forwardAttachments: parsed.attachments.map((a) => a.filename || 'attachment') }));
    }
    return c.html(composeScreen(c, { to: to ?? '', cc: '', bcc: '', subject: '', text: '' }));
  });

  app.post('/compose', async (c) => {
    const mailbox = c.get('mailbox');
    const form = c.get('form');
    const edit = field(form, 'edit') || undefined;
    const forwardOf = field(form, 'forward_of') || undefined;
    const d: Draft = { to: field(form, 'to'), cc: field(form, 'cc'), bcc: field(form, 'bcc'), subject: field(form, 'subject'), text: field(form, 'message'), edit, forwardOf };
    const uploads = files(form, 'attachments');
    const attachments: Attachment[] = [];
    for (const f of uploads) {
      attachments.push(asAttachment(f.name, f.type, Buffer.from(await f.arrayBuffer())));
    }
    // an edit keeps the attachments of the version it replaces (the form edits the text only)
    const carried = edit ? (await sentMessageContent(ctx, mailbox, edit)).attachments : forwardOf ? await forwarded(ctx, mailbox, forwardOf) : [];
    attachments.push(...carried.map((a) => asAttachment(a.filename, a.contentType, a.content)));
    d.forwardAttachments = carried.map((a) => a.filename);
    // refused: the form again with what the user typed; a browser cannot be handed back the files it uploaded
    const refused = (status: ContentfulStatusCode, text: string) =>
      c.html(composeScreen(c, d, uploads.length ? `${text} Your attachments were not kept: choose them again before sending.` : text), status);
    const input = sendSchema.safeParse({
      to: parseAddresses(d.to), cc: parseAddresses(d.cc), bcc: parseAddresses(d.bcc), subject: d.subject.replace(/\r?\n/g, ' '), text: d.text,
      ...(attachments.length ? { attachments } : {}),
    });
    if (!input.success) {
      const issue = input.error.issues[0];
      const where = issue.path.length ? `${String(issue.path[0])}: ` : '';
      return refused(400, `${where}${issue.message}`);
    }
    try {
      if (edit) {
        await editMessage(ctx, mailbox, edit, { json: input.data });
        return seeOther(c, `${MAIL}/sent/${edit}`, 'Your changes are on their way.');
      }
      const sent = await sendMessage(ctx, mailbox, { json: input.data });
      return seeOther(c, `${MAIL}/sent/${sent.id}`, 'Sent.');
    } catch (err) {
      if (!(err instanceof PullmailError)) throw err;
      const e = pageError(c, err, log);
      const res = await refused(e.status, e.text);
      if (e.retryAfter) res.headers.set('retry-after', e.retryAfter);
      return res;
    }
  });
}

/** The attachments of a received message, for a forward. */
async function forwarded(ctx: AppContext, mailbox: Mailbox, id: string) {
  const { parsed } = await readParsed(ctx, mailbox, id, { peek: true });
  const out: Awaited<ReturnType<typeof readAttachment>>[] = [];
  for (let i = 0; i < parsed.attachments.length; i++) out.push(await readAttachment(ctx, mailbox, id, i));
  return out;
}
