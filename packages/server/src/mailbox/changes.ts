// The change journal as a client follows it (GET /api/v1/changes?since=): what was added, flagged or
// removed in which folder, in order. IMAP IDLE follows the same journal.
import type { MailChanges } from '@pullmail/client/wire';
import type { AppContext } from '../context.ts';
import { changesSince } from '../store/folders.ts';
import type { Mailbox } from '../store/mailboxes.ts';

export async function mailChanges(ctx: AppContext, mailbox: Mailbox, since: number, limit = 500): Promise<MailChanges> {
  const changes = await changesSince(ctx.db, mailbox.id, since, limit);
  return { changes, cursor: changes.at(-1)?.id ?? since };
}
