// Filing what a user sends in Sent, through any door (API, submission, web). A new message is filed
// by the statement that stores it (store/messages.ts storeSentMessage); this refiles on an edit, in
// the edit's transaction. An edit refiles every copy of the message (in Sent, or
// wherever the user moved it) under a new uid, because a filed message never changes its bytes
// (RFC 3501 §2.3.1.1); flags carry over.
import type { Tx } from '../store/db.ts';
import { fileMessage, findFolderByRole, removeEntries, sentEntries } from '../store/folders.ts';

export interface SentFacts {
  mailboxId: string;
  messageId: string;
  sender: string;
  subject: string;
  size: number;
  messageIdHeader: string | null;
  at: Date;
}

/** A new message is filed in Sent by store/messages.ts storeSentMessage, in the statement that stores it. */
export async function fileSent(tx: Tx, m: SentFacts): Promise<void> {
  const earlier = await sentEntries(tx, m.messageId);
  const facts = { internalDate: m.at, size: m.size, sender: m.sender, subject: m.subject, messageIdHeader: m.messageIdHeader, messageId: m.messageId };
  if (!earlier.length) {
    const sent = await findFolderByRole(tx, m.mailboxId, 'sent');
    if (sent) await fileMessage(tx, sent.id, { ...facts, flags: ['\\Seen'] });
    return;
  }
  for (const e of earlier) await fileMessage(tx, e.folderId, { ...facts, flags: e.flags, internalDate: e.internalDate });
  await removeEntries(tx, m.mailboxId, earlier.map((e) => e.id), m.at);
}
