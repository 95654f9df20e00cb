// pm1 node→node delivery throughput: N messages of ~5 KB from alice@a.test to bob@b.test (allowed),
// timed from the first send until bob's node has stored the last one. Two in-process nodes over
// HTTPS on loopback; PostgreSQL when DATABASE_URL is set (one database per node), else in-memory PGlite.
// Usage: node bench/pm1-delivery.ts [N]
import { count, eq } from 'drizzle-orm';
import { inbound } from '../packages/server/src/store/schema.ts';
import { startNodes } from '../test/harness/node.ts';

// the bench measures throughput, not the per-sender limits a real node keeps
const BENCH_ENV = { PULLMAIL_QUEUE_POLL_MS: '100', PULLMAIL_RATE_DOMAIN: '1000000/60', PULLMAIL_RATE_SENDER: '1000000/60' };

export async function benchPm1Delivery(n: number): Promise<{ n: number; sendSeconds: number; totalSeconds: number; perSecond: number; db: string }> {
  const [a, b] = await startNodes([
    { domain: 'a.test', https: true, env: BENCH_ENV },
    { domain: 'b.test', https: true, env: BENCH_ENV },
  ]);
  try {
    const alice = await a.addUser('alice@a.test');
    const bob = await b.addUser('bob@b.test');
    await b.api('/api/v1/rules', { method: 'POST', token: bob, json: { action: 'allow', pattern: '@a.test' } });
    const text = 'Lorem ipsum dolor sit amet, consectetur adipiscing elit. '.repeat(90); // ~5 KB
    const started = performance.now();
    let next = 0;
    const lane = async () => {
      while (next < n) {
        const i = next++;
        const res = await a.api('/api/v1/messages', { method: 'POST', token: alice, json: { to: ['bob@b.test'], subject: `bench ${i}`, text } });
        if (res.status !== 201) throw new Error(`send ${i}: ${res.status} ${await res.text()}`);
        await res.arrayBuffer();
      }
    };
    await Promise.all(Array.from({ length: 16 }, lane));
    const sent = performance.now();
    const db = b.server.ctx.db;
    for (;;) {
      const [row] = await db.select({ n: count() }).from(inbound).where(eq(inbound.state, 'stored'));
      if (Number(row.n) >= n) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const done = performance.now();
    const totalSeconds = (done - started) / 1000;
    return { n, sendSeconds: (sent - started) / 1000, totalSeconds, perSecond: n / totalSeconds, db: process.env.DATABASE_URL ? 'postgres' : 'pglite' };
  } finally {
    await a.stop();
    await b.stop();
  }
}

if (import.meta.main) {
  const n = Number(process.argv[2] ?? 1000);
  const r = await benchPm1Delivery(n);
  console.log(`pm1 delivery (${r.db}): ${r.n} messages of ~5 KB in ${r.totalSeconds.toFixed(1)} s = ${r.perSecond.toFixed(0)} msg/s (sends accepted in ${r.sendSeconds.toFixed(1)} s)`);
}
