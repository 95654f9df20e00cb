// Sender callout verification (PULLMAIL_SENDER_CALLOUT, off by default; docs/cri.md): before an
// unknown legacy sender is challenged, greylisted or held, ask the MX of the sender's domain whether
// it takes mail for that address (smtp-probe.ts). A failed or impossible check is only ever a 451:
// the sender's server may be busy, down, or unwilling to answer probes.
//
// The cache is in memory, per process, bounded (least recently used out): a lost cache costs one
// more probe, not a wrong answer, and keeping it off the database means an unknown sender costs no
// write. Several processes each keep their own, so the same address may be probed once per process.
import { domainOf } from '../address.ts';
import type { DnsResolver } from '../peers/discovery.ts';
import { smtpRoute } from './route.ts';
import { probeAddress, ProbeUnreachable, type ProbeResult } from './smtp-probe.ts';

/** A positive answer is trusted for a day, a refusal for two hours (it may be a passing mistake). */
export const POSITIVE_TTL_MS = 24 * 3600_000;
export const NEGATIVE_TTL_MS = 2 * 3600_000;
/** Probes per sender domain and window: a flood of forged senders must not make us hammer one domain. */
export const PROBES_PER_WINDOW = 10;
export const PROBE_WINDOW_MS = 60_000;
const MAX_ENTRIES = 10_000;
const MAX_HOSTS = 3;
const PROBE_TIMEOUT_MS = 20_000;

export interface CalloutVerdict extends ProbeResult {
  /** True when the answer came from the cache, without a probe. */
  cached: boolean;
}

export interface SenderCallout {
  /** What the sender's own MX says about `sender` (canonical address). Never throws. */
  check(sender: string): Promise<CalloutVerdict>;
}

export interface CalloutDeps {
  resolver: DnsResolver;
  /** PULLMAIL_CALLOUT_PORT: where the MX hosts are asked (25). */
  port: number;
  ehloName: string;
  now: () => number;
  /** PULLMAIL_ALLOW_PRIVATE_PEERS: probe MX hosts at loopback and private addresses too (tests, LANs). */
  allowPrivate?: boolean;
  probe?: typeof probeAddress;
}

export function createSenderCallout(deps: CalloutDeps): SenderCallout {
  const probe = deps.probe ?? probeAddress;
  const cache = new Map<string, ProbeResult & { until: number }>();
  const running = new Map<string, Promise<CalloutVerdict>>();
  const windows = new Map<string, { start: number; count: number }>();

  function mayProbe(domain: string, now: number): boolean {
    if (windows.size > MAX_ENTRIES) for (const [d, w] of windows) if (now - w.start >= PROBE_WINDOW_MS) windows.delete(d);
    const w = windows.get(domain);
    if (!w || now - w.start >= PROBE_WINDOW_MS) {
      windows.set(domain, { start: now, count: 1 });
      return true;
    }
    return ++w.count <= PROBES_PER_WINDOW;
  }

  async function ask(sender: string): Promise<CalloutVerdict> {
    const domain = domainOf(sender);
    if (!mayProbe(domain, deps.now())) return { verdict: 'unknown', detail: `too many probes to ${domain} just now`, cached: false };
    let result: ProbeResult | undefined;
    try {
      const hops = await smtpRoute(domain, { resolver: deps.resolver });
      let last = 'no mail host';
      for (const hop of hops.slice(0, MAX_HOSTS)) {
        try {
          result = await probe(hop.host, deps.port, sender, { ehloName: deps.ehloName, timeoutMs: PROBE_TIMEOUT_MS, allowPrivate: deps.allowPrivate });
          break;
        } catch (err) {
          if (!(err instanceof ProbeUnreachable)) throw err;
          last = err.message;
        }
      }
      result ??= { verdict: 'unknown', detail: last };
    } catch (err) {
      result = { verdict: 'unknown', detail: (err as Error).message };
    }
    // only definite answers are remembered; an unknown one is asked again on the sender's next try
    if (result.verdict !== 'unknown') {
      if (cache.size >= MAX_ENTRIES) cache.delete(cache.keys().next().value!);
      cache.set(sender, { ...result, until: deps.now() + (result.verdict === 'exists' ? POSITIVE_TTL_MS : NEGATIVE_TTL_MS) });
    }
    return { ...result, cached: false };
  }

  return {
    check(sender) {
      const hit = cache.get(sender);
      if (hit) {
        cache.delete(sender);
        if (hit.until > deps.now()) {
          cache.set(sender, hit);
          return Promise.resolve({ verdict: hit.verdict, detail: hit.detail, cached: true });
        }
      }
      // one probe per address at a time: parallel RCPTs and sessions wait for the same answer
      let p = running.get(sender);
      if (!p) {
        p = ask(sender).finally(() => running.delete(sender));
        running.set(sender, p);
      }
      return p;
    },
  };
}
