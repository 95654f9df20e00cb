// Outbound legacy mail: deliveries whose domain has no pull node, handed over by the notify queue
// (queue/notify-worker.ts), which records each outcome on the same durable rows, with the same leases,
// backoff and expiry. Each message gets the CRI header fields of an initial message (docs/cri.md), is
// DKIM-signed with its sender domain's key (covering those fields) and sent to the relay or the
// domain's MX hosts. Outcomes (docs/operator.md states): `delivered` (the remote server took the
// bytes; shown as `fetched`), a temporary failure (4xx or network trouble: retried until the retry
// period ends, then `expired`), a permanent one (5xx: `failed`, the remote reply as the reason).
import { eq } from 'drizzle-orm';
import { domainOf } from '../address.ts';
import type { AppContext } from '../context.ts';
import { PullmailError, type ErrorCode } from '../errors.ts';
import { loadBody } from '../store/bodies.ts';
import { findVersion, type DeliveryRow } from '../store/messages.ts';
import { messages } from '../store/schema.ts';
import { withCriHeaders } from './cri.ts';
import { dkimKey, signMessage } from './dkim.ts';
import { serverName } from './listener.ts';
import { smtpRoute, type SmtpHop } from './route.ts';
import { sendToHop, type Handoff } from './send-smtp.ts';

/** What came of handing one delivery to SMTP. */
export type SmtpOutcome =
  /** The next hop said 250 to DATA: `reply` is its final reply. */
  | { outcome: 'delivered'; host: string; reply: string }
  /** Not handed over; `error` carries the remote reply when there was one (`<host> answered 550 …`). */
  | { outcome: 'failed'; temporary: boolean; code: ErrorCode; error: string }
  /** Nothing to send: a retract of mail not yet handed over, or an edit of mail already gone. */
  | { outcome: 'nothing-to-send'; state: 'fetched' | 'retracted' };

/**
 * Hands the claimed deliveries for one legacy domain to SMTP, one after the other, yielding each
 * outcome as soon as it is known (so the queue records a hand-over before the next one starts).
 * Never throws.
 */
export async function* deliverBySmtp(ctx: AppContext, domain: string, ds: DeliveryRow[]): AsyncGenerator<{ d: DeliveryRow; outcome: SmtpOutcome }> {
  let route: SmtpHop[] | undefined;
  // several recipients of one message at this domain: load, add CRI fields and sign it once
  const signed = new Map<string, Promise<Outgoing>>();
  const prepared = (d: DeliveryRow, now: Date) => {
    const k = `${d.messageId}:${d.version}`;
    if (!signed.has(k)) signed.set(k, prepare(ctx, d, now));
    return signed.get(k)!;
  };
  for (const d of ds) {
    const now = new Date(ctx.now());
    if (d.notifyKind === 'retract' || d.state === 'fetched' || d.state === 'retracted') {
      yield { d, outcome: { outcome: 'nothing-to-send', state: d.state === 'fetched' ? 'fetched' : 'retracted' } };
      continue;
    }
    let outcome: SmtpOutcome;
    try {
      route ??= await smtpRoute(domain, { relay: ctx.config.smtpRelay, resolver: ctx.resolver });
      const done = await handOver(ctx, d, await prepared(d, now), route);
      outcome = { outcome: 'delivered', host: done.host, reply: done.response };
    } catch (err) {
      const e = err instanceof PullmailError ? err : new PullmailError('internal', (err as Error).message, { temporary: true, cause: err });
      outcome = { outcome: 'failed', temporary: e.temporary, code: e.code, error: e.message };
    }
    yield { d, outcome };
  }
}

interface Outgoing {
  sender: string;
  raw: Buffer;
}

/** The message as it goes out: CRI fields added, then DKIM-signed with its sender domain's key. */
async function prepare(ctx: AppContext, d: DeliveryRow, now: Date): Promise<Outgoing> {
  const [m] = await ctx.db.select().from(messages).where(eq(messages.id, d.messageId));
  const v = await findVersion(ctx.db, d.messageId, d.version);
  if (!m || !v) throw new PullmailError('not_found', 'message is gone');
  // the CRI fields go on before signing, so the signature covers them
  return { sender: m.sender, raw: await signMessage(withCriHeaders(await loadBody(ctx.db, v)), await dkimKey(ctx.db, domainOf(m.sender), now), now) };
}

async function handOver(ctx: AppContext, d: DeliveryRow, out: Outgoing, route: SmtpHop[]): Promise<Handoff> {
  let last: PullmailError | undefined;
  // RFC 5321 §5.1: try the next MX host when one cannot be reached; a reply from one is the answer
  for (const hop of route) {
    try {
      return await sendToHop(hop, { from: out.sender, to: d.rcpt, raw: out.raw }, { ehloName: serverName(ctx), trustCa: ctx.config.trustCa, allowPrivate: ctx.config.allowPrivatePeers });
    } catch (err) {
      if (!(err instanceof PullmailError) || err.code !== 'peer_unreachable') throw err;
      last = err;
    }
  }
  throw last ?? new PullmailError('no_route', 'no host to deliver to');
}
