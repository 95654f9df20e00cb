// Greylisting for unknown legacy senders (the "triplet" scheme): the first attempt from a client
// network for a (sender, recipient) pair is deferred with 451 4.7.1; a retry after the delay passes
// and the triplet is remembered. Real MTAs retry; most spam engines do not.
import type { Executor } from '../store/db.ts';
import { seeTriplet, updateTriplet, type GreylistRow, type Triplet } from '../store/greylist.ts';

/** A deferred first sighting that nobody retried within this long starts over. */
const RETRY_WINDOW_MS = 24 * 3600_000;
/** A passed triplet not seen for this long is forgotten (and greylisted again). */
export const REMEMBER_MS = 36 * 86_400_000;

export type GreylistVerdict = { pass: true } | { pass: false; waitSeconds: number };

/** Pure decision on a triplet's row; `next` is what to write back. */
export function greylistDecision(row: GreylistRow, nowMs: number, delaySeconds: number): { verdict: GreylistVerdict; next: Partial<GreylistRow> } {
  const now = new Date(nowMs);
  if (row.passedAt && nowMs - row.lastSeenAt.getTime() < REMEMBER_MS) return { verdict: { pass: true }, next: { lastSeenAt: now } };
  const first = row.passedAt || nowMs - row.firstSeenAt.getTime() > RETRY_WINDOW_MS ? nowMs : row.firstSeenAt.getTime();
  const due = first + delaySeconds * 1000;
  if (nowMs >= due && first !== nowMs) return { verdict: { pass: true }, next: { passedAt: now, lastSeenAt: now } };
  return { verdict: { pass: false, waitSeconds: Math.max(1, Math.ceil((due - nowMs) / 1000)) }, next: { firstSeenAt: new Date(first), lastSeenAt: now, passedAt: null } };
}

export async function checkGreylist(db: Executor, t: Triplet, nowMs: number, delaySeconds: number): Promise<GreylistVerdict> {
  const row = await seeTriplet(db, t, new Date(nowMs));
  const { verdict, next } = greylistDecision(row, nowMs, delaySeconds);
  await updateTriplet(db, t, next);
  return verdict;
}
