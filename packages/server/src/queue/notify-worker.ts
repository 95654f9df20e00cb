// The outbound queue (protocol §7): claims due deliveries, groups them by recipient domain, and sends
// each group its way: to a recipient on this node directly, to a pull node through
// peers/notify-client.ts (batched per peer through /notify/batch), to a legacy domain through
// smtp/outbound.ts. Every outcome is recorded the same way (queue/delivery-updates.ts).
import { MAX_BATCH, type NotificationClaims, type NotificationKind, type PowChallenge } from '@pullmail/client/wire';
import { domainOf } from '../address.ts';
import type { AppContext } from '../context.ts';
import { seconds } from '../context.ts';
import { receiveNotification } from '../delivery/receive.ts';
import { PullmailError } from '../errors.ts';
import { notificationDeferred, notificationDelivered } from '../events.ts';
import type { PeerNode } from '../peers/discovery.ts';
import { postNotifications } from '../peers/notify-client.ts';
import { issueCapability } from '../protocol/capability.ts';
import { signNotification } from '../protocol/notification.ts';
import type { Worker } from '../server.ts';
import { deliverBySmtp } from '../smtp/outbound.ts';
import { attachPow, claimDue, owedNotification, recordAnswer, recordAnswers, recordFailure, recordHandoff, setTransport } from '../store/deliveries.ts';
import { notificationFacts, type DeliveryRow } from '../store/messages.ts';
import { deliveryUpdate, notifyOutcomes, smtpDeliveryOutcome, type DeliveryOutcome, type DeliveryUpdate } from './delivery-updates.ts';
import { backoffMs, createPoller } from './poller.ts';
import { solveInWorker } from './pow-solver.ts';

const BATCH = 200;

type Item = { d: DeliveryRow; claims: Omit<NotificationClaims, 'iat' | 'exp' | 'jti'> };

/** Peer domains being notified at once; a slow peer holds one slot, never the whole queue. */
const MAX_DOMAINS_IN_FLIGHT = 16;

export function notifyWorker(ctx: AppContext): Worker {
  const log = ctx.log.child({ sub: 'queue' });
  const inFlight = new Set<Promise<void>>();
  // domains with a request under way: what is queued for them meanwhile stays unclaimed, and goes in
  // one batch request when that one is answered (protocol §2 batch), not in many requests of one or two
  const busy = new Set<string>();
  const poller = createPoller({
    name: 'notify',
    pollMs: ctx.config.queuePollMs,
    batch: BATCH,
    log,
    async tick() {
      // wait for a free slot only when all are taken
      while (inFlight.size >= MAX_DOMAINS_IN_FLIGHT) await Promise.race(inFlight);
      const claimed = await claimDue(ctx.db, new Date(ctx.now()), BATCH, ctx.config.queueLeaseSeconds * 1000, ctx.leaseOwner, [...busy]);
      const byDomain = new Map<string, DeliveryRow[]>();
      for (const d of claimed) byDomain.set(d.rcptDomain, [...(byDomain.get(d.rcptDomain) ?? []), d]);
      // each domain goes on by itself: the next tick does not wait for a peer that is slow to answer
      for (const [domain, ds] of byDomain) {
        busy.add(domain);
        const task: Promise<void> = notifyDomain(ctx, domain, ds)
          .catch((err) => log.error({ err, domain }, 'notify failed'))
          .finally(() => {
            inFlight.delete(task);
            busy.delete(domain);
            // what was queued for this domain meanwhile is due now
            poller.kick?.();
          });
        inFlight.add(task);
      }
      return claimed.length;
    },
  });
  return {
    ...poller,
    async stop() {
      await poller.stop();
      await Promise.all(inFlight);
    },
  };
}

type Facts = Awaited<ReturnType<typeof notificationFacts>>;

