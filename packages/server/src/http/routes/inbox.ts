// The user's inbox (docs/operator.md): the INBOX folder of the mailbox model, listed, read (parsed or
// as exact bytes) and deleted. The folder-wide API is in folders.ts; both call the mailbox use cases.
import type { InboxEntry, InboxList, ParsedMessage } from '@pullmail/client/wire';
import { Hono } from 'hono';
import type { AppContext } from '../../context.ts';
import { listMessages } from '../../mailbox/list.ts';
import { readParsed, readRaw } from '../../mailbox/read.ts';
import { deleteMessage } from '../../mailbox/remove.ts';
import type { Entry } from '../../store/folders.ts';
import { chunkStream } from '../body-stream.ts';
import type { UserEnv } from '../middleware/auth.ts';
import { encodeCursor, parsePage } from '../pagination.ts';

export function inboxEntry(e: Entry): InboxEntry {
  return { id: e.id, from: e.sender, subject: e.subject, received_at: e.internalDate.toISOString(), size: e.size, via: e.via ?? 'pm1', flags: e.flags };
}

export function inboxRoutes(ctx: AppContext): Hono<UserEnv> {
  const app = new Hono<UserEnv>();
  const inboxOnly = { folderRole: 'inbox' } as const;

  app.get('/inbox', async (c) => {
    const { entries, total, last } = await listMessages(ctx, c.get('mailbox'), 'INBOX', parsePage(c.req.query()));
    const body: InboxList = { messages: entries.map(inboxEntry), total, ...(last ? { cursor: encodeCursor(last.internalDate, last.id) } : {}) };
    return c.json(body);
  });

  app.get('/inbox/:id/raw', async (c) => {
    const { size, chunks } = await readRaw(ctx, c.get('mailbox'), c.req.param('id'), inboxOnly);
    return c.body(chunkStream(ctx, chunks()), 200, { 'content-type': 'message/rfc822', 'content-length': String(size) });
  });

  app.get('/inbox/:id', async (c) => {
    const { entry, parsed } = await readParsed(ctx, c.get('mailbox'), c.req.param('id'), inboxOnly);
    const body: ParsedMessage = { ...inboxEntry(entry), ...parsed };
    return c.json(body);
  });

  app.delete('/inbox/:id', async (c) => {
    await deleteMessage(ctx, c.get('mailbox'), c.req.param('id'), inboxOnly);
    return c.body(null, 204);
  });
  return app;
}
