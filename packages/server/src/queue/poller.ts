// A background loop that runs `tick` whenever it is kicked or `pollMs` has passed, one tick at a time.
// tick returns how many items it handled; a full batch means "run again at once".
import type { Logger } from '../log.ts';
import type { Worker } from '../server.ts';

export function createPoller(opts: { name: string; pollMs: number; batch: number; log: Logger; tick: () => Promise<number>; kickable?: boolean }): Worker {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = true;

  const schedule = (ms: number) => {
    if (stopped) return;
    clearTimeout(timer);
    timer = setTimeout(run, ms);
    timer.unref?.();
  };

  function run(): void {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = (async () => {
      let handled = 0;
      try {
        handled = await opts.tick();
      } catch (err) {
        opts.log.error({ err, worker: opts.name }, 'queue tick failed');
      }
      running = undefined;
      const more = handled >= opts.batch || again;
      again = false;
      schedule(more ? 0 : opts.pollMs);
    })();
  }

  return {
    name: opts.name,
    start() {
      stopped = false;
      schedule(0);
    },
    kick: opts.kickable === false ? undefined : () => run(),
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}

/** Exponential backoff with jitter: 30 s, 1 min, 2 min … capped at 1 h (protocol §7: first retry within 1 min). */
export function backoffMs(attempt: number): number {
  const base = Math.min(30_000 * 2 ** Math.max(0, attempt - 1), 3600_000);
  return Math.round(base * (0.8 + Math.random() * 0.4));
}
