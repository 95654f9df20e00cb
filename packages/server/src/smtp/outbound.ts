// Outbound legacy mail: deliveries whose domain has no pull node, handed over by the notify queue
// (queue/notify-worker.ts), so they share its durable rows, leases, backoff and expiry. Each message
// gets the CRI header fields of an initial message (docs/cri.md), is DKIM-signed with its sender
// domain's key (covering those fields) and sent to the relay or the domain's MX hosts.
// States (docs/operator.md): success -> `fetched` (the remote server took the bytes), 4xx or network
// trouble -> retried with backoff until the retry period ends (`expired`), 5xx -> `failed` with the
// remote reply as the reason.
import { eq } from 'drizzle-orm';
import { domainOf } from '../address.ts';
import type { AppContext } from '../context.ts';
import { PullmailError } from '../errors.ts';
import { failAttempt } from '../queue/attempts.ts';
import { loadBody } from '../store/bodies.ts';
import { owedNotification, recordAnswer, recordHandoff, setTransport } from '../store/deliveries.ts';
import { findVersion, type DeliveryRow } from '../store/messages.ts';
import { messages } from '../store/schema.ts';
import { withCriHeaders } from './cri.ts';
import { dkimKey, signMessage } from './dkim.ts';
import { serverName } from './listener.ts';
import { smtpRoute, type SmtpHop } from './route.ts';
import { sendToHop, type Handoff } from './send-smtp.ts';

/** Delivers claimed deliveries for one legacy domain, recording each outcome. Never throws. */
export async function deliverBySmtp(ctx: AppContext, domain: string, ds: DeliveryRow[]): Promise<void> {
  const log = ctx.log.child({ sub: 'smtp-out', domain });
  await setTransport(ctx.db, ds.filter((d) => d.transport !== 'smtp').map((d) => d.id), 'smtp');
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
      // nothing to send: a retract of mail not yet handed over, or an edit of mail already gone
      await recordAnswer(ctx.db, owedNotification(d), { state: d.state === 'fetched' ? 'fetched' : 'retracted', now });
      continue;
    }
    try {
      route ??= await smtpRoute(domain, { relay: ctx.config.smtpRelay, resolver: ctx.resolver });
      const done = await handOver(ctx, d, await prepared(d, now), route);
      await recordHandoff(ctx.db, owedNotification(d), new Date(ctx.now()));
      log.info({ msgId: d.messageId, rcpt: d.rcpt, host: done.host, reply: done.response }, 'handed over by SMTP');
    } catch (err) {
      const e = err instanceof PullmailError ? err : new PullmailError('internal', (err as Error).message, { temporary: true, cause: err });
      const giveUp = await failAttempt(ctx, d, { error: e.message, temporary: e.temporary });
      log.info({ msgId: d.messageId, rcpt: d.rcpt, code: e.code, detail: e.message, temporary: e.temporary, giveUp }, 'SMTP delivery not done');
    }
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
      return await sendToHop(hop, { from: out.sender, to: d.rcpt, raw: out.raw }, { ehloName: serverName(ctx), trustCa: ctx.config.trustCa });
    } catch (err) {
      if (!(err instanceof PullmailError) || err.code !== 'peer_unreachable') throw err;
      last = err;
    }
  }
  throw last ?? new PullmailError('no_route', 'no host to deliver to');
}
