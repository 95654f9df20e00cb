// Held requests, allow/block rules and settings (docs/operator.md, protocol §6).
import { FIRST_CONTACT_MODES, RULE_ACTIONS, type FirstContact, type HeldRequest, type Rule, type Settings } from '@pullmail/client/wire';
import { Hono } from 'hono';
import { z } from 'zod';
import { canonicalAddress, isDomainName, normalizeDomain } from '../../address.ts';
import type { AppContext } from '../../context.ts';
import { PullmailError } from '../../errors.ts';
import { NO_BODY } from '../../store/bodies.ts';
import { findOwnInbound, listByState, queueFetch, updateInbound } from '../../store/inbound.ts';
import { updateSettings } from '../../store/mailboxes.ts';
import { overrideAnswers } from '../../store/replay.ts';
import { hashAnswer } from './challenge-page.ts';
import { addCorrespondents, deleteRule, listRules, putRule } from '../../store/policy-data.ts';
import { readJson } from '../body.ts';
import type { UserEnv } from '../middleware/auth.ts';

/** `a@x.test` or `@x.test`, canonical; undefined when neither. */
export function canonicalPattern(p: string): string | undefined {
  if (p.startsWith('@')) {
    const d = normalizeDomain(p.slice(1));
    return isDomainName(d) ? `@${d}` : undefined;
  }
  return canonicalAddress(p);
}

const ruleSchema = z.object({
  action: z.enum(RULE_ACTIONS),
  pattern: z.string().max(320).transform((p, ctx) => canonicalPattern(p) ?? (ctx.addIssue({ code: 'custom', message: 'must be an address or @domain' }), z.NEVER)),
});
const settingsSchema = z
  .object({
    first_contact: z.enum(FIRST_CONTACT_MODES).optional(),
    /** The question of the human challenge page; null removes it. */
    challenge_question: z.string().trim().min(1).max(300).nullable().optional(),
    challenge_answer: z.string().trim().min(1).max(200).optional(),
  })
  .refine((s) => !s.challenge_question || s.challenge_answer, 'challenge_answer is needed with challenge_question');

const settingsOf = (m: { firstContact: FirstContact; challengeQuestion: string | null }): Settings => ({
  first_contact: m.firstContact,
  challenge_question: m.challengeQuestion,
});

export function policyRoutes(ctx: AppContext): Hono<UserEnv> {
  const app = new Hono<UserEnv>();
  const held = async (mailboxId: string, id: string) => {
    const row = await findOwnInbound(ctx.db, mailboxId, id, 'held');
    if (!row) throw new PullmailError('not_found', 'no such held request');
    return row;
  };

  app.get('/requests', async (c) => {
    const rows = await listByState(ctx.db, c.get('mailbox').id, 'held', 500);
    const requests: HeldRequest[] = rows.map((r) => ({ id: r.id, from: r.sender, subject: r.subject, received_at: r.receivedAt.toISOString(), size: r.size, via: r.via }));
    return c.json({ requests });
  });

  app.post('/requests/:id/accept', async (c) => {
    const mailbox = c.get('mailbox');
    const row = await held(mailbox.id, c.req.param('id'));
    await ctx.db.transaction(async (tx) => {
      await queueFetch(tx, row.id, new Date(ctx.now()));
      await addCorrespondents(tx, mailbox.id, [row.sender], 'accepted');
    });
    ctx.kick('fetch');
    return c.json({ id: row.id, state: 'accepted' });
  });

  app.post('/requests/:id/reject', async (c) => {
    const row = await held(c.get('mailbox').id, c.req.param('id'));
    await ctx.db.transaction(async (tx) => {
      await updateInbound(tx, row.id, { state: 'rejected', cap: null, ...NO_BODY });
      // the sender's node learns it when it asks again about the held delivery
      await overrideAnswers(tx, row, { decision: 'reject', reason: 'policy' });
    });
    return c.json({ id: row.id, state: 'rejected' });
  });

  app.post('/requests/:id/block', async (c) => {
    const mailbox = c.get('mailbox');
    const row = await held(mailbox.id, c.req.param('id'));
    await ctx.db.transaction(async (tx) => {
      await updateInbound(tx, row.id, { state: 'rejected', cap: null, ...NO_BODY });
      await overrideAnswers(tx, row, { decision: 'reject', reason: 'blocked' });
      await putRule(tx, mailbox.id, 'block', row.sender);
    });
    return c.json({ id: row.id, state: 'blocked' });
  });

  app.get('/rules', async (c) => {
    const rules: Rule[] = (await listRules(ctx.db, c.get('mailbox').id)).map((r) => ({ id: r.id, action: r.action, pattern: r.pattern }));
    return c.json({ rules });
  });

  app.post('/rules', async (c) => {
    const body = await readJson(c, ruleSchema);
    const r = await putRule(ctx.db, c.get('mailbox').id, body.action, body.pattern);
    return c.json({ id: r.id, action: r.action, pattern: r.pattern }, 201);
  });

  app.delete('/rules/:id', async (c) => {
    if (!(await deleteRule(ctx.db, c.get('mailbox').id, c.req.param('id')))) throw new PullmailError('not_found', 'no such rule');
    return c.body(null, 204);
  });

  app.get('/settings', (c) => c.json(settingsOf(c.get('mailbox'))));
  app.put('/settings', async (c) => {
    const body = await readJson(c, settingsSchema);
    const updated = await updateSettings(ctx.db, c.get('mailbox').id, {
      firstContact: body.first_contact,
      ...(body.challenge_question !== undefined ? { challengeQuestion: body.challenge_question } : {}),
      ...(body.challenge_question === null ? { challengeAnswerHash: null } : {}),
      ...(body.challenge_answer ? { challengeAnswerHash: hashAnswer(body.challenge_answer) } : {}),
    });
    return c.json(settingsOf(updated));
  });
  return app;
}
