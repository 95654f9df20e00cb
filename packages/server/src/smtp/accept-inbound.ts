// Mail the MX accepted, into the recipients' mailboxes: the same recipient policy as pm1 decides
// between the inbox and a held request (protocol §6). One transaction for all recipients, so the
// 250 reply means every copy is stored; a single recipient without a CRI token is one INSERT, atomic
// and durable on its own, so it needs no BEGIN and COMMIT round trips.
import type { AppContext } from '../context.ts';
import { senderFacts } from '../delivery/recipient-policy.ts';
import { decideRedeeming, type PolicyDecision } from '../policy/decide.ts';
import { randomId } from '../protocol/jws.ts';
import { discardBlob, linkBody, storeBody } from '../store/bodies.ts';
import type { Executor } from '../store/db.ts';
import { insertSmtpCopy } from '../store/inbound.ts';
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
 * would let it in; it never overrides a block.
 */
export async function storeAccepted(ctx: AppContext, mail: AcceptedMail, rcpts: Map<string, Mailbox>, grants: ReadonlyMap<string, RcptGrant> = new Map()): Promise<StoredCopy[]> {
  const now = new Date(ctx.now());
  // one copy of the bytes for every recipient (a blob when large)
  const body = await storeBody(ctx.db, mail.raw, { maxBytes: Number.MAX_SAFE_INTEGER });
  // only a consent redeemed at the grant (a CRI token) writes besides the inserts
  const atomically = <T>(fn: (tx: Executor) => Promise<T>): Promise<T> => (rcpts.size === 1 && grants.size === 0 ? fn(ctx.db) : ctx.db.transaction(fn));
  const copies = await linkBody(ctx.db, body, () => atomically(async (tx) => {
    const out: StoredCopy[] = [];
    for (const [rcpt, mailbox] of rcpts) {
      const grant = grants.get(rcpt);
      // protocol §6 order: a consent use is spent only when the table reaches the grant
      const d = await decideRedeeming({
        ...(await senderFacts(tx, mailbox, mail.sender, now)),
        tooLarge: mail.tooLarge,
        senderVerified: mail.senderVerified,
        validPow: false,
        grant: grant ? { reason: grant.reason, state: 'offered' } : undefined,
        quarantine: mail.quarantine,
      }, () => grant!.redeem(tx));
      if (d.decision === 'reject') {
        out.push({ rcpt, ...d });
        continue;
      }
      const stored = d.decision === 'fetch';
      const id = await insertSmtpCopy(tx, {
        mailboxId: mailbox.id,
        iss: 'smtp',
        remoteId: randomId(16),
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
      });
      out.push({ rcpt, ...d, id });
    }
    return out;
  }));
  // every recipient refused it: nothing names the blob
  if (copies.every((c) => !c.id)) await discardBlob(ctx.db, body.blobId);
  return copies;
}
