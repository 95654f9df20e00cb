// The user's inbox: list, parsed read, exact bytes, delete.
import type { InboxEntry, InboxList, ParsedMessage, Via } from '@pullmail/client/wire';
import { Hono } from 'hono';
import { simpleParser } from 'mailparser';
import type { AppContext } from '../../context.ts';
import { PullmailError } from '../../errors.ts';
import { loadBody, NO_BODY } from '../../store/bodies.ts';
import { countByState, findOwnInbound, listByState, updateInbound, type InboundRow } from '../../store/inbound.ts';
import { bodyStream } from '../body-stream.ts';
import type { UserEnv } from '../middleware/auth.ts';
import { encodeCursor, parsePage } from '../pagination.ts';

export function inboxEntry(r: Pick<InboundRow, 'id' | 'sender' | 'subject' | 'receivedAt' | 'size' | 'via'>): InboxEntry {
  return { id: r.id, from: r.sender, subject: r.subject, received_at: r.receivedAt.toISOString(), size: r.size, via: r.via as Via };
}

export function inboxRoutes(ctx: AppContext): Hono<UserEnv> {
  const app = new Hono<UserEnv>();
  const own = async (mailboxId: string, id: string) => {
    const row = await findOwnInbound(ctx.db, mailboxId, id, 'stored');
    if (!row || (!row.raw && !row.blobId)) throw new PullmailError('not_found', 'no such message in your inbox');
    return row;
  };

  app.get('/inbox', async (c) => {
    const mailboxId = c.get('mailbox').id;
    const page = parsePage(c.req.query());
    const rows = await listByState(ctx.db, mailboxId, 'stored', page.limit, page.cursor);
    const last = rows.length === page.limit ? rows[rows.length - 1] : undefined;
    const body: InboxList = {
      messages: rows.map(inboxEntry),
      total: await countByState(ctx.db, mailboxId, 'stored'),
      ...(last ? { cursor: encodeCursor(last.receivedAt, last.id) } : {}),
    };
    return c.json(body);
  });

  app.get('/inbox/:id/raw', async (c) => {
    const row = await own(c.get('mailbox').id, c.req.param('id'));
    return c.body(bodyStream(ctx, row), 200, { 'content-type': 'message/rfc822', 'content-length': String(row.size) });
  });

  app.get('/inbox/:id', async (c) => {
    const row = await own(c.get('mailbox').id, c.req.param('id'));
    const parsed = await simpleParser(await loadBody(ctx.db, row), { skipImageLinks: true, skipTextToHtml: true }).catch((err: unknown) => {
      // mailparser stops at 1000 MIME parts or 1 MiB of header in one part; the bytes are still readable
      if ((err as { code?: string }).code !== 'EMAXLEN') throw err;
      throw new PullmailError('too_large', `the message is too complex to parse (${(err as Error).message}); GET /api/v1/inbox/${row.id}/raw returns its bytes`, { cause: err, httpStatus: 422 });
    });
    const body: ParsedMessage = {
      ...inboxEntry(row),
      headers: parsed.headerLines.map((h) => ({ name: h.key, value: h.line.slice(h.line.indexOf(':') + 1).trim() })),
      ...(parsed.text !== undefined ? { text: parsed.text } : {}),
      ...(typeof parsed.html === 'string' ? { html: parsed.html } : {}),
      attachments: parsed.attachments.map((a) => ({ filename: a.filename ?? '', contentType: a.contentType, size: a.size })),
    };
    return c.json(body);
  });

  app.delete('/inbox/:id', async (c) => {
    const row = await own(c.get('mailbox').id, c.req.param('id'));
    // the row stays (without bytes) so a repeated notification is still recognised as a duplicate
    await updateInbound(ctx.db, row.id, { deletedAt: new Date(ctx.now()), ...NO_BODY });
    return c.body(null, 204);
  });
  return app;
}
