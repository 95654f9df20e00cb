// Reading a message: its header, its text, its HTML in a sandboxed frame, its attachments; and what
// can be done to it (flag, mark unread, move, delete, reply, forward). A held request reads as its
// summary, decided on the Requests screen.
//
// The HTML is the sender's and hostile until shown otherwise: it goes into an <iframe srcdoc> with
// `sandbox` (no allow-scripts, no allow-same-origin: no script runs, and the frame is an origin of
// its own) and a CSP <meta> of its own that allows no remote load; the srcdoc document also inherits
// this page's CSP. Remote images load only after the user clicks "Show remote content".
import type { Hono } from 'hono';
import { html } from 'hono/html';
import type { AppContext } from '../../context.ts';
import { listFolders } from '../../mailbox/folders.ts';
import { readAttachment, readParsed } from '../../mailbox/read.ts';
import { deleteMessage } from '../../mailbox/remove.ts';
import { updateMessage } from '../../mailbox/update.ts';
import { contentSecurityPolicy } from '../csp.ts';
import { csrfField, field } from '../csrf.ts';
import { formatSize } from '../layout.ts';
import { folderHref, navBadges } from './folders.ts';
import { MAIL, mailPage, seeOther, type MailEnv } from './frame.ts';

/** The document of the message frame: the sender's HTML under a policy that loads nothing remote unless `remote`. */
export function frameDocument(body: string, remote: boolean): string {
  const policy = `default-src 'none'; style-src 'unsafe-inline'; font-src data:; img-src data:${remote ? ' https: http:' : ''}; form-action 'none'; base-uri 'none'`;
  return `<!doctype html><html><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="${policy}">`
    + '<base target="_blank"><style>body{font:15px/1.5 system-ui,sans-serif;color:#1d2330;margin:12px;overflow-wrap:anywhere}img{max-width:100%;height:auto}</style>'
    + `</head><body>${body}</body></html>`;
}

/**
 * Whether message HTML refers to anything remote (the "Show remote content" notice). No two optional
 * parts may match the same text, so the test stays linear on whatever a sender puts between them.
 */
