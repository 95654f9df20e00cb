// Solves proof-of-work challenges in a worker thread so the event loop keeps serving (protocol §6:
// the sender node answers by itself). Bounded by difficulty and by time.
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { MAX_SOLVABLE_BITS, solvePow } from '../protocol/pow.ts';

interface Job {
  nonce: string;
  msgId: string;
  bits: number;
  timeoutMs: number;
}

/** The counter, or undefined when the challenge is too hard or time runs out. */
export function solveInWorker(job: Job): Promise<string | undefined> {
  if (job.bits > MAX_SOLVABLE_BITS || job.bits < 0) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: job });
    worker.unref(); // never keeps a stopping node alive
    const timer = setTimeout(() => void worker.terminate(), job.timeoutMs + 1000);
    worker.once('message', (counter: string | null) => resolve(counter ?? undefined));
    worker.once('error', () => resolve(undefined));
    worker.once('exit', () => {
      clearTimeout(timer);
      resolve(undefined);
    });
  });
}

if (!isMainThread && parentPort && (workerData as Job | undefined)?.nonce !== undefined) {
  const job = workerData as Job;
  parentPort.postMessage(solvePow(job.nonce, job.msgId, job.bits, Date.now() + job.timeoutMs) ?? null);
}
