// Consent tokens for automated senders (docs/operator.md, protocol §6): create, list, revoke.
import { Hono } from 'hono';
import { z } from 'zod';
import type { AppContext } from '../../context.ts';
import { seconds } from '../../context.ts';
import { PullmailError } from '../../errors.ts';
import { issueConsent } from '../../protocol/consent.ts';
import { insertConsent, listConsents, revokeConsent } from '../../store/consent-tokens.ts';
import { readJson } from '../body.ts';
import type { UserEnv } from '../middleware/auth.ts';
import { canonicalPattern } from './policy.ts';

const createSchema = z.object({
  sender: z.string().max(320).transform((p, ctx) => canonicalPattern(p) ?? (ctx.addIssue({ code: 'custom', message: 'must be an address or @domain' }), z.NEVER)),
  max_uses: z.number().int().min(1).max(1_000_000),
  // retired signing keys stay published for a year, so a token may not outlive that
  expires_in_days: z.number().int().min(1).max(365),
});

export function consentRoutes(ctx: AppContext): Hono<UserEnv> {
  const app = new Hono<UserEnv>();

  app.post('/consent-tokens', async (c) => {
    const mailbox = c.get('mailbox');
    const body = await readJson(c, createSchema);
    const nowS = seconds(ctx);
    const exp = nowS + body.expires_in_days * 86_400;
    const { token, jti } = await issueConsent(ctx.keys, { iss: mailbox.domain, sub: mailbox.address, aud: body.sender, max_uses: body.max_uses, exp }, nowS);
    const row = await insertConsent(ctx.db, { mailboxId: mailbox.id, jti, senderPattern: body.sender, maxUses: body.max_uses, expiresAt: new Date(exp * 1000) });
    return c.json({ id: row.id, token, sender: body.sender, max_uses: body.max_uses, expires_at: row.expiresAt.toISOString() }, 201);
  });

  app.get('/consent-tokens', async (c) => {
    const rows = await listConsents(ctx.db, c.get('mailbox').id);
    return c.json({
      tokens: rows.map((r) => ({
        id: r.id,
        sender: r.senderPattern,
        max_uses: r.maxUses,
        uses: r.uses,
        expires_at: r.expiresAt.toISOString(),
        revoked: r.revokedAt !== null,
        created_at: r.createdAt.toISOString(),
      })),
    });
  });

  app.delete('/consent-tokens/:id', async (c) => {
    if (!(await revokeConsent(ctx.db, c.get('mailbox').id, c.req.param('id'), new Date(ctx.now())))) throw new PullmailError('not_found', 'no such consent token');
    return c.body(null, 204);
  });
  return app;
}
