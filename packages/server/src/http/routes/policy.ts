// Held requests, allow/block rules and settings (docs/operator.md, protocol §6): parse, call the
// use case in screening/, shape the answer.
import { FIRST_CONTACT_MODES, RULE_ACTIONS, type HeldRequest, type Rule, type Settings } from '@pullmail/client/wire';
import { Hono } from 'hono';
import { z } from 'zod';
import type { AppContext } from '../../context.ts';
import { acceptRequest, blockRequestSender, listHeldRequests, rejectRequest } from '../../screening/held-requests.ts';
import { addRule, listRules, removeRule } from '../../screening/rules.ts';
import { senderPattern } from '../../screening/sender-pattern.ts';
import { changeSettings, settingsOf, type ScreeningSettings } from '../../screening/settings.ts';
import { readJson } from '../body.ts';
import type { UserEnv } from '../middleware/auth.ts';

export const ruleSchema = z.object({ action: z.enum(RULE_ACTIONS), pattern: senderPattern });
export const settingsSchema = z
  .object({
    first_contact: z.enum(FIRST_CONTACT_MODES).optional(),
    /** The question of the human challenge page; null removes it. */
    challenge_question: z.string().trim().min(1).max(300).nullable().optional(),
    challenge_answer: z.string().trim().min(1).max(200).optional(),
  })
  .refine((s) => !s.challenge_question || s.challenge_answer, 'challenge_answer is needed with challenge_question');

const settingsBody = (s: ScreeningSettings): Settings => ({ first_contact: s.firstContact, challenge_question: s.challengeQuestion });
const ruleBody = (r: { id: string; action: Rule['action']; pattern: string }): Rule => ({ id: r.id, action: r.action, pattern: r.pattern });

export function policyRoutes(ctx: AppContext): Hono<UserEnv> {
  const app = new Hono<UserEnv>();

  app.get('/requests', async (c) => {
    const rows = await listHeldRequests(ctx, c.get('mailbox').id);
    const requests: HeldRequest[] = rows.map((r) => ({ id: r.id, from: r.sender, subject: r.subject, received_at: r.receivedAt.toISOString(), size: r.size, via: r.via }));
    return c.json({ requests });
  });
  for (const [action, run] of [['accept', acceptRequest], ['reject', rejectRequest], ['block', blockRequestSender]] as const) {
    app.post(`/requests/:id/${action}`, async (c) => {
      const { id, outcome } = await run(ctx, c.get('mailbox').id, c.req.param('id'));
      return c.json({ id, state: outcome });
    });
  }

  app.get('/rules', async (c) => c.json({ rules: (await listRules(ctx, c.get('mailbox').id)).map(ruleBody) }));
  app.post('/rules', async (c) => {
    const body = await readJson(c, ruleSchema);
    return c.json(ruleBody(await addRule(ctx, c.get('mailbox').id, body)), 201);
  });
  app.delete('/rules/:id', async (c) => {
    await removeRule(ctx, c.get('mailbox').id, c.req.param('id'));
    return c.body(null, 204);
  });

  app.get('/settings', (c) => c.json(settingsBody(settingsOf(c.get('mailbox')))));
  app.put('/settings', async (c) => {
    const body = await readJson(c, settingsSchema);
    const updated = await changeSettings(ctx, c.get('mailbox').id, { firstContact: body.first_contact, challengeQuestion: body.challenge_question, challengeAnswer: body.challenge_answer });
    return c.json(settingsBody(updated));
  });
  return app;
}
