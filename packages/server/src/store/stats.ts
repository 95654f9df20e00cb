// Counts for /metrics.
import { count, eq, isNotNull } from 'drizzle-orm';
import type { Executor } from './db.ts';
import { deliveries, inbound } from './schema.ts';

export async function countPending(db: Executor): Promise<{ notify: number; fetch: number }> {
  const [n] = await db.select({ n: count() }).from(deliveries).where(isNotNull(deliveries.notifyKind));
  const [f] = await db.select({ n: count() }).from(inbound).where(eq(inbound.state, 'fetching'));
  return { notify: Number(n.n), fetch: Number(f.n) };
}

export async function countDeliveriesByState(db: Executor): Promise<{ state: string; n: number }[]> {
  const rows = await db.select({ state: deliveries.state, n: count() }).from(deliveries).groupBy(deliveries.state);
  return rows.map((r) => ({ state: r.state, n: Number(r.n) }));
}
