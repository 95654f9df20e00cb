// Mail the MX accepted, into the recipients' mailboxes: the same recipient policy as pm1 decides
// between the inbox and a held request (protocol §6). One transaction for all recipients, so the
// 250 reply means every copy is stored; a single recipient without a CRI token is one INSERT, atomic
// and durable on its own, so it needs no BEGIN and COMMIT round trips. That INSERT also checks that
// the rules RCPT read still hold (store/smtp-copies.ts), so DATA is one round trip, and it may share
// its statement and commit with other sessions' copies (createCopyBatcher).
import type { AppContext } from '../context.ts';
import { senderFacts, type SenderFacts } from '../delivery/recipient-policy.ts';
import { decideRedeeming, type PolicyDecision, type PolicyFacts } from '../policy/decide.ts';
import { randomId } from '../protocol/jws.ts';
import { discardBlob, linkBody, storeBody } from '../store/bodies.ts';
import type { Executor } from '../store/db.ts';
import { insertSmtpCopy, type SmtpCopy } from '../store/inbound.ts';
import { insertSmtpCopyIf, type GuardedCopy } from '../store/smtp-copies.ts';
import type { Mailbox } from '../store/mailboxes.ts';
import type { RcptGrant } from './cri-gate.ts';

export interface AcceptedMail {
  raw: Buffer;
  /** The message as received (before our trace headers) is over PULLMAIL_MAX_MESSAGE_BYTES. */
  tooLarge: boolean;
  /** Canonical sender the policy judges ('' for the null sender). */
  sender: string;
  /** SPF or DKIM proved the sender's domain. */
  senderVerified: boolean;
  /** DMARC failed with p=quarantine: never straight into the inbox. */
  quarantine: boolean;
  subject: string;
  sentAt?: Date;
}

/** What RCPT read about the envelope sender at each recipient (delivery/recipient-policy.ts findRcpt). */
export interface RcptFacts {
  sender: string;
  byRcpt: ReadonlyMap<string, SenderFacts>;
}

export interface StoredCopy {
  rcpt: string;
  decision: PolicyDecision['decision'];
  reason: PolicyDecision['reason'];
  id?: string;
}

/**
 * Applies the policy per recipient and stores: `fetch` → inbox (state `stored`), `hold` and
 * `challenge` → held request with the bytes kept (accepting it moves them to the inbox without a
 * fetch), `reject` → nothing stored for that recipient. A token accepted at RCPT (`grants`, docs/cri.md)
 * lets the message in where the policy would hold it, or where only an unproven sender identity
 * would let it in; it never overrides a block. `seen` (RCPT's reading of the rules) spares reading
 * them again where they still hold; the decision is the one fresh facts would give either way.
 */
export async function storeAccepted(
  ctx: AppContext,
  mail: AcceptedMail,
  rcpts: Map<string, Mailbox>,
  grants: ReadonlyMap<string, RcptGrant> = new Map(),
  opts: {
    /** RCPT's reading of the rules for the envelope sender. */
    seen?: RcptFacts;
    /** Stores a guarded copy on ctx.db outside a transaction, with other sessions' (createCopyBatcher). */
    batch?: (copy: GuardedCopy) => Promise<string | undefined>;
  } = {},
): Promise<StoredCopy[]> {
  const { seen, batch } = opts;
  const now = new Date(ctx.now());
  // one copy of the bytes for every recipient (a blob when large)
  const body = await storeBody(ctx.db, mail.raw, { maxBytes: Number.MAX_SAFE_INTEGER });
  const facts = (f: SenderFacts, grant?: RcptGrant): PolicyFacts => ({
    ...f,
    tooLarge: mail.tooLarge,
    senderVerified: mail.senderVerified,
    validPow: false,
    grant: grant ? { reason: grant.reason, state: 'offered' } : undefined,
    quarantine: mail.quarantine,
  });
  const copy = (mailbox: Mailbox, rcpt: string, remoteId: string, d: PolicyDecision): SmtpCopy => {
    const stored = d.decision === 'fetch';
    return {
      mailboxId: mailbox.id,
      iss: 'smtp',
      remoteId,
      rcpt,
      sender: mail.sender,
      subject: mail.subject.slice(0, 998),
      size: body.size,
      sha256: body.sha256,
      sentAt: mail.sentAt,
      via: 'smtp',
      state: stored ? 'stored' : 'held',
      raw: body.raw,
      blobId: body.blobId,
      receivedAt: now,
      storedAt: stored ? now : null,
    };
  };
  // only a consent redeemed at the grant (a CRI token) writes besides the inserts
  const atomically = <T>(fn: (tx: Executor) => Promise<T>): Promise<T> => (rcpts.size === 1 && grants.size === 0 ? fn(ctx.db) : ctx.db.transaction(fn));
  const copies = await linkBody(ctx.db, body, () => atomically(async (tx) => {
    const out: StoredCopy[] = [];
    const guarded = batch && tx === ctx.db ? batch : (copy: GuardedCopy) => insertSmtpCopyIf(tx, copy);
    for (const [rcpt, mailbox] of rcpts) {
      const grant = grants.get(rcpt);
      const remoteId = randomId(16);
      // RCPT's facts are about the envelope sender; the null sender is judged by its From field
      const atRcpt = !grant && seen?.sender === mail.sender ? seen.byRcpt.get(rcpt) : undefined;
      if (atRcpt) {
        // no credential to redeem: the table needs nothing but the facts
        const d = await decideRedeeming(facts(atRcpt), () => Promise.resolve(false));
        const id = d.decision === 'reject' ? undefined : await guarded({ row: copy(mailbox, rcpt, remoteId, d), seen: atRcpt });
        if (id) {
          out.push({ rcpt, ...d, id });
          continue;
        }
        // a rule or setting changed since RCPT: decide again on what the database says now
      }
      // protocol §6 order: a consent use is spent only when the table reaches the grant
      const d = await decideRedeeming(facts(await senderFacts(tx, mailbox, mail.sender, now), grant), () => grant!.redeem(tx));
      if (d.decision === 'reject') {
        out.push({ rcpt, ...d });
        continue;
      }
      const id = await insertSmtpCopy(tx, copy(mailbox, rcpt, remoteId, d));
      out.push({ rcpt, ...d, id });
    }
    return out;
  }));
  // every recipient refused it: nothing names the blob
  if (copies.every((c) => !c.id)) await discardBlob(ctx.db, body.blobId);
  return copies;
}
