// The outbound queue (protocol §7): claims due deliveries, groups them by recipient domain, and pushes
// signed notifications (batched per peer through /notify/batch), recording each answer or retrying.
import { MAX_BATCH, type DeliveryState, type NotificationClaims, type NotifyResult, type PowChallenge } from '@pullmail/client/wire';
import { domainOf } from '../address.ts';
import type { AppContext } from '../context.ts';
import { seconds } from '../context.ts';
import { receiveNotification } from '../delivery/receive.ts';
import { PullmailError } from '../errors.ts';
import { notificationDeferred, notificationDelivered } from '../events.ts';
import type { PeerNode } from '../peers/discovery.ts';
import { issueCapability } from '../protocol/capability.ts';
import { signNotification } from '../protocol/notification.ts';
import type { Worker } from '../server.ts';
import { deliverBySmtp } from '../smtp/outbound.ts';
import { attachPow, claimDue, owedNotification, recordAnswer } from '../store/deliveries.ts';
import { notificationFacts, type DeliveryRow } from '../store/messages.ts';
import { failAttempt } from './attempts.ts';
import { createPoller } from './poller.ts';
import { solveInWorker } from './pow-solver.ts';

const BATCH = 200;
const NOTIFY_MAX_RESPONSE = 4 * 1024 * 1024;

/** Delivery state the sender shows for each decision (docs/operator.md delivery states). */
const STATE_FOR: Record<NotifyResult['decision'], DeliveryState> = { fetch: 'notified', hold: 'held', challenge: 'challenged', reject: 'rejected' };

type Item = { d: DeliveryRow; claims: Omit<NotificationClaims, 'iat' | 'exp' | 'jti'> };

/** Peer domains being notified at once; a slow peer holds one slot, never the whole queue. */
const MAX_DOMAINS_IN_FLIGHT = 16;

