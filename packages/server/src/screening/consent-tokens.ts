// Consent tokens for automated senders (protocol §6): the user creates one for a sender pattern, with
// a number of uses and a lifetime; lists them (never the token again) and revokes them.
import { seconds, type AppContext } from '../context.ts';
import { PullmailError } from '../errors.ts';
import { issueConsent } from '../protocol/consent.ts';
import { insertConsent, listConsents, revokeConsent, type ConsentRow } from '../store/consent-tokens.ts';
import type { Mailbox } from '../store/mailboxes.ts';

type Ctx = Pick<AppContext, 'db' | 'keys' | 'now'>;

/** Signs a token for `sender` (canonical pattern); the token is returned once and only its jti is kept. */
export async function createConsentToken(ctx: Ctx, mailbox: Pick<Mailbox, 'id' | 'address' | 'domain'>, req: { sender: string; maxUses: number; expiresInDays: number }): Promise<{ token: string; row: ConsentRow }> {
  const nowS = seconds(ctx);
  const exp = nowS + req.expiresInDays * 86_400;
  const { token, jti } = await issueConsent(ctx.keys, { iss: mailbox.domain, sub: mailbox.address, aud: req.sender, max_uses: req.maxUses, exp }, nowS);
  const row = await insertConsent(ctx.db, { mailboxId: mailbox.id, jti, senderPattern: req.sender, maxUses: req.maxUses, expiresAt: new Date(exp * 1000) });
  return { token, row };
}

export function listConsentTokens(ctx: Pick<AppContext, 'db'>, mailboxId: string): Promise<ConsentRow[]> {
  return listConsents(ctx.db, mailboxId);
}

/** Revoking twice is fine. @throws PullmailError `not_found` when the user has no such token. */
export async function revokeConsentToken(ctx: Pick<AppContext, 'db' | 'now'>, mailboxId: string, id: string): Promise<void> {
  if (!(await revokeConsent(ctx.db, mailboxId, id, new Date(ctx.now())))) throw new PullmailError('not_found', 'no such consent token');
}
