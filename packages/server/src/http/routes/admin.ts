// Admin API: mailbox creation (docs/operator.md).
import { Hono } from 'hono';
import { z } from 'zod';
import type { AppContext } from '../../context.ts';
import { readJson } from '../body.ts';
import { requireAdmin } from '../middleware/auth.ts';

const createUser = z.object({ address: z.string().min(3).max(320), password: z.string().optional() });

export function adminRoutes(ctx: AppContext): Hono {
  const app = new Hono();
  app.use('*', requireAdmin(ctx.config.adminToken, ctx.loginThrottle));
  app.post('/users', async (c) => {
    const body = await readJson(c, createUser);
    return c.json(await ctx.accounts.create(body.address, body.password), 201);
  });
  return app;
}
