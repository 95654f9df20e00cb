// Prometheus metrics (GET /metrics) with prom-client. One registry per node (no global default
// registry), so one process can run several nodes. Gauges that describe stored state are read from
// the database when scraped.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Db } from './store/db.ts';
import { countDeliveriesByState, countPending } from './store/stats.ts';

export interface Metrics {
  registry: Registry;
  notifyDecisions: Counter<'decision' | 'reason'>;
  notificationsSent: Counter<'outcome'>;
  fetchSeconds: Histogram<'outcome'>;
  servedFetches: Counter<'outcome'>;
  smtpReplies: Counter<'listener' | 'code'>;
  criEvents: Counter<'event'>;
  senderCallouts: Counter<'verdict' | 'cached'>;
  loginFailures: Counter<'door' | 'reason'>;
}

export function createMetrics(db: () => Db | undefined): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'pullmail_process_' });
  new Gauge({
    name: 'pullmail_queue_depth',
    help: 'Queued work: notifications owed by the sender side, fetches pending on the recipient side',
    labelNames: ['queue'],
    registers: [registry],
    async collect() {
      const d = db();
      if (!d) return;
      const p = await countPending(d);
      this.set({ queue: 'notify' }, p.notify);
      this.set({ queue: 'fetch' }, p.fetch);
    },
  });
  new Gauge({
    name: 'pullmail_deliveries',
    help: 'Outbound deliveries by state',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const d = db();
      if (!d) return;
      this.reset();
      for (const r of await countDeliveriesByState(d)) this.set({ state: r.state }, r.n);
    },
  });
  return {
    registry,
    notifyDecisions: new Counter({ name: 'pullmail_notify_decisions_total', help: 'Answers given to incoming notifications', labelNames: ['decision', 'reason'], registers: [registry] }),
    notificationsSent: new Counter({ name: 'pullmail_notifications_sent_total', help: 'Notifications pushed to peers, by outcome', labelNames: ['outcome'], registers: [registry] }),
    fetchSeconds: new Histogram({
      name: 'pullmail_fetch_seconds',
      help: 'Time to pull a message body from the sender node',
      labelNames: ['outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    servedFetches: new Counter({ name: 'pullmail_fetches_served_total', help: 'Fetches answered for our sent messages, by outcome', labelNames: ['outcome'], registers: [registry] }),
    smtpReplies: new Counter({ name: 'pullmail_smtp_replies_total', help: 'SMTP replies sent, by listener and code', labelNames: ['listener', 'code'], registers: [registry] }),
    criEvents: new Counter({ name: 'pullmail_cri_events_total', help: 'Challenge/response events at the SMTP gateway (docs/cri.md)', labelNames: ['event'], registers: [registry] }),
    senderCallouts: new Counter({ name: 'pullmail_sender_callouts_total', help: 'Sender callout answers, by verdict and whether cached', labelNames: ['verdict', 'cached'], registers: [registry] }),
    loginFailures: new Counter({ name: 'pullmail_login_failures_total', help: 'Failed logins (bad_credentials) and logins refused while locked out, by door', labelNames: ['door', 'reason'], registers: [registry] }),
  };
}
