// GET /api/v1/export: the caller's mail as one mboxrd file (docs/operator.md "Export and import"),
// streamed as the client reads it.
import { MBOX_CONTENT_TYPE } from '@pullmail/client/wire';
import { Hono } from 'hono';
import type { AppContext } from '../../context.ts';
import { exportMailbox } from '../../mailbox/export.ts';
import { chunkStream } from '../body-stream.ts';
import type { UserEnv } from '../middleware/auth.ts';

export function exportRoutes(ctx: AppContext): Hono<UserEnv> {
  return new Hono<UserEnv>().get('/export', (c) => {
    const mailbox = c.get('mailbox');
    const file = `${mailbox.address.replace(/[^A-Za-z0-9@._-]/g, '_')}.mbox`;
    return c.body(chunkStream(ctx, exportMailbox(ctx, mailbox)), 200, {
      'content-type': MBOX_CONTENT_TYPE,
      'content-disposition': `attachment; filename="${file}"`,
    });
  });
}
