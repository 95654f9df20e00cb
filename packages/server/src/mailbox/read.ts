// Reading a filed message: its exact bytes (streamed) or its parsed form. Reading marks it \Seen, as an
// IMAP FETCH of BODY[] does (RFC 3501 §6.4.5); `peek` leaves the flags alone. A held request reads as
// its summary (request-summary.ts), never as the sender's bytes.
import type { ParsedMessage } from '@pullmail/client/wire';
import { simpleParser } from 'mailparser';
import type { AppContext } from '../context.ts';
import { PullmailError } from '../errors.ts';
import { loadBody, readBody } from '../store/bodies.ts';
import { findEntry, writeFlags, type Entry } from '../store/folders.ts';
import type { Executor } from '../store/db.ts';
import type { Mailbox } from '../store/mailboxes.ts';
import { applyFlags } from './flags.ts';
import { requestSummary } from './request-summary.ts';

export interface ReadOptions {
  peek?: boolean;
  /** Only in this folder (the /inbox routes read INBOX only). */
  folderRole?: Entry['role'];
}

/** The entry, or `not_found`. */
export async function requireEntry(ctx: AppContext, mailbox: Mailbox, id: string, opts: ReadOptions = {}, db: Executor = ctx.db): Promise<Entry> {
  const entry = await findEntry(db, mailbox.id, id);
  const readable = entry && (entry.role === 'requests' || entry.body.raw || entry.body.blobId);
  if (!entry || !readable || (opts.folderRole && entry.role !== opts.folderRole)) {
    throw new PullmailError('not_found', opts.folderRole === 'inbox' ? 'no such message in your inbox' : 'no such message');
  }
  return entry;
}

/** The bytes of a message as a client sees them, and how many there are. */
export function messageBytes(ctx: AppContext, e: Entry): { size: number; chunks: () => AsyncIterable<Buffer>; whole: () => Promise<Buffer> } {
  if (e.role === 'requests') {
    const summary = requestSummary({ id: e.id, sender: e.sender, subject: e.subject, size: e.size, receivedAt: e.internalDate, via: e.via });
    return { size: summary.length, chunks: async function* () { yield summary; }, whole: async () => summary };
  }
  return { size: e.body.size, chunks: () => readBody(ctx.db, e.body), whole: () => loadBody(ctx.db, e.body) };
}

/** Marks a message \Seen unless it is already, or the read is a peek. */
export async function markSeen(ctx: AppContext, mailbox: Mailbox, e: Entry, opts: ReadOptions = {}): Promise<void> {
  if (opts.peek || e.flags.includes('\\Seen')) return;
  await ctx.db.transaction((tx) => writeFlags(tx, mailbox.id, e.folderId, [{ id: e.id, uid: e.uid, flags: applyFlags(e.flags, { add: ['\\Seen'] }) }]));
}

export async function readRaw(ctx: AppContext, mailbox: Mailbox, id: string, opts: ReadOptions = {}) {
  const entry = await requireEntry(ctx, mailbox, id, opts);
  await markSeen(ctx, mailbox, entry, opts);
  return { entry, ...messageBytes(ctx, entry) };
}

/** The parsed message: header lines, text, HTML and the list of attachments. */
export async function readParsed(ctx: AppContext, mailbox: Mailbox, id: string, opts: ReadOptions = {}): Promise<{ entry: Entry; parsed: Omit<ParsedMessage, keyof import('@pullmail/client/wire').InboxEntry> }> {
  const entry = await requireEntry(ctx, mailbox, id, opts);
  const bytes = await messageBytes(ctx, entry).whole();
  const parsed = await simpleParser(bytes, { skipImageLinks: true, skipTextToHtml: true }).catch((err: unknown) => {
    // mailparser stops at 1000 MIME parts or 1 MiB of header in one part; the bytes are still readable
    if ((err as { code?: string }).code !== 'EMAXLEN') throw err;
    throw new PullmailError('too_large', `the message is too complex to parse (${(err as Error).message}); its /raw form returns its bytes`, { cause: err, httpStatus: 422 });
  });
  await markSeen(ctx, mailbox, entry, opts);
  return {
    entry,
    parsed: {
      headers: parsed.headerLines.map((h) => ({ name: h.key, value: h.line.slice(h.line.indexOf(':') + 1).trim() })),
      ...(parsed.text !== undefined ? { text: parsed.text } : {}),
      ...(typeof parsed.html === 'string' ? { html: parsed.html } : {}),
      attachments: parsed.attachments.map((a) => ({ filename: a.filename ?? '', contentType: a.contentType, size: a.size })),
    },
  };
}

/** One attachment of a message (by its place in the list readParsed returns), for download. */
export async function readAttachment(ctx: AppContext, mailbox: Mailbox, id: string, index: number): Promise<{ filename: string; contentType: string; content: Buffer }> {
  const entry = await requireEntry(ctx, mailbox, id);
  const parsed = await simpleParser(await messageBytes(ctx, entry).whole(), { skipImageLinks: true, skipTextToHtml: true });
  const a = parsed.attachments[index];
  if (!a) throw new PullmailError('not_found', 'no such attachment');
  return { filename: a.filename || `attachment-${index + 1}`, contentType: a.contentType || 'application/octet-stream', content: a.content };
}
