// A user's mail as one mbox (GET /api/v1/export, docs/operator.md "Export and import"): every folder
// but Requests (held requests have no body yet, only a summary), each message as its stored bytes
// with X-Pullmail-Folder and X-Pullmail-Flags on top and mboxrd quoting. A generator of chunks: folders
// are paged through and each body is streamed from the store, so the mailbox never sits in memory.
import type { AppContext } from '../context.ts';
import { exportHeaders } from '../mail/export-headers.ts';
import { mboxrdBody, postmarkLine } from '../mail/mbox.ts';
import { readBody } from '../store/bodies.ts';
import { entriesAfterUid, findEntry, listFolders } from '../store/folders.ts';
import type { Mailbox } from '../store/mailboxes.ts';

const PAGE = 200;

export async function* exportMailbox(ctx: Pick<AppContext, 'db'>, mailbox: Mailbox): AsyncGenerator<Buffer> {
  for (const { folder } of await listFolders(ctx.db, mailbox.id)) {
    if (folder.role === 'requests') continue;
    const name = folder.role === 'inbox' ? 'INBOX' : folder.name;
    for (let after = 0; ;) {
      const page = await entriesAfterUid(ctx.db, folder.id, after, PAGE);
      if (!page.length) break;
      for (const listed of page) {
        after = listed.uid;
        // one body location at a time: a page of inline bodies could be large
        const entry = await findEntry(ctx.db, mailbox.id, listed.id);
        // removed meanwhile, or a received message whose bytes are not here
        if (!entry || (!entry.body.raw && !entry.body.blobId)) continue;
        const chunks = readBody(ctx.db, entry.body);
        const first = await chunks.next();
        const head = first.done ? Buffer.alloc(0) : first.value;
        yield Buffer.from(postmarkLine(entry.sender, entry.internalDate), 'latin1');
        yield exportHeaders(name, entry.flags, head);
        yield* mboxrdBody((async function* () {
          yield head;
          yield* chunks;
        })());
      }
    }
  }
}
