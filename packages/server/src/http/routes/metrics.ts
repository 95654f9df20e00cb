// GET /metrics: Prometheus text format. With PULLMAIL_METRICS_TOKEN set, only for that bearer token.
import type { Hono } from 'hono';
import type { AppContext } from '../../context.ts';
import { requireAdmin } from '../middleware/auth.ts';

export function metricsRoutes(app: Hono, ctx: AppContext): void {
  const token = ctx.config.metricsToken;
  // the same constant-time bearer check as the admin API, with the metrics token
  if (token) app.use('/metrics', requireAdmin(token, ctx.loginThrottle, 'metrics token (PULLMAIL_METRICS_TOKEN)'));
  app.get('/metrics', async (c) => {
    const body = await ctx.metrics.registry.metrics();
    return c.body(body, 200, { 'content-type': ctx.metrics.registry.contentType });
  });
}
