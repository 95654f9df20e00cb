// Sending, status, sent list, retract and edit.
import type { DeliverySummary, MessageStatus, SentList } from '@pullmail/client/wire';
import { Hono, type Context } from 'hono';
import type { AppContext } from '../../context.ts';
import { editMessage, retractMessage } from '../../delivery/edit.ts';
import { sendMessage, type Outgoing } from '../../delivery/send.ts';
import { PullmailError } from '../../errors.ts';
import { sendSchema } from '../../mail/compose.ts';
import { findOwnMessage, listDeliveries, listSent } from '../../store/messages.ts';
import { readJson } from '../body.ts';
import type { UserEnv } from '../middleware/auth.ts';
import { encodeCursor, parsePage } from '../pagination.ts';

async function readOutgoing(c: Context): Promise<Outgoing> {
  const type = c.req.header('content-type') ?? '';
  if (/^message\/rfc822\b/i.test(type)) return { raw: Buffer.from(await c.req.arrayBuffer()) };
  return { json: await readJson(c, sendSchema) };
}

export function messageRoutes(ctx: AppContext): Hono<UserEnv> {
  const app = new Hono<UserEnv>();

  app.post('/messages', async (c) => c.json(await sendMessage(ctx, c.get('mailbox'), await readOutgoing(c)), 201));

  app.get('/messages/:id', async (c) => {
    const m = await findOwnMessage(ctx.db, c.get('mailbox').id, c.req.param('id'));
    if (!m) throw new PullmailError('not_found', 'no such sent message');
    const deliveries: DeliverySummary[] = (await listDeliveries(ctx.db, m.id)).map((d) => ({
      rcpt: d.rcpt,
      state: d.state as DeliverySummary['state'],
      ...(d.reason ? { reason: d.reason } : {}),
      ...(d.challengeUrl ? { challenge_url: d.challengeUrl } : {}),
      ...(d.fetchedAt ? { fetched_at: d.fetchedAt.toISOString() } : {}),
    }));
    const status: MessageStatus = { id: m.id, subject: m.subject, version: m.version, created_at: m.createdAt.toISOString(), deliveries };
    return c.json(status);
  });

  app.get('/sent', async (c) => {
    const page = parsePage(c.req.query());
    const rows = await listSent(ctx.db, c.get('mailbox').id, page.limit, page.cursor);
    const last = rows.length === page.limit ? rows[rows.length - 1] : undefined;
    const body: SentList = {
      messages: rows.map((r) => ({ id: r.id, subject: r.subject, version: r.version, created_at: r.createdAt.toISOString(), recipients: r.recipients })),
      ...(last ? { cursor: encodeCursor(last.createdAt, last.id) } : {}),
    };
    return c.json(body);
  });

  app.post('/messages/:id/retract', async (c) => c.json(await retractMessage(ctx, c.get('mailbox'), c.req.param('id'))));
  app.put('/messages/:id', async (c) => c.json(await editMessage(ctx, c.get('mailbox'), c.req.param('id'), await readOutgoing(c))));
  return app;
}
