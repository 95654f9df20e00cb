// Folder screens: Inbox at /mail/ and every other folder at /mail/folders/<name>; newest first, 50 a
// page (keyset cursor), search by sender or subject, unread in bold, flagged starred.
import type { Hono } from 'hono';
import { html } from 'hono/html';
import type { AppContext } from '../../context.ts';
import { listFolders } from '../../mailbox/folders.ts';
import { listMessages } from '../../mailbox/list.ts';
import { encodeCursor, parsePage } from '../../http/pagination.ts';
import { formatDate, formatSize } from '../layout.ts';
import { MAIL, mailPage, type MailContext, type MailEnv } from './frame.ts';

export const PAGE_SIZE = 50;

export const folderHref = (name: string) => (name === 'INBOX' ? `${MAIL}/` : `${MAIL}/folders/${name.split('/').map(encodeURIComponent).join('/')}`);

/** Unread counts for the nav badges (Inbox, Requests). */
export async function navBadges(ctx: AppContext, c: MailContext, folders?: Awaited<ReturnType<typeof listFolders>>): Promise<Record<string, number>> {
  const list = folders ?? (await listFolders(ctx, c.get('mailbox')));
  const unseen = (role: string) => list.find((f) => f.role === role)?.unseen ?? 0;
  const requests = list.find((f) => f.role === 'requests')?.total ?? 0;
  return { Inbox: unseen('inbox'), Requests: requests };
}

async function folderScreen(ctx: AppContext, c: MailContext, name: string) {
  const mailbox = c.get('mailbox');
  const q = (c.req.query('q') ?? '').slice(0, 200);
  const page = parsePage({ cursor: c.req.query('cursor') }, PAGE_SIZE);
  page.limit = PAGE_SIZE;
  const [folders, list] = await Promise.all([listFolders(ctx, mailbox), listMessages(ctx, mailbox, name, { ...page, search: q })]);
  const { folder, entries, total, isTotalCapped, last } = list;
  const title = folder.role === 'inbox' ? 'Inbox' : folder.name;
  const here = folderHref(folder.name);
  const now = new Date(ctx.now());
  // the nav already links Inbox, Requests and Sent; repeating their names here would confuse screen
  // readers (and tests) looking for one "Inbox" link
  const others = folders.filter((f) => !['inbox', 'requests', 'sent'].includes(f.role ?? ''));
  const sidebar = html`<nav class="folders card" aria-label="Folders"><h2 class="visually-hidden">Folders</h2><ul>${others.map((f) => html`<li><a href="${folderHref(f.name)}"${f.name === folder.name ? html` aria-current="page"` : ''}><span>${f.name}</span>${f.unseen ? html`<span class="muted">${f.unseen}</span>` : ''}</a></li>`)}</ul></nav>`;
  const next = last ? `${here}?${new URLSearchParams({ ...(q ? { q } : {}), cursor: encodeCursor(last.internalDate, last.id) })}` : undefined;
  const rows = entries.map((e) => {
    const unread = !e.flags.includes('\\Seen');
    const flagged = e.flags.includes('\\Flagged');
    const href = folder.role === 'sent' && e.messageId ? `${MAIL}/sent/${e.messageId}` : `${MAIL}/m/${e.id}`;
    return html`<tr class="${unread ? 'unread' : ''}"><td class="from">${e.sender || '(unknown sender)'}</td>
<td class="subject"><a href="${href}">${e.subject || '(no subject)'}</a>${unread ? html` <span class="visually-hidden">(unread)</span>` : ''}${flagged ? html` <span class="flag" role="img" aria-label="flagged">★</span>` : ''}</td>
<td class="when"><time datetime="${e.internalDate.toISOString()}">${formatDate(e.internalDate, now)}</time></td><td class="size">${formatSize(e.size)}</td></tr>`;
  });
  const body = html`<div class="layout">${sidebar}<section class="card" aria-labelledby="folder-h">
<div class="toolbar"><h1 id="folder-h">${title} <span class="muted">(${total}${isTotalCapped ? '+' : ''})</span></h1>
<form method="get" action="${here}" role="search"><label class="visually-hidden" for="q">Search sender or subject</label><input id="q" name="q" type="search" value="${q}" placeholder="Search sender or subject"><button type="submit">Search</button></form></div>
${entries.length ? html`<table class="list"><caption class="visually-hidden">Messages in ${title}</caption><thead><tr><th scope="col">From</th><th scope="col">Subject</th><th scope="col" class="when">Date</th><th scope="col" class="size">Size</th></tr></thead><tbody>${rows}</tbody></table>` : html`<p class="empty">${q ? 'No message matches.' : 'No messages here.'}</p>`}
<div class="pager">${page.cursor ? html`<a href="${q ? `${here}?q=${encodeURIComponent(q)}` : here}">Newest</a>` : html`<span></span>`}${next ? html`<a href="${next}" rel="next">Older messages</a>` : ''}</div>
</section></div>`;
  return mailPage(c, { title, current: folder.role === 'inbox' ? `${MAIL}/` : undefined, body, badges: await navBadges(ctx, c, folders) });
}

export function folderRoutes(app: Hono<MailEnv>, ctx: AppContext): void {
  app.get('/', async (c) => c.html(await folderScreen(ctx, c, 'INBOX')));
  app.get('/folders/:name{.+}', async (c) => c.html(await folderScreen(ctx, c, c.req.param('name'))));
}
