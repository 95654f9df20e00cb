// A batch of verified notifications (protocol §2 `/notify/batch`): the decisions of receive.ts, with
// the database work done once per batch where the items allow it: one look-up of earlier answers, the
// sender limits taken once per sender, one mailbox query, and for plain new notifications one
// transaction with one lock statement, one row lock query, the policy facts once per (mailbox, sender),
// and multi-row inserts of the pending rows and answers. Anything else (update, retract, a pow answer or
// consent token, a notification already known, a challenge to issue, a second address of one mailbox
// for the same message) goes through receive.ts one by one.
import type { NotificationClaims, NotifyResult } from '@pullmail/client/wire';
import { canonicalAddress } from '../address.ts';
import type { AppContext } from '../context.ts';
import { PullmailError } from '../errors.ts';
import { decideRedeeming } from '../policy/decide.ts';
import type { Tx } from '../store/db.ts';
import { copyKey, findCopies, insertNotifiedRows, lockBatch, lockInbounds, type CopyKey, type NotifiedInbound } from '../store/inbound.ts';
import { findMailboxes, type Mailbox } from '../store/mailboxes.ts';
import { findAnswers, saveAnswers, type NotifyKey } from '../store/replay.ts';
import { answerLocked, mayReevaluate, notifyKey } from './receive.ts';
import { findRecipient } from './recipient.ts';
import { senderFacts, type SenderFacts } from './recipient-policy.ts';

interface Item {
  n: NotificationClaims;
  key: NotifyKey;
  sender: string;
  mailbox?: Mailbox;
  result?: NotifyResult;
}

const origin = (k: NotifyKey) => `${k.iss}\n${k.remoteId}\n${k.rcpt}`;

/**
 * Answers `list` (verified notifications) in order, like receiveNotification for each.
 * @throws PullmailError `rate_limited` (for the whole batch) when a sender is over its limits
 */
export async function receiveNotifications(ctx: AppContext, list: readonly NotificationClaims[]): Promise<NotifyResult[]> {
  const items: Item[] = list.map((n) => ({ n, key: notifyKey(n), sender: canonicalAddress(n.msg.from)! }));
  const earlier = await findAnswers(ctx.db, items.map((i) => i.key));
  const open: Item[] = [];
  for (const it of items) {
    const a = earlier(it.key);
    if (a && !mayReevaluate(it.n, a)) it.result = a;
    else open.push(it);
  }
  // protocol §2: every verified notification counts against the sender's limits (only a retry is free)
  const bySender = new Map<string, number>();
  for (const it of open) bySender.set(it.sender, (bySender.get(it.sender) ?? 0) + 1);
  // all or nothing: a refused batch comes again whole, so none of it may stay counted
  const { wait, sender } = await ctx.rateLimits.takeEach(bySender);
  if (wait) throw new PullmailError('rate_limited', `too many notifications from ${sender!.slice(sender!.lastIndexOf('@') + 1)}; retry in ${wait} s`, { retryAfter: wait });
  const mailboxes = await findMailboxes(ctx.db, open.map((i) => i.key.rcpt));
  // addresses with no mailbox of their own may be aliases or fall to a catch-all (delivery/recipient.ts)
  for (const rcpt of new Set(open.map((i) => i.key.rcpt).filter((r) => !mailboxes.has(r)))) {
    const found = await findRecipient(ctx.db, rcpt);
    if (found) mailboxes.set(rcpt, found.mailbox);
  }
  const plain: Item[] = [];
  const oneByOne: Item[] = [];
  const seen = new Set<string>();
  for (const it of open) {
    it.mailbox = mailboxes.get(it.key.rcpt);
    if (!it.mailbox) {
      it.result = { decision: 'reject', reason: 'unknown_recipient' };
      continue;
    }
    // a second copy in the same batch is answered after the first, as a retry
    const isPlain = it.n.kind === 'new' && !it.n.pow && !it.n.consent && !earlier(it.key) && !seen.has(origin(it.key));
    seen.add(origin(it.key));
    (isPlain ? plain : oneByOne).push(it);
  }
  if (plain.length) await ctx.db.transaction((tx) => answerPlain(ctx, tx, plain));
  for (const it of oneByOne) it.result = await ctx.db.transaction((tx) => answerLocked(ctx, tx, it.mailbox!, it.n, it.key));
  if (items.some((i) => i.result?.decision === 'fetch')) ctx.kick('fetch');
  return items.map((i) => i.result!);
}

