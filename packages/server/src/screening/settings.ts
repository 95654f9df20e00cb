// The user's first-contact settings (protocol §6): the mode for strangers and the question of the
// human challenge page.
import type { FirstContact } from '@pullmail/client/wire';
import type { AppContext } from '../context.ts';
import { updateSettings, type Mailbox } from '../store/mailboxes.ts';
import { storableText } from '../text.ts';
import { hashAnswer } from './challenge-question.ts';

export interface ScreeningSettings {
  firstContact: FirstContact;
  challengeQuestion: string | null;
}

export const settingsOf = (m: Pick<Mailbox, 'firstContact' | 'challengeQuestion'>): ScreeningSettings => ({ firstContact: m.firstContact, challengeQuestion: m.challengeQuestion });

/**
 * Changes only what is given. A question comes with its answer (only the answer's hash is kept);
 * `challengeQuestion: null` removes the question and its answer.
 */
export async function changeSettings(ctx: Pick<AppContext, 'db'>, mailboxId: string, change: { firstContact?: FirstContact; challengeQuestion?: string | null; challengeAnswer?: string }): Promise<ScreeningSettings> {
  const updated = await updateSettings(ctx.db, mailboxId, {
    firstContact: change.firstContact,
    // shown as written on the challenge page: what PostgreSQL text cannot hold becomes U+FFFD
    ...(change.challengeQuestion !== undefined ? { challengeQuestion: change.challengeQuestion === null ? null : storableText(change.challengeQuestion) } : {}),
    ...(change.challengeQuestion === null ? { challengeAnswerHash: null } : {}),
    ...(change.challengeAnswer ? { challengeAnswerHash: hashAnswer(change.challengeAnswer) } : {}),
  });
  return settingsOf(updated);
}
