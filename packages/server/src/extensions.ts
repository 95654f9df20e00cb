// The subsystems a full node runs, in one list: createServer stays independent of them.
import { autoconfigRoutes } from './http/routes/autoconfig.ts';
import { challengePageRoutes } from './http/routes/challenge-page.ts';
import { fetchRoutes } from './http/routes/fetch.ts';
import { metricsRoutes } from './http/routes/metrics.ts';
import { notifyRoutes } from './http/routes/notify.ts';
import { openApiRoutes } from './http/openapi.ts';
import { userRoutes } from './http/routes/user.ts';
import { fetchWorker } from './queue/fetch-worker.ts';
import { maintenanceWorker } from './queue/maintenance.ts';
import { notifyWorker } from './queue/notify-worker.ts';
import { imapDoor } from './imap/door.ts';
import { smtpGateway } from './smtp/gateway.ts';
import { webRoutes } from './web/app.ts';
import type { Extension } from './server.ts';

export function nodeExtensions(): Extension[] {
  return [
    { routes: notifyRoutes },
    { routes: fetchRoutes },
    { routes: userRoutes },
    { routes: challengePageRoutes },
    { routes: metricsRoutes },
    { routes: autoconfigRoutes },
    { routes: openApiRoutes },
    { routes: webRoutes },
    { workers: (ctx) => [notifyWorker(ctx), fetchWorker(ctx), maintenanceWorker(ctx)] },
    { workers: (ctx) => [smtpGateway(ctx)] },
    { workers: (ctx) => [imapDoor(ctx)] },
  ];
}
