// Consent tokens for automated senders (docs/operator.md, protocol §6): create, list, revoke through
// screening/consent-tokens.ts.
import type { ConsentTokenCreated, ConsentTokenInfo } from '@pullmail/client/wire';
import { Hono } from 'hono';
import { z } from 'zod';
import type { AppContext } from '../../context.ts';
import { createConsentToken, listConsentTokens, revokeConsentToken } from '../../screening/consent-tokens.ts';
import { senderPattern } from '../../screening/sender-pattern.ts';
import { readJson } from '../body.ts';
import type { UserEnv } from '../middleware/auth.ts';

export const createSchema = z.object({
  sender: senderPattern,
  max_uses: z.number().int().min(1).max(1_000_000),
  // retired signing keys stay published for a year, so a token may not outlive that
  expires_in_days: z.number().int().min(1).max(365),
});

export function consentRoutes(ctx: AppContext): Hono<UserEnv> {
  const app = new Hono<UserEnv>();

  app.post('/consent-tokens', async (c) => {
    const body = await readJson(c, createSchema);
    const { token, row } = await createConsentToken(ctx, c.get('mailbox'), { sender: body.sender, maxUses: body.max_uses, expiresInDays: body.expires_in_days });
    const created: ConsentTokenCreated = { id: row.id, token, sender: row.senderPattern, max_uses: row.maxUses, expires_at: row.expiresAt.toISOString() };
    return c.json(created, 201);
  });

  app.get('/consent-tokens', async (c) => {
    const tokens: ConsentTokenInfo[] = (await listConsentTokens(ctx, c.get('mailbox').id)).map((r) => ({
      id: r.id,
      sender: r.senderPattern,
      max_uses: r.maxUses,
      uses: r.uses,
      expires_at: r.expiresAt.toISOString(),
      revoked: r.revokedAt !== null,
      created_at: r.createdAt.toISOString(),
    }));
    return c.json({ tokens });
  });

  app.delete('/consent-tokens/:id', async (c) => {
    await revokeConsentToken(ctx, c.get('mailbox').id, c.req.param('id'));
    return c.body(null, 204);
  });
  return app;
}
