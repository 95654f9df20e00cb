// The SMTP gateway's listeners as a node Worker: the MX listener (PULLMAIL_SMTP_PORT) and the
// submission listener (PULLMAIL_SUBMISSION_PORT), each off when its port is 0. Also forgets old
// greylisting triplets now and then.
import type { AppContext } from '../context.ts';
import type { Worker } from '../server.ts';
import { pruneGreylist } from '../store/greylist.ts';
import { REMEMBER_MS } from './greylist.ts';
import type { SmtpListener } from './listener.ts';
import { startMxListener } from './mx-listener.ts';
import { startSubmissionListener } from './submission-listener.ts';

const PRUNE_EVERY_MS = 6 * 3600_000;

export function smtpGateway(ctx: AppContext): Worker {
  const log = ctx.log.child({ sub: 'smtp' });
  let mx: SmtpListener | undefined;
  let submission: SmtpListener | undefined;
  let timer: NodeJS.Timeout | undefined;
  const prune = () =>
    pruneGreylist(ctx.db, new Date(ctx.now() - REMEMBER_MS)).then(
      (n) => n && log.info({ forgotten: n }, 'greylist pruned'),
      (err: unknown) => log.warn({ err }, 'greylist prune failed'),
    );

  return {
    async start() {
      if (ctx.config.smtpPort) mx = await startMxListener(ctx);
      if (ctx.config.submissionPort) submission = await startSubmissionListener(ctx);
      if (mx && ctx.config.greylistSeconds > 0) {
        timer = setInterval(prune, PRUNE_EVERY_MS);
        timer.unref();
      }
    },
    async stop() {
      clearInterval(timer);
      await Promise.all([mx?.close(), submission?.close()]);
    },
  };
}
