// Sending, status, sent list, retract and edit.
import type { DeliverySummary, MessageStatus, SentList } from '@pullmail/client/wire';
import { Hono, type Context } from 'hono';
import type { AppContext } from '../../context.ts';
import { editMessage, retractMessage } from '../../delivery/edit.ts';
import { listSentMessages, sentMessageStatus } from '../../delivery/sent-status.ts';
import { sendMessage, type Outgoing } from '../../delivery/send.ts';
import { PullmailError } from '../../errors.ts';
import { sendSchema } from '../../mail/compose.ts';
import { readJson, sendBodyLimit } from '../body.ts';
import type { UserEnv } from '../middleware/auth.ts';
import { encodeCursor, parsePage } from '../pagination.ts';

/** A raw message upload, read as it arrives (delivery/send.ts stores it chunk by chunk). */
interface Upload extends AsyncIterable<Uint8Array> {
  /**
   * Reads and drops whatever the handler left unread (it refused the message part-way, or before
   * looking at it), up to `drainLimit` bytes, so the client gets the answer rather than a connection
   * reset in the middle of its upload.
   */
  finish(): Promise<void>;
}

function upload(c: Context, drainLimit: number): Upload {
  const reader = c.req.raw.body?.getReader();
  let ended = !reader;
  return {
    async *[Symbol.asyncIterator]() {
      while (reader && !ended) {
        const next = await reader.read();
        if (next.done) ended = true;
        else yield next.value;
      }
    },
    async finish() {
      if (ended || !reader) return;
      ended = true;
      try {
        for (let dropped = 0; dropped <= drainLimit; ) {
          const next = await reader.read();
          if (next.done) return;
          dropped += next.value.length;
        }
        await reader.cancel();
      } catch {
        // the client went away: nobody to answer
      }
    },
  };
}

/** Runs `handle` on the request's message (JSON, or a raw upload that is always finished after). */
async function withOutgoing<T>(c: Context, maxMessageBytes: number, handle: (out: Outgoing) => Promise<T>): Promise<T> {
  const type = c.req.header('content-type') ?? '';
  if (!/^message\/rfc822\b/i.test(type)) return handle({ json: await readJson(c, sendSchema) });
  // a raw message is stored as it arrives, never read into memory whole
  const stream = upload(c, sendBodyLimit({ maxMessageBytes }));
  try {
    return await handle({ stream });
  } finally {
    await stream.finish();
  }
}

export function messageRoutes(ctx: AppContext): Hono<UserEnv> {
  const app = new Hono<UserEnv>();

  app.post('/messages', async (c) => c.json(await withOutgoing(c, ctx.config.maxMessageBytes, (out) => sendMessage(ctx, c.get('mailbox'), out)), 201));

  app.get('/messages/:id', async (c) => {
    const { message: m, deliveries: rows } = await sentMessageStatus(ctx, c.get('mailbox'), c.req.param('id'));
    const deliveries: DeliverySummary[] = rows.map((d) => ({
      rcpt: d.rcpt,
      state: d.state,
      ...(d.reason ? { reason: d.reason } : {}),
      ...(d.challengeUrl ? { challenge_url: d.challengeUrl } : {}),
      ...(d.fetchedAt ? { fetched_at: d.fetchedAt.toISOString() } : {}),
    }));
    const status: MessageStatus = { id: m.id, subject: m.subject, version: m.version, created_at: m.createdAt.toISOString(), deliveries };
    return c.json(status);
  });

  app.get('/sent', async (c) => {
    const page = parsePage(c.req.query());
    const rows = await listSentMessages(ctx, c.get('mailbox'), page);
    const last = rows.length === page.limit ? rows[rows.length - 1] : undefined;
    const body: SentList = {
      messages: rows.map((r) => ({ id: r.id, subject: r.subject, version: r.version, created_at: r.createdAt.toISOString(), recipients: r.recipients })),
      ...(last ? { cursor: encodeCursor(last.createdAt, last.id) } : {}),
    };
    return c.json(body);
  });

  app.post('/messages/:id/retract', async (c) => c.json(await retractMessage(ctx, c.get('mailbox'), c.req.param('id'))));
  app.put('/messages/:id', async (c) => c.json(await withOutgoing(c, ctx.config.maxMessageBytes, (out) => editMessage(ctx, c.get('mailbox'), c.req.param('id'), out))));
  return app;
}
