// What-if experiments for the hot spots the benches found, applied by monkey-patching libraries in
// the bench process only (production code under packages/ is not changed). They estimate the gain of
// a proposed fix before anyone writes it. Never on in `npm run bench`.
//
//   PM_BENCH_EXPERIMENT=prepare   drizzle asks postgres.js for cached prepared statements: one round
//                                 trip per query instead of Parse/Describe + Bind/Execute (two)
//   PM_BENCH_EXPERIMENT=tlsctx    outbound TLS reuses one SecureContext per CA list instead of parsing
//                                 ~150 root certificates on every new connection (peers/fetcher.ts)
//   (comma-separated to combine)
import tls from 'node:tls';
import { PostgresJsPreparedQuery } from 'drizzle-orm/postgres-js/session';

const KNOWN = ['prepare', 'tlsctx'];
const on = new Set((process.env.PM_BENCH_EXPERIMENT ?? '').split(',').filter((e) => KNOWN.includes(e)));

export function forcePrepare(): void {
  const proto = PostgresJsPreparedQuery.prototype as unknown as Record<'execute' | 'all', (...a: unknown[]) => unknown>;
  for (const m of ['execute', 'all'] as const) {
    const orig = proto[m];
    proto[m] = function (this: { prepare: boolean }, ...a: unknown[]) {
      this.prepare = true;
      return orig.apply(this, a);
    };
  }
}

export function shareSecureContext(): void {
  const contexts = new Map<unknown, tls.SecureContext>();
  const orig = tls.connect;
  (tls as { connect: unknown }).connect = function (this: unknown, ...args: unknown[]) {
    const o = args[0] as tls.ConnectionOptions | undefined;
    if (o && typeof o === 'object' && Array.isArray(o.ca) && !o.secureContext) {
      let ctx = contexts.get(o.ca);
      if (!ctx) contexts.set(o.ca, (ctx = tls.createSecureContext({ ca: o.ca })));
      const { ca: _ca, ...rest } = o;
      args[0] = { ...rest, secureContext: ctx };
    }
    return (orig as (...a: unknown[]) => unknown).apply(this, args);
  };
}

if (on.has('prepare')) forcePrepare();
if (on.has('tlsctx')) shareSecureContext();
if (on.size) console.error(`bench experiments on: ${[...on].join(', ')} (what-if, not the shipped code)`);
