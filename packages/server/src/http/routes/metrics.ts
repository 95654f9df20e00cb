// GET /metrics: Prometheus text format.
import type { Hono } from 'hono';
import type { AppContext } from '../../context.ts';

export function metricsRoutes(app: Hono, ctx: AppContext): void {
  app.get('/metrics', async (c) => {
    const body = await ctx.metrics.registry.metrics();
    return c.body(body, 200, { 'content-type': ctx.metrics.registry.contentType });
  });
}
