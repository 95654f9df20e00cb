// Admin API (/api/v1/admin, README "Operating a node"): mailboxes created, listed, deleted, given a new
// password or API token; aliases and catch-alls created, listed, deleted. Served on the HTTP listener behind PULLMAIL_ADMIN_TOKEN, and without a token
// on the node's control socket, which only the data directory's owner can open (http/control-socket.ts).
import { Hono } from 'hono';
import { z } from 'zod';
import type { AdminAlias, AdminUser, ImportedMessage, ListAliasesResponse, ListUsersResponse, NewTokenResponse } from '@pullmail/client/wire';
import { adminUser } from '../../accounts/accounts.ts';
import type { AppContext } from '../../context.ts';
import { PullmailError } from '../../errors.ts';
import { importMessage } from '../../mailbox/import.ts';
import { readJson } from '../body.ts';
import { requireAdmin } from '../middleware/auth.ts';

export const createUser = z.object({ address: z.string().min(3).max(320), password: z.string().optional(), admin: z.boolean().optional() });
export const setPassword = z.object({ password: z.string() });
export const newToken = z.object({ keep_others: z.boolean().optional() });
export const createAlias = z.object({ address: z.string().min(2).max(320), target: z.string().min(3).max(320) });

/** `trusted`: the caller was authenticated by the socket's file permissions, no token is asked for. */
export function adminRoutes(ctx: AppContext, opts: { trusted?: boolean } = {}): Hono {
  const app = new Hono();
  if (!opts.trusted) app.use('*', requireAdmin(ctx.config.adminToken, ctx.loginThrottle));
  app.post('/users', async (c) => {
    const body = await readJson(c, createUser);
    return c.json(await ctx.accounts.create(body.address, body.password, { admin: body.admin }), 201);
  });
  app.get('/users', async (c) => {
    return c.json({ users: (await ctx.accounts.list()).map(adminUser) } satisfies ListUsersResponse);
  });
  app.delete('/users/:address', async (c) => c.json({ ...(await ctx.accounts.remove(c.req.param('address'))), deleted: true }));
  app.put('/users/:address/password', async (c) => {
    const body = await readJson(c, setPassword);
    const done = await ctx.accounts.setPassword(c.req.param('address'), body.password);
    return c.json({ address: done.address, password_set: true });
  });
  // a disabled account gets in through no door (web, IMAP, submission, API token); its mail still arrives
  app.post('/users/:address/disable', async (c) => c.json(await ctx.accounts.setDisabled(c.req.param('address'), true)));
  app.post('/users/:address/enable', async (c) => c.json(await ctx.accounts.setDisabled(c.req.param('address'), false)));
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
  app.post('/aliases', async (c) => {
    const body = await readJson(c, createAlias);
    return c.json((await ctx.aliases.create(body.address, body.target)) satisfies AdminAlias, 201);
  });
  app.get('/aliases', async (c) => {
    const aliases = (await ctx.aliases.list()).map((a) => ({ id: a.id, address: a.address, target: a.target, created_at: a.createdAt.toISOString() }));
    return c.json({ aliases } satisfies ListAliasesResponse);
  });
  app.delete('/aliases/:id', async (c) => c.json({ ...(await ctx.aliases.remove(c.req.param('id'))), deleted: true }));
  return app;
}
