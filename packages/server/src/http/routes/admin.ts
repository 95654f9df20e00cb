// Admin API (/api/v1/admin, README "Operating a node"): mailboxes created, listed, deleted, given a new
// password or API token. Served on the HTTP listener behind PULLMAIL_ADMIN_TOKEN, and without a token
// on the node's control socket, which only the data directory's owner can open (http/control-socket.ts).
import { Hono } from 'hono';
import { z } from 'zod';
import type { AdminUser, ImportedMessage, ListUsersResponse, NewTokenResponse } from '@pullmail/client/wire';
import type { AppContext } from '../../context.ts';
import { PullmailError } from '../../errors.ts';
import { importMessage } from '../../mailbox/import.ts';
import { readJson } from '../body.ts';
import { requireAdmin } from '../middleware/auth.ts';

export const createUser = z.object({ address: z.string().min(3).max(320), password: z.string().optional() });
export const setPassword = z.object({ password: z.string() });
export const newToken = z.object({ keep_others: z.boolean().optional() });

/** `trusted`: the caller was authenticated by the socket's file permissions, no token is asked for. */
export function adminRoutes(ctx: AppContext, opts: { trusted?: boolean } = {}): Hono {
  const app = new Hono();
  if (!opts.trusted) app.use('*', requireAdmin(ctx.config.adminToken, ctx.loginThrottle));
  app.post('/users', async (c) => {
    const body = await readJson(c, createUser);
    return c.json(await ctx.accounts.create(body.address, body.password), 201);
  });
  app.get('/users', async (c) => {
    const users: AdminUser[] = (await ctx.accounts.list()).map((u) => ({
      address: u.address,
      has_password: u.hasPassword,
      tokens: u.tokens,
      created_at: u.createdAt.toISOString(),
    }));
    return c.json({ users } satisfies ListUsersResponse);
  });
  app.delete('/users/:address', async (c) => c.json({ ...(await ctx.accounts.remove(c.req.param('address'))), deleted: true }));
  app.put('/users/:address/password', async (c) => {
    const body = await readJson(c, setPassword);
    return c.json({ ...(await ctx.accounts.setPassword(c.req.param('address'), body.password)), password_set: true });
  });
  app.post('/users/:address/token', async (c) => {
    // an empty body is the common case: replace every token
    const body = c.req.header('content-type') ? await readJson(c, newToken) : {};
    return c.json((await ctx.accounts.newToken(c.req.param('address'), body.keep_others)) satisfies NewTokenResponse, 201);
  });
  // one message of an import (pullmail-server import): the exact bytes; ?folder=&flags=\\Seen,$Label&date=<ISO>
  app.post('/users/:address/messages', async (c) => {
    if (!/^message\/rfc822\b/i.test(c.req.header('content-type') ?? '')) throw new PullmailError('unsupported_media_type', 'expected Content-Type: message/rfc822');
    const mailbox = await ctx.accounts.mailbox(c.req.param('address'));
    const { folder, flags, date } = c.req.query();
    const internalDate = date ? new Date(date) : undefined;
    if (internalDate && Number.isNaN(internalDate.getTime())) throw new PullmailError('bad_request', `date "${date}" is not an ISO 8601 time`);
    const raw = Buffer.from(await c.req.arrayBuffer());
    const outcome = await importMessage(ctx, mailbox, { raw, folder, flags: flags?.split(',').filter(Boolean), internalDate });
    return c.json(outcome satisfies ImportedMessage, outcome.result === 'added' ? 201 : 200);
  });
  return app;
}
