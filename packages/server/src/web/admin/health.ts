// Health: does the database answer, how much work is waiting, which doors are open.
import type { Hono } from 'hono';
import { html } from 'hono/html';
import type { AppContext } from '../../context.ts';
import { countPending } from '../../store/stats.ts';
import { ADMIN, adminPage, type AdminEnv } from './frame.ts';

export function healthRoutes(app: Hono<AdminEnv>, ctx: AppContext): void {
  app.get('/health', async (c) => {
    const started = performance.now();
    let database: string;
    let pending: { notify: number; fetch: number } | undefined;
    try {
      await ctx.database.ping();
      database = `answers (${Math.max(1, Math.round(performance.now() - started))} ms)`;
      pending = await countPending(ctx.db);
    } catch {
      database = 'does not answer';
    }
    const cfg = ctx.config;
    const door = (port: number) => (port ? `port ${port}` : 'off');
    const rows: [string, string][] = [
      ['Database', `${ctx.database.kind}: ${database}`],
      ['Notifications and hand-offs waiting', pending ? String(pending.notify) : 'unknown'],
      ['Fetches waiting', pending ? String(pending.fetch) : 'unknown'],
      ['Public URL', ctx.publicUrl],
      ['Domains', cfg.domains.join(', ')],
      ['SMTP inbound (MX)', door(cfg.smtpPort)],
      ['SMTP submission', door(cfg.submissionPort)],
      ['IMAP', door(cfg.imapPort)],
      ['TLS', cfg.tls ? 'on' : 'off'],
    ];
    const body = html`<section class="card" aria-labelledby="health-h"><h1 id="health-h">Health</h1>
<dl class="headers">${rows.map(([k, v]) => html`<dt>${k}</dt><dd>${v}</dd>`)}</dl>
<p class="muted">Machines ask <a href="/healthz">/healthz</a> (200 while the database answers) and <code>/metrics</code> (Prometheus).</p></section>`;
    return c.html(adminPage(c, { title: 'Health', current: `${ADMIN}/health`, body }), database.startsWith('answers') ? 200 : 503);
  });
}
