// Delivery throughput with a small and a large store: the pm1 delivery bench (bench/pm1-delivery.ts)
// run twice, after bulk-filling both nodes' databases with 1,000 and then 100,000 already-delivered
// messages (sender: messages, versions, fetched deliveries; recipient: stored inbox rows and their
// notification answers). Same N, same settings; only the amount already stored differs.
// Usage: node bench/stored-scaling.ts [N=1500] [small=1000] [large=100000]
import { ensureDatabaseUrl, printFigure, type Figure } from './lib/common.ts';
import { benchPm1Delivery, type Pm1DeliveryResult } from './pm1-delivery.ts';

export async function benchStoredScaling(n = 1500, small = 1000, large = 100_000): Promise<{ small: Pm1DeliveryResult; large: Pm1DeliveryResult }> {
  ensureDatabaseUrl();
  const s = await benchPm1Delivery(n, { prefill: small });
  const l = await benchPm1Delivery(n, { prefill: large });
  return { small: s, large: l };
}

export function storedScalingFigures(r: { small: Pm1DeliveryResult; large: Pm1DeliveryResult }): Figure[] {
  const ratio = r.large.perSecond / r.small.perSecond;
  return [{
    name: `delivery with ${r.small.prefill.toLocaleString('en')} vs ${r.large.prefill.toLocaleString('en')} stored`,
    short: `${r.small.perSecond.toFixed(0)} vs ${r.large.perSecond.toFixed(0)} msg/s`,
    value: `${r.small.perSecond.toFixed(0)} msg/s vs ${r.large.perSecond.toFixed(0)} msg/s (large/small = ${ratio.toFixed(2)}); CPU per message ${r.small.cpuMsPerMessage.node.toFixed(1)} + ${r.small.cpuMsPerMessage.postgres.toFixed(1)} ms vs ${r.large.cpuMsPerMessage.node.toFixed(1)} + ${r.large.cpuMsPerMessage.postgres.toFixed(1)} ms (node process + PostgreSQL)`,
    method: `bench/pm1-delivery.ts with N=${r.small.n} (5 KB, 16 senders, two in-process nodes on PostgreSQL over HTTPS) after bulk-filling both databases with that many delivered messages (${r.large.prefillSeconds.toFixed(0)} s for the large fill, not timed)`,
  }];
}

if (import.meta.main) {
  const r = await benchStoredScaling(Number(process.argv[2] ?? 1500), Number(process.argv[3] ?? 1000), Number(process.argv[4] ?? 100_000));
  for (const f of storedScalingFigures(r)) printFigure(f);
}
