// Folders and the messages filed in them (docs/mailbox.md): list/create/rename/delete folders, list a
// folder, read, flag, move, copy, delete and append messages, and follow the change journal. Each
// route parses, calls one mailbox use case and shapes the answer.
import type { FolderList, MailList, ParsedMessage } from '@pullmail/client/wire';
import { Hono } from 'hono';
import { z } from 'zod';
import type { AppContext } from '../../context.ts';
import { PullmailError } from '../../errors.ts';
import { appendMessage } from '../../mailbox/append.ts';
import { mailChanges } from '../../mailbox/changes.ts';
import { createFolder, deleteFolder, folderView, listFolders, renameFolder, requireFolder, subscribeFolder } from '../../mailbox/folders.ts';
import { listMessages, mailEntry } from '../../mailbox/list.ts';
import { readParsed, readRaw, requireEntry } from '../../mailbox/read.ts';
import { deleteMessage } from '../../mailbox/remove.ts';
import { copyMessage, updateMessage } from '../../mailbox/update.ts';
import { readJson } from '../body.ts';
import { chunkStream } from '../body-stream.ts';
import type { UserEnv } from '../middleware/auth.ts';
import { encodeCursor, parsePage } from '../pagination.ts';

const flagList = z.array(z.string().max(64)).max(64);
export const createSchema = z.object({ name: z.string().max(400) });
export const folderPatchSchema = z.object({ name: z.string().max(400).optional(), subscribed: z.boolean().optional() });
export const mailPatchSchema = z.object({ flags: flagList.optional(), add_flags: flagList.optional(), remove_flags: flagList.optional(), folder: z.string().max(400).optional() })
  .refine((p) => !(p.flags && (p.add_flags || p.remove_flags)), 'give either flags or add_flags/remove_flags');
export const copySchema = z.object({ folder: z.string().max(400) });

export function folderRoutes(ctx: AppContext): Hono<UserEnv> {
  const app = new Hono<UserEnv>();

  app.get('/folders', async (c) => {
    const body: FolderList = { folders: await listFolders(ctx, c.get('mailbox')) };
    return c.json(body);
  });

  app.post('/folders', async (c) => {
    const { name } = await readJson(c, createSchema);
    const folder = await createFolder(ctx, c.get('mailbox'), name);
    return c.json({ ...folderView(folder), total: 0, unseen: 0 }, 201);
  });

  app.patch('/folders/:name{.+}', async (c) => {
    const mailbox = c.get('mailbox');
    const patch = await readJson(c, folderPatchSchema);
    const name = c.req.param('name');
    if (patch.subscribed !== undefined) await subscribeFolder(ctx, mailbox, name, patch.subscribed);
    if (patch.name !== undefined) await renameFolder(ctx, mailbox, name, patch.name);
    const current = await requireFolder(ctx, mailbox, patch.name ?? name);
    return c.json(folderView(current));
  });

  app.delete('/folders/:name{.+}', async (c) => {
    await deleteFolder(ctx, c.get('mailbox'), c.req.param('name'));
    return c.body(null, 204);
  });

  app.get('/folders/:name{.+}/messages', async (c) => {
    const { entries, total, last } = await listMessages(ctx, c.get('mailbox'), c.req.param('name'), parsePage(c.req.query()));
    const body: MailList = { messages: entries.map(mailEntry), total, ...(last ? { cursor: encodeCursor(last.internalDate, last.id) } : {}) };
    return c.json(body);
  });

  // APPEND: the exact bytes of one message; flags as ?flags=\Seen,$Label1
  app.post('/folders/:name{.+}/messages', async (c) => {
    if (!/^message\/rfc822\b/i.test(c.req.header('content-type') ?? '')) throw new PullmailError('unsupported_media_type', 'expected Content-Type: message/rfc822');
    const mailbox = c.get('mailbox');
    const folder = await requireFolder(ctx, mailbox, c.req.param('name'));
    const flags = c.req.query('flags')?.split(',').filter(Boolean);
    const raw = Buffer.from(await c.req.arrayBuffer());
    const filed = await appendMessage(ctx, mailbox, folder, { raw, flags });
    return c.json(mailEntry(await requireEntry(ctx, mailbox, filed.id)), filed.existing ? 200 : 201);
  });

  app.get('/mail/:id/raw', async (c) => {
    const { size, chunks } = await readRaw(ctx, c.get('mailbox'), c.req.param('id'), { peek: c.req.query('peek') === '1' });
    return c.body(chunkStream(ctx, chunks()), 200, { 'content-type': 'message/rfc822', 'content-length': String(size) });
  });

  app.get('/mail/:id', async (c) => {
    const { entry, parsed } = await readParsed(ctx, c.get('mailbox'), c.req.param('id'), { peek: c.req.query('peek') === '1' });
    const body: ParsedMessage & ReturnType<typeof mailEntry> = { ...mailEntry(entry), via: (entry.via ?? 'pm1') as never, ...parsed };
    return c.json(body);
  });

  app.patch('/mail/:id', async (c) => {
    const mailbox = c.get('mailbox');
    const patch = await readJson(c, mailPatchSchema);
    const flags = patch.flags ? { set: patch.flags } : patch.add_flags || patch.remove_flags ? { add: patch.add_flags, remove: patch.remove_flags } : undefined;
    const id = await updateMessage(ctx, mailbox, c.req.param('id'), { flags, folder: patch.folder });
    return c.json(mailEntry(await requireEntry(ctx, mailbox, id)));
  });

  app.post('/mail/:id/copy', async (c) => {
    const mailbox = c.get('mailbox');
    const { folder } = await readJson(c, copySchema);
    const id = await copyMessage(ctx, mailbox, c.req.param('id'), folder);
    return c.json(mailEntry(await requireEntry(ctx, mailbox, id)), 201);
  });

  app.delete('/mail/:id', async (c) => {
    await deleteMessage(ctx, c.get('mailbox'), c.req.param('id'));
    return c.body(null, 204);
  });

  app.get('/changes', async (c) => {
    const since = Number(c.req.query('since') ?? 0);
    if (!Number.isSafeInteger(since) || since < 0) throw new PullmailError('bad_request', 'since must be a journal position (a whole number)');
    return c.json(await mailChanges(ctx, c.get('mailbox'), since));
  });
  return app;
}