export const REMOTE_REFERENCE = /\b(?:src|href|background|srcset)\s*=\s*(?:["']\s*)?(?:https?:)?\/\/|url\(\s*(?:["']\s*)?(?:https?:)?\/\//i;

const header = (headers: { name: string; value: string }[], name: string) => headers.find((h) => h.name.toLowerCase() === name)?.value ?? '';

export function messageRoutes(app: Hono<MailEnv>, ctx: AppContext): void {
  app.get('/m/:id', async (c) => {
    const mailbox = c.get('mailbox');
    const id = c.req.param('id');
    const remote = c.req.query('remote') === '1';
    const { entry, parsed } = await readParsed(ctx, mailbox, id);
    // after the read, so the unread counts already leave this message out
    const folders = await listFolders(ctx, mailbox);
    const flagged = entry.flags.includes('\\Flagged');
    const isRequest = entry.role === 'requests';
    const hasRemote = parsed.html !== undefined && REMOTE_REFERENCE.test(parsed.html);
    // Delete moves to Trash, as mail clients do; in Trash it removes for good
    const trash = folders.find((f) => f.role === 'trash');
    const targets = folders.filter((f) => f.name !== entry.folder && f.role !== 'requests');
    const post = (action: string, label: string, extra: unknown = '', cls = '') => html`<form method="post" action="${MAIL}/m/${entry.id}/${action}" class="inline">${csrfField(c.get('csrf'))}${extra}<button type="submit"${cls ? html` class="${cls}"` : ''}>${label}</button></form>`;
    const actions = isRequest
      ? html`<p><a class="button primary" href="${MAIL}/requests">Decide on the Requests screen</a></p>`
      : html`<div class="row actions" role="group" aria-label="Message actions">
<a class="button" href="${MAIL}/compose?reply=${entry.id}">Reply</a><a class="button" href="${MAIL}/compose?forward=${entry.id}">Forward</a>
${post('flag', flagged ? 'Unflag' : 'Flag', html`<input type="hidden" name="on" value="${flagged ? '0' : '1'}">`)}
${post('unread', 'Mark unread')}
<form method="post" action="${MAIL}/m/${entry.id}/move" class="inline row">${csrfField(c.get('csrf'))}<label for="move-to">Move to</label>
<select id="move-to" name="folder">${targets.map((f) => html`<option value="${f.name}">${f.role === 'inbox' ? 'Inbox' : f.name}</option>`)}</select><button type="submit">Move</button></form>
${trash && entry.role !== 'trash'
    ? html`<form method="post" action="${MAIL}/m/${entry.id}/move" class="inline">${csrfField(c.get('csrf'))}<input type="hidden" name="folder" value="${trash.name}"><input type="hidden" name="deleted" value="1"><button type="submit" class="danger">Delete</button></form>`
    : post('delete', 'Delete for good', '', 'danger')}</div>`;
    const htmlPart = parsed.html === undefined ? '' : html`
${hasRemote && !remote ? html`<p class="notice">Remote content in this message is blocked, so the sender cannot see that you read it. <a href="${MAIL}/m/${entry.id}?remote=1">Show remote content</a></p>` : ''}
<iframe class="html" title="Message content" sandbox="allow-popups allow-popups-to-escape-sandbox" referrerpolicy="no-referrer" srcdoc="${frameDocument(parsed.html, remote)}"></iframe>`;
    const textPart = parsed.html === undefined || !parsed.text ? html`<pre class="text">${parsed.text ?? ''}</pre>` : html`<details><summary>Plain text</summary><pre class="text">${parsed.text}</pre></details>`;
    const attachments = parsed.attachments.length
      ? html`<h2>Attachments</h2><ul class="attachments">${parsed.attachments.map((a, i) => html`<li><a href="${MAIL}/m/${entry.id}/attachments/${i}" download="${a.filename || `attachment-${i + 1}`}">${a.filename || `attachment ${i + 1}`} <span class="muted">(${formatSize(a.size)})</span></a></li>`)}</ul>`
      : '';
    const body = html`<article class="card" aria-labelledby="msg-h">
<p><a href="${folderHref(entry.folder)}">← ${entry.role === 'inbox' ? 'Inbox' : entry.folder}</a></p>
<h1 id="msg-h">${entry.subject || '(no subject)'}${flagged ? html` <span class="flag" role="img" aria-label="flagged">★</span>` : ''}</h1>
<dl class="headers"><dt>From</dt><dd>${header(parsed.headers, 'from') || entry.sender}</dd>
${header(parsed.headers, 'to') ? html`<dt>To</dt><dd>${header(parsed.headers, 'to')}</dd>` : ''}
${header(parsed.headers, 'cc') ? html`<dt>Cc</dt><dd>${header(parsed.headers, 'cc')}</dd>` : ''}
<dt>Date</dt><dd><time datetime="${entry.internalDate.toISOString()}">${entry.internalDate.toUTCString()}</time></dd></dl>
${actions}<hr>${htmlPart}${textPart}${attachments}</article>`;
    const res = await c.html(mailPage(c, { title: entry.subject || '(no subject)', body, badges: await navBadges(ctx, c, folders) }));
    // the frame's srcdoc inherits this page's policy: it needs inline styles, and remote images once asked
    res.headers.set('content-security-policy', contentSecurityPolicy(c.get('nonce'), { inlineStyles: true, remoteImages: remote }));
    return res;
  });

  app.get('/m/:id/attachments/:n{[0-9]+}', async (c) => {
    const a = await readAttachment(ctx, c.get('mailbox'), c.req.param('id'), Number(c.req.param('n')));
    // always a download, never rendered in our origin (an HTML attachment would run as our page)
    return c.body(new Uint8Array(a.content), 200, {
      'content-type': 'application/octet-stream',
      'content-disposition': `attachment; filename*=UTF-8''${encodeURIComponent(a.filename.replace(/[\uD800-\uDFFF]/gu, '\uFFFD'))}`,
      'content-length': String(a.content.length),
    });
  });

  app.post('/m/:id/flag', async (c) => {
    const on = field(c.get('form'), 'on') === '1';
    const id = await updateMessage(ctx, c.get('mailbox'), c.req.param('id'), { flags: on ? { add: ['\\Flagged'] } : { remove: ['\\Flagged'] } });
    return seeOther(c, `${MAIL}/m/${id}`, on ? 'Flagged.' : 'Flag removed.');
  });

  app.post('/m/:id/unread', async (c) => {
    const mailbox = c.get('mailbox');
    const id = c.req.param('id');
    await updateMessage(ctx, mailbox, id, { flags: { remove: ['\\Seen'] } });
    return seeOther(c, `${MAIL}/`, 'Marked unread.');
  });

  app.post('/m/:id/move', async (c) => {
    const form = c.get('form');
    const folder = field(form, 'folder');
    const id = await updateMessage(ctx, c.get('mailbox'), c.req.param('id'), { folder });
    if (field(form, 'deleted') === '1') return seeOther(c, `${MAIL}/`, `Moved to ${folder}.`);
    return seeOther(c, `${MAIL}/m/${id}`, `Moved to ${folder === 'INBOX' ? 'Inbox' : folder}.`);
  });

  app.post('/m/:id/delete', async (c) => {
    await deleteMessage(ctx, c.get('mailbox'), c.req.param('id'));
    return seeOther(c, `${MAIL}/`, 'Message deleted.');
  });
}