/** New notifications without credentials, none of them answered before the locks were taken. */
async function answerPlain(ctx: AppContext, tx: Tx, plain: Item[]): Promise<void> {
  const now = new Date(ctx.now());
  plain.sort((x, y) => (origin(x.key) < origin(y.key) ? -1 : 1));
  const origins = plain.map((i) => ({ iss: i.key.iss, remoteId: i.key.remoteId, rcpt: i.key.rcpt }));
  // one copy per mailbox (delivery/one-copy.ts): the message's notifications to its other addresses wait
  const copyOf = (it: Item): CopyKey => ({ iss: it.key.iss, remoteId: it.key.remoteId, mailboxId: it.mailbox!.id });
  await lockBatch(tx, origins, plain.map(copyOf));
  const existing = await lockInbounds(tx, origins);
  const kept = await findCopies(tx, plain.map(copyOf));
  const claimed = new Set<string>();
  const again = await findAnswers(tx, plain.map((i) => i.key));
  const facts = new Map<string, Promise<SenderFacts>>();
  const rows: NotifiedInbound[] = [];
  const answers: { key: NotifyKey; result: NotifyResult }[] = [];
  const slow: Item[] = [];
  for (const it of plain) {
    const { n, key } = it;
    const mailbox = it.mailbox!;
    const copy = copyKey(copyOf(it));
    const first = !claimed.has(copy);
    claimed.add(copy);
    if (existing.has(origin(key)) || again(key) || kept.has(copy) || !first) {
      // another copy got here first (or the mailbox keeps this message under another of its addresses,
      // or will once an earlier item of this batch is in): the one-by-one path answers it as receive.ts would
      slow.push(it);
      continue;
    }
    const tooLarge = n.msg.size > ctx.config.maxMessageBytes;
    const factsKey = `${mailbox.id}\n${it.sender}`;
    if (!tooLarge && !facts.has(factsKey)) facts.set(factsKey, senderFacts(tx, mailbox, it.sender, now));
    const f = tooLarge ? undefined : await facts.get(factsKey)!;
    const d = await decideRedeeming({
      ...(f ?? { blocked: false, allowed: false, knownCorrespondent: false, firstContact: mailbox.firstContact }),
      tooLarge,
      // the notification is signed by the sender's domain (protocol §2)
      senderVerified: true,
      validPow: false,
      quarantine: false,
    }, async () => false);
    if (d.decision === 'challenge') {
      // a challenge (and perhaps its page) is made by receive.ts
      slow.push(it);
      continue;
    }
    it.result = d;
    answers.push({ key, result: d });
    if (d.decision === 'reject') continue;
    rows.push({
      mailboxId: mailbox.id,
      iss: n.iss,
      remoteId: n.msg.id,
      rcpt: key.rcpt,
      sender: it.sender,
      subject: n.msg.subject ?? '',
      size: n.msg.size,
      sha256: n.msg.sha256,
      version: n.msg.version,
      sentAt: new Date(n.msg.sent_at * 1000),
      state: d.decision === 'fetch' ? 'fetching' : 'held',
      fetchUrl: n.fetch.url,
      cap: n.fetch.cap,
      nextAttemptAt: now,
      receivedAt: now,
    });
  }
  const inserted = await insertNotifiedRows(tx, rows);
  // the locks are held and no row existed: every row goes in (a conflict would be a bug, not a race)
  if (inserted !== rows.length) throw new Error(`batch insert stored ${inserted} of ${rows.length} inbound rows`);
  await saveAnswers(tx, answers);
  for (const it of slow) it.result = await answerLocked(ctx, tx, it.mailbox!, it.n, it.key);
}
