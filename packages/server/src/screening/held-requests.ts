// Held first-contact requests (protocol §6 `hold`): the user lists them and accepts, rejects or
// blocks each. Every door (REST today) calls these; the sender's node learns the outcome when it asks
// again about its held delivery.
import type { RequestOutcome } from '@pullmail/client/wire';
import type { AppContext } from '../context.ts';
import { overrideKeptAnswers } from '../delivery/one-copy.ts';
import { PullmailError } from '../errors.ts';
import { NO_BODY } from '../store/bodies.ts';
import { findOwnInbound, listByState, queueFetch, updateInbound, type InboundRow } from '../store/inbound.ts';
import { addCorrespondents, putRule } from '../store/policy-data.ts';

type Ctx = Pick<AppContext, 'db' | 'now' | 'kick'>;

export interface RequestResult {
  id: string;
  outcome: RequestOutcome;
}

/** The user's held requests, newest first (at most 500). */
export function listHeldRequests(ctx: Ctx, mailboxId: string): ReturnType<typeof listByState> {
  return listByState(ctx.db, mailboxId, 'held', 500);
}

/** @throws PullmailError `not_found` when the request is not this user's or no longer held. */
async function heldRequest(ctx: Ctx, mailboxId: string, id: string): Promise<InboundRow> {
  const row = await findOwnInbound(ctx.db, mailboxId, id, 'held');
  if (!row) throw new PullmailError('not_found', 'no such held request');
  return row;
}

/** Fetches the message (or moves SMTP bytes to the inbox) and makes the sender a known correspondent. */
export async function acceptRequest(ctx: Ctx, mailboxId: string, id: string): Promise<RequestResult> {
  const row = await heldRequest(ctx, mailboxId, id);
  await ctx.db.transaction(async (tx) => {
    await queueFetch(tx, row.id, new Date(ctx.now()));
    await addCorrespondents(tx, mailboxId, [row.sender], 'accepted');
  });
  ctx.kick('fetch');
  return { id: row.id, outcome: 'accepted' };
}

/** Drops the request; the sender's node is answered `reject policy`. */
export async function rejectRequest(ctx: Ctx, mailboxId: string, id: string): Promise<RequestResult> {
  const row = await heldRequest(ctx, mailboxId, id);
  await ctx.db.transaction(async (tx) => {
    await updateInbound(tx, row.id, { state: 'rejected', cap: null, ...NO_BODY });
    await overrideKeptAnswers(tx, row, { decision: 'reject', reason: 'policy' });
  });
  return { id: row.id, outcome: 'rejected' };
}

/** Drops the request and blocks its sender address; the sender's node is answered `reject blocked`. */
export async function blockRequestSender(ctx: Ctx, mailboxId: string, id: string): Promise<RequestResult> {
  const row = await heldRequest(ctx, mailboxId, id);
  await ctx.db.transaction(async (tx) => {
    await updateInbound(tx, row.id, { state: 'rejected', cap: null, ...NO_BODY });
    await overrideKeptAnswers(tx, row, { decision: 'reject', reason: 'blocked' });
    await putRule(tx, mailboxId, 'block', row.sender);
  });
  return { id: row.id, outcome: 'blocked' };
}