async function buildItem(ctx: AppContext, d: DeliveryRow, facts: Facts, nowS: number): Promise<Item> {
  const m = facts.get(`${d.messageId}:${d.version}`)!;
  const iss = domainOf(m.sender);
  const sentAt = Math.floor(m.createdAt.getTime() / 1000);
  const cap = await issueCapability(ctx.keys, { iss, aud: d.rcptDomain, sub: d.messageId, rcpt: d.rcpt, exp: sentAt + ctx.config.retentionSeconds }, nowS);
  return {
    d,
    claims: {
      iss,
      aud: d.rcptDomain,
      kind: d.notifyKind!,
      msg: { id: d.messageId, from: m.sender, rcpt: d.rcpt, version: d.version, size: m.size, sha256: m.sha256, subject: m.subject, sent_at: sentAt },
      fetch: { url: `${ctx.publicUrl}/pm/v1/messages/${d.messageId}`, cap },
      ...(d.consent ? { consent: d.consent } : {}),
      ...(d.pow ? { pow: d.pow } : {}),
    },
  };
}

/** The notifications owed for `ds`, each with a fresh capability. */
async function buildItems(ctx: AppContext, ds: DeliveryRow[], nowS: number): Promise<Item[]> {
  const facts = await notificationFacts(ctx.db, ds);
  return Promise.all(ds.map((d) => buildItem(ctx, d, facts, nowS)));
}

async function notifyDomain(ctx: AppContext, domain: string, ds: DeliveryRow[]): Promise<void> {
  const nowS = seconds(ctx);
  if (ctx.config.domains.includes(domain)) {
    // a local recipient: the same decision path, without the network
    for (const it of await buildItems(ctx, ds, nowS)) {
      const result = await receiveNotification(ctx, { ...it.claims, iat: nowS, exp: nowS + 600, jti: 'local' }, { rateLimit: false });
      await record(ctx, it.d, { outcome: 'decided', result });
    }
    return;
  }
  let node: PeerNode | null;
  try {
    node = await ctx.discovery.discover(domain);
  } catch (err) {
    return failAll(ctx, ds, err);
  }
  // legacy domain (no pull node): the SMTP gateway delivers, with the same rows, leases and backoff
  if (!node) return handOverBySmtp(ctx, domain, ds);
  const items = await buildItems(ctx, ds, nowS);
  for (let i = 0; i < items.length; i += MAX_BATCH) {
    const chunk = items.slice(i, i + MAX_BATCH);
    try {
      const jws = await Promise.all(chunk.map((it) => signNotification(ctx.keys, it.claims, nowS)));
      const answer = await postNotifications(ctx.fetcher, node, jws);
      const outcomes = notifyOutcomes(answer, chunk.length);
      await recordAll(ctx, chunk.map((it) => it.d), outcomes);
      for (const [j, it] of chunk.entries()) {
        const o = outcomes[j];
        if (o.outcome === 'decided') notificationDelivered(ctx, { msgId: it.d.messageId, rcpt: it.d.rcpt, kind: it.claims.kind, result: o.result });
      }
      if (answer.outcome === 'peer-failed' || answer.outcome === 'rate-limited' || answer.outcome === 'unreachable') {
        notificationDeferred(ctx, { peer: domain, count: chunk.length, error: answer.error, temporary: answer.outcome !== 'unreachable' || answer.temporary });
      }
    } catch (err) {
      await failAll(ctx, chunk.map((c) => c.d), err);
    }
  }
}

/** Legacy mail: each outcome of the SMTP hand-over is recorded as soon as it is known. */
async function handOverBySmtp(ctx: AppContext, domain: string, ds: DeliveryRow[]): Promise<void> {
  const log = ctx.log.child({ sub: 'smtp-out', domain });
  await setTransport(ctx.db, ds.filter((d) => d.transport !== 'smtp').map((d) => d.id), 'smtp');
  for await (const { d, outcome } of deliverBySmtp(ctx, domain, ds)) {
    const u = await record(ctx, d, smtpDeliveryOutcome(outcome));
    if (outcome.outcome === 'delivered') log.info({ msgId: d.messageId, rcpt: d.rcpt, host: outcome.host, reply: outcome.reply }, 'handed over by SMTP');
    if (outcome.outcome === 'failed') {
      log.info({ msgId: d.messageId, rcpt: d.rcpt, code: outcome.code, detail: outcome.error, temporary: outcome.temporary, giveUp: u.update === 'end' }, 'SMTP delivery not done');
    }
  }
}

