// Adding one message from an export, an mbox or a Maildir to a mailbox (`pullmail-server import`,
// docs/operator.md "Export and import"): into the folder it came from (made when missing), with its
// flags and date, unless a copy is there already: the same Message-ID field (appendMessage), or the
// same bytes up to a final line break for a message without one (mail/message-digest.ts).
import type { AppContext } from '../context.ts';
import { PullmailError } from '../errors.ts';
import { peekHeaders } from '../mail/header-peek.ts';
import { sameMessageDigests } from '../mail/message-digest.ts';
import { findByDigestWithoutMessageId, findFolder, insertFolder, type FolderRow } from '../store/folders.ts';
import type { Mailbox } from '../store/mailboxes.ts';
import { appendMessage } from './append.ts';
import { checkFolderName } from './folder-name.ts';
import { partitionFlags } from './flags.ts';
import { isRequestSummaryId } from './request-summary.ts';

export interface ImportInput {
  raw: Buffer;
  /** `INBOX` when not given. */
  folder?: string;
  flags?: readonly string[];
  internalDate?: Date;
}

export interface ImportOutcome {
  id: string;
  result: 'added' | 'duplicate';
  /** Flags that no IMAP message can carry, left off rather than failing the message. */
  ignored_flags: string[];
}

type Ctx = Pick<AppContext, 'db' | 'config' | 'now'>;

async function importFolder(ctx: Ctx, mailbox: Mailbox, rawName: string): Promise<FolderRow> {
  const found = await findFolder(ctx.db, mailbox.id, rawName);
  if (found) return found;
  const name = checkFolderName(rawName);
  // made by a concurrent import meanwhile: the insert does nothing, the lookup finds it
  const made = (await insertFolder(ctx.db, mailbox.id, name)) ?? (await findFolder(ctx.db, mailbox.id, name));
  if (!made) throw new PullmailError('internal', `folder ${JSON.stringify(name)} could not be made`);
  return made;
}

/** @throws bad_request (folder name, empty message, a held request's summary), too_large, conflict (Requests) */
export async function importMessage(ctx: Ctx, mailbox: Mailbox, input: ImportInput): Promise<ImportOutcome> {
  const { messageId } = peekHeaders(input.raw);
  if (isRequestSummaryId(messageId)) {
    throw new PullmailError('bad_request', 'this is the summary of a held first-contact request (from a copy of Requests), not mail: requests are accepted or rejected where they are held (pullmail requests), never imported');
  }
  const folder = await importFolder(ctx, mailbox, input.folder ?? 'INBOX');
  const { flags, ignored } = partitionFlags(input.flags ?? []);
  if (!messageId) {
    const same = await findByDigestWithoutMessageId(ctx.db, mailbox.id, folder.id, sameMessageDigests(input.raw));
    if (same) return { id: same.id, result: 'duplicate', ignored_flags: ignored };
  }
  const filed = await appendMessage(ctx, mailbox, folder, { raw: input.raw, flags, internalDate: input.internalDate });
  return { id: filed.id, result: filed.existing ? 'duplicate' : 'added', ignored_flags: ignored };
}