export function notifyWorker(ctx: AppContext): Worker {
  const log = ctx.log.child({ sub: 'queue' });
  const inFlight = new Set<Promise<void>>();
  const poller = createPoller({
    name: 'notify',
    pollMs: ctx.config.queuePollMs,
    batch: BATCH,
    log,
    async tick() {
      // wait for a free slot only when all are taken
      while (inFlight.size >= MAX_DOMAINS_IN_FLIGHT) await Promise.race(inFlight);
      const claimed = await claimDue(ctx.db, new Date(ctx.now()), BATCH, ctx.config.queueLeaseSeconds * 1000);
      const byDomain = new Map<string, DeliveryRow[]>();
      for (const d of claimed) byDomain.set(d.rcptDomain, [...(byDomain.get(d.rcptDomain) ?? []), d]);
      // each domain goes on by itself: the next tick does not wait for a peer that is slow to answer
      for (const [domain, ds] of byDomain) {
        const task: Promise<void> = notifyDomain(ctx, domain, ds)
          .catch((err) => log.error({ err, domain }, 'notify failed'))
          .finally(() => inFlight.delete(task));
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
    for (const it of await buildItems(ctx, ds, nowS)) await applyAnswer(ctx, it.d, await receiveNotification(ctx, { ...it.claims, iat: nowS, exp: nowS + 600, jti: 'local' }, { rateLimit: false }));
    return;
  }
  let node: PeerNode | null;
  try {
    node = await ctx.discovery.discover(domain);
  } catch (err) {
    return failAll(ctx, ds, err);
  }
  // legacy domain (no pull node): the SMTP gateway delivers, with the same rows, leases and backoff
  if (!node) return deliverBySmtp(ctx, domain, ds);
  const items = await buildItems(ctx, ds, nowS);
  for (let i = 0; i < items.length; i += MAX_BATCH) {
    const chunk = items.slice(i, i + MAX_BATCH);
    try {
      const jws = await Promise.all(chunk.map((it) => signNotification(ctx.keys, it.claims, nowS)));
      const results = await postNotifications(ctx, node, jws);
      for (const [j, it] of chunk.entries()) {
        const r = results[j];
        if ('error' in r) await failAttempt(ctx, it.d, { error: `${r.error}: ${r.detail}`, temporary: TRANSIENT_REFUSALS.has(r.error) });
        else {
          await applyAnswer(ctx, it.d, r);
          notificationDelivered(ctx, { msgId: it.d.messageId, rcpt: it.d.rcpt, kind: it.claims.kind, result: r });
        }
      }
    } catch (err) {
      await failAll(ctx, chunk.map((c) => c.d), err);
    }
  }
}

type ItemResult = NotifyResult | { error: string; detail: string };

async function postNotifications(ctx: AppContext, node: PeerNode, jws: string[]): Promise<ItemResult[]> {
  const single = jws.length === 1;
  let res;
  try {
    res = await ctx.fetcher.fetch(single ? node.notify : `${node.notify}/batch`, {
      method: 'POST',
      headers: single ? { 'content-type': 'application/jose' } : { 'content-type': 'application/json' },
      body: single ? jws[0] : JSON.stringify({ notifications: jws }),
      maxBytes: NOTIFY_MAX_RESPONSE,
    });
  } catch (err) {
    // an answer over the size cap is garbage from the peer, like a 5xx or non-JSON: try again later
    if (err instanceof PullmailError && err.code === 'peer_error' && !err.temporary) throw new PullmailError('peer_error', err.message, { cause: err, temporary: true });
    throw err;
  }
  let body: unknown;
  try {
    body = JSON.parse(res.body.toString('utf8'));
  } catch {
    body = undefined;
  }
  if (res.status === 429) {
    const retryAfter = Number(res.headers['retry-after']) || 60;
    throw new PullmailError('rate_limited', `${node.origin} asks us to slow down`, { temporary: true, retryAfter });
  }
  if (res.status >= 500 || body === undefined) throw new PullmailError('peer_error', `${node.notify} answered ${res.status}`, { temporary: true });
  if (res.status !== 200) {
    const e = body as { error?: string; detail?: string };
    // a refusal of a single notification is about that item; of a batch, about every item
    return jws.map(() => ({ error: String(e.error ?? res.status), detail: String(e.detail ?? '') }));
  }
  const results = single ? [body] : (body as { results?: unknown[] }).results;
  if (!Array.isArray(results) || results.length !== jws.length) throw new PullmailError('peer_error', `${node.notify} answered a malformed result`, { temporary: true });
  return results.map((r) => {
    const x = r as Partial<NotifyResult> & { error?: string };
    // own properties only: "constructor" is `in` every object
    if (x && typeof x.decision === 'string' && Object.hasOwn(STATE_FOR, x.decision)) return x as NotifyResult;
    // neither a decision nor a refusal: a malformed answer, retried like one
    if (typeof x?.error !== 'string') return { error: 'peer_error', detail: `${node.notify} answered no decision` };
    return { error: x.error, detail: String((x as { detail?: string }).detail ?? '') };
  });
}

/**
 * Refusals that can pass by themselves: a peer that has not yet seen our newest key (rotation, or
 * several processes) or whose discovery of us failed for a moment.
 */
const TRANSIENT_REFUSALS = new Set(['unknown_key', 'peer_unreachable', 'peer_error', 'rate_limited']);

async function applyAnswer(ctx: AppContext, d: DeliveryRow, r: NotifyResult): Promise<void> {
  const now = ctx.now();
  const challenge = r.decision === 'challenge' ? r.challenge : undefined;
  const pow = challenge?.type === 'pow' ? challenge : undefined;
  // a pow challenge is rechecked too: if solving fails, the sender still learns a later reject or expiry
  const waiting = d.notifyKind !== 'retract' && (r.decision === 'hold' || r.decision === 'challenge');
  // ask again while the recipient may still decide, to learn a rejection or expiry
  const recheckUntil = d.createdAt.getTime() + (ctx.config.requestExpirySeconds + 86_400) * 1000;
  const recheckAt = waiting && now < recheckUntil ? new Date(now + ctx.config.heldRecheckSeconds * 1000) : undefined;
  await recordAnswer(ctx.db, owedNotification(d), {
    state: d.notifyKind === 'retract' ? 'retracted' : STATE_FOR[r.decision],
    reason: r.decision === 'reject' ? r.reason : null,
    challenge,
    challengeUrl: challenge && 'url' in challenge ? (challenge.url ?? null) : null,
    now: new Date(now),
    recheckAt,
  });
  if (pow && d.notifyKind !== 'retract') void answerPow(ctx, d, pow);
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
  const message = err instanceof Error ? err.message : String(err);
  const retryAfterMs = err instanceof PullmailError && err.retryAfter ? err.retryAfter * 1000 : undefined;
  for (const d of ds) await failAttempt(ctx, d, { error: message, temporary, retryAfterMs });
  notificationDeferred(ctx, { peer: ds[0]?.rcptDomain ?? '', count: ds.length, error: message, temporary });
}