const updateFor = (ctx: AppContext, d: DeliveryRow, outcome: DeliveryOutcome): DeliveryUpdate => deliveryUpdate(d, outcome, {
  now: ctx.now(),
  backoffMs: backoffMs(d.attempts),
  requestExpirySeconds: ctx.config.requestExpirySeconds,
  heldRecheckSeconds: ctx.config.heldRecheckSeconds,
});

/**
 * Records the outcomes of one batch request: deliveries given the same answer (and, when it is to be
 * rechecked, owing the same kind at the same time) in one statement, the rest one by one.
 */
async function recordAll(ctx: AppContext, ds: DeliveryRow[], outcomes: DeliveryOutcome[]): Promise<void> {
  const same = new Map<string, { u: Extract<DeliveryUpdate, { update: 'answer' }>; ds: DeliveryRow[] }>();
  for (const [j, d] of ds.entries()) {
    const u = updateFor(ctx, d, outcomes[j]);
    if (u.update !== 'answer' || outcomes[j].outcome !== 'decided' || (outcomes[j] as { result: { decision: string } }).result.decision === 'challenge') {
      await record(ctx, d, outcomes[j], u);
      continue;
    }
    const key = JSON.stringify([u.state, u.reason, u.challengeUrl, u.recheckAt?.getTime(), u.recheckAt ? d.notifyKind : '']);
    const group = same.get(key) ?? { u, ds: [] };
    group.ds.push(d);
    same.set(key, group);
  }
  for (const { u, ds: group } of same.values()) await recordAnswers(ctx.db, group.map(owedNotification), u);
}

/** Records what came of an attempt at `d`, whichever way it went (queue/delivery-updates.ts). */
async function record(ctx: AppContext, d: DeliveryRow, outcome: DeliveryOutcome, update?: DeliveryUpdate): Promise<DeliveryUpdate> {
  const u = update ?? updateFor(ctx, d, outcome);
  const owed = owedNotification(d);
  switch (u.update) {
    case 'answer':
      await recordAnswer(ctx.db, owed, u);
      break;
    case 'retry':
      await recordFailure(ctx.db, owed, { error: u.error, retryAt: u.retryAt });
      break;
    case 'end':
      await recordFailure(ctx.db, owed, { error: u.error, finalState: u.finalState });
      break;
    case 'handoff':
      await recordHandoff(ctx.db, owed, u.now);
      break;
  }
  const challenge = outcome.outcome === 'decided' && outcome.result.decision === 'challenge' ? outcome.result.challenge : undefined;
  if (challenge?.type === 'pow' && d.notifyKind !== 'retract') void answerPow(ctx, d, challenge);
  return u;
}

/** protocol §6: the sender node solves a proof-of-work challenge by itself, off the event loop. */
async function answerPow(ctx: AppContext, d: DeliveryRow, pow: PowChallenge): Promise<void> {
  const log = ctx.log.child({ sub: 'queue', msgId: d.messageId, rcpt: d.rcpt });
  const timeoutMs = Math.max(0, Math.min(60_000, pow.expires * 1000 - ctx.now()));
  const counter = timeoutMs > 0 ? await solveInWorker({ nonce: pow.nonce, msgId: d.messageId, bits: pow.bits, timeoutMs }) : undefined;
  if (counter === undefined) {
    log.info({ bits: pow.bits }, 'proof-of-work challenge left unanswered (too hard or timed out)');
    return;
  }
  if (await attachPow(ctx.db, owedNotification(d), { nonce: pow.nonce, counter }, new Date(ctx.now()))) ctx.kick('notify');
}

async function failAll(ctx: AppContext, ds: DeliveryRow[], err: unknown): Promise<void> {
  const temporary = err instanceof PullmailError ? err.temporary : true;
  const error = err instanceof Error ? err.message : String(err);
  const retryAfterMs = err instanceof PullmailError && err.retryAfter ? err.retryAfter * 1000 : undefined;
  for (const d of ds) await record(ctx, d, { outcome: 'failed', error, temporary, retryAfterMs });
  notificationDeferred(ctx, { peer: ds[0]?.rcptDomain ?? '', count: ds.length, error, temporary });
}
