// Allow and block rules (protocol §6): one action per sender pattern (see sender-pattern.ts).
import type { RuleAction } from '@pullmail/client/wire';
import type { AppContext } from '../context.ts';
import { PullmailError } from '../errors.ts';
import { deleteRule, listRules as listRuleRows, putRule, type RuleRow } from '../store/policy-data.ts';

type Ctx = Pick<AppContext, 'db'>;

export function listRules(ctx: Ctx, mailboxId: string): Promise<RuleRow[]> {
  return listRuleRows(ctx.db, mailboxId);
}

/** Adds the rule, or replaces the action of the rule for the same canonical `pattern`. */
export function addRule(ctx: Ctx, mailboxId: string, rule: { action: RuleAction; pattern: string }): Promise<RuleRow> {
  return putRule(ctx.db, mailboxId, rule.action, rule.pattern);
}

/** @throws PullmailError `not_found` when the user has no such rule. */
export async function removeRule(ctx: Ctx, mailboxId: string, id: string): Promise<void> {
  if (!(await deleteRule(ctx.db, mailboxId, id))) throw new PullmailError('not_found', 'no such rule');
}
