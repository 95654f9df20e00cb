// The subsystems a full node runs, in one list: createServer stays independent of them.
import { fetchRoutes } from './http/routes/fetch.ts';
import { notifyRoutes } from './http/routes/notify.ts';
import { userRoutes } from './http/routes/user.ts';
import { fetchWorker } from './queue/fetch-worker.ts';
import { notifyWorker } from './queue/notify-worker.ts';
import type { Extension } from './server.ts';

export function nodeExtensions(): Extension[] {
  return [
    { routes: notifyRoutes },
    { routes: fetchRoutes },
    { routes: userRoutes },
    { workers: (ctx) => [notifyWorker(ctx), fetchWorker(ctx)] },
  ];
}
