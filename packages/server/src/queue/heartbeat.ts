// The heartbeat of one node process on a shared PostgreSQL (store/queue-workers.ts): written once
// before any worker claims, then every HEARTBEAT_MS; removed on a graceful stop.
import type { Logger } from '../log.ts';
import type { Db } from '../store/db.ts';
import { beat, forgetWorker, HEARTBEAT_MS } from '../store/queue-workers.ts';

export interface Heartbeat {
  stop(): Promise<void>;
}

/** Beats once (throws if the database refuses), then keeps beating; a failed beat is logged and retried. */
export async function startHeartbeat(db: Db, id: string, log: Logger): Promise<Heartbeat> {
  await beat(db, id);
  let running: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    running = beat(db, id).catch((err: unknown) => log.warn({ err, worker: id }, 'heartbeat not written'));
  }, HEARTBEAT_MS);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
      await forgetWorker(db, id).catch((err: unknown) => log.warn({ err, worker: id }, 'could not remove the heartbeat'));
    },
  };
}
