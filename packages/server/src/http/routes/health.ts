// Liveness: 200 when the database answers.
import { Hono } from 'hono';
import type { AppContext } from '../../context.ts';

export function healthRoutes(ctx: AppContext): Hono {
  const app = new Hono();
  app.get('/healthz', async (c) => {
    try {
      await ctx.database.ping();
      return c.json({ status: 'ok' });
    } catch (err) {
      ctx.log.warn({ err }, 'health check: database does not answer');
      return c.json({ error: 'unavailable', detail: 'database does not answer' }, 503);
    }
  });
  return app;
}
