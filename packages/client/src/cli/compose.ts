// Turns `send`/`edit` flags into what the API takes: a JSON message (recipients, subject, body from a
// file, --text or stdin), the bytes of an RFC 5322 file (--rfc822), or, with attachments, a MIME
// message the CLI writes itself and streams to the node (mime.ts), so files are never held in memory.
import { constants } from 'node:fs';
import { access, readFile, stat } from 'node:fs/promises';
import { basename, extname, resolve } from 'node:path';
import type { Attachment, SendRequest } from '../wire/index.ts';
import { optList, optString, type CommandContext, type OptionDef } from './command.ts';
import { UsageError } from './exit-codes.ts';
import type { MimeAttachment, MimeMessage } from './mime.ts';

export const MESSAGE_OPTIONS: Record<string, OptionDef> = {
  to: { type: 'string', multiple: true, value: 'address', help: 'recipient; a comma-separated list works too' },
  cc: { type: 'string', multiple: true, value: 'address', help: 'copy recipient' },
  bcc: { type: 'string', multiple: true, value: 'address', help: 'blind copy recipient (never shown to the others)' },
  subject: { type: 'string', short: 's', value: 'text', help: 'subject line' },
  file: { type: 'string', short: 'f', value: 'path', help: 'read the text body from a file ("-" = stdin)' },
  text: { type: 'string', short: 'm', value: 'text', help: 'the text body, inline' },
  html: { type: 'string', value: 'path', help: 'an HTML body from a file (besides or instead of the text)' },
  attach: { type: 'string', short: 'a', multiple: true, value: 'path', help: 'attach a file' },
  consent: { type: 'string', multiple: true, value: 'token', help: "a consent token a recipient gave you: they fetch without asking" },
  rfc822: { type: 'string', value: 'path', help: 'send a complete RFC 5322 message file as is ("-" = stdin); From must be you' },
};

const TYPES: Record<string, string> = {
  '.txt': 'text/plain',
  '.md': 'text/markdown',
  '.csv': 'text/csv',
  '.html': 'text/html',
  '.htm': 'text/html',
  '.json': 'application/json',
  '.pdf': 'application/pdf',
  '.zip': 'application/zip',
  '.gz': 'application/gzip',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.svg': 'image/svg+xml',
  '.webp': 'image/webp',
  '.ics': 'text/calendar',
  '.eml': 'message/rfc822',
};

/** A content type from the file name; `application/octet-stream` when unknown. */
export function contentTypeOf(path: string): string {
  return TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
}

/** Repeated flags and comma lists, trimmed; each must look like an address (the node checks fully). */
/** A sender pattern of rules and consent tokens: an address (a@x.example) or a domain (@x.example). */
export const isSenderPattern = (s: string): boolean => /^[^@\s]*@[^@\s]+$/.test(s);

export function addressList(values: string[], flag: string): string[] {
  const out = values.flatMap((v) => v.split(',')).map((a) => a.trim()).filter(Boolean);
  for (const a of out) if (!/^[^@\s]+@[^@\s]+$/.test(a)) throw new UsageError(`--${flag}: "${a}" is not a mail address (local@domain)`);
  return out;
}

async function readInput(ctx: CommandContext, path: string, what: string): Promise<Uint8Array> {
  if (path === '-') return ctx.io.readStdin();
  try {
    return await readFile(resolve(ctx.io.cwd, path));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(`cannot read ${what} ${path}: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
}

async function readBody(ctx: CommandContext): Promise<string | undefined> {
  const file = optString(ctx.opts, 'file');
  const text = optString(ctx.opts, 'text');
  if (file !== undefined && text !== undefined) throw new UsageError('give the body with --file or --text, not both');
  if (text !== undefined) return text;
  if (file !== undefined) return Buffer.from(await readInput(ctx, file, 'body file')).toString('utf8');
  if (optString(ctx.opts, 'html') !== undefined) return undefined;
  if (ctx.io.stdinIsTTY) ctx.out.note('Type the message, then press Ctrl-D on a line of its own.');
  return Buffer.from(await ctx.io.readStdin()).toString('utf8');
}

/** An attachment checked to be a readable file now; it is read only while the message is uploaded. */
async function checkAttachment(ctx: CommandContext, path: string): Promise<MimeAttachment> {
  const full = resolve(ctx.io.cwd, path);
  try {
    if (!(await stat(full)).isFile()) throw new UsageError(`cannot read attachment ${path}: not a file`);
    await access(full, constants.R_OK);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(`cannot read attachment ${path}: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  return { filename: basename(path), contentType: contentTypeOf(path), path: full };
}

/**
 * `message`: JSON for the node to compose; `raw`: an --rfc822 file; `mime`: a message with attachments,
 * written and streamed by the CLI (`From` is added once the node has said whose the token is).
 */
export type Outgoing = { message: SendRequest } | { raw: Uint8Array } | { mime: Omit<MimeMessage, 'from'> };

/**
 * The message the flags describe. `defaults.subject` fills a missing --subject (edit keeps the old one).
 * Throws UsageError for contradicting or missing flags and unreadable files.
 */
export async function composeFromFlags(ctx: CommandContext, defaults: { subject?: string } = {}): Promise<Outgoing> {
  const rfc822 = optString(ctx.opts, 'rfc822');
  const to = addressList(optList(ctx.opts, 'to'), 'to');
  const cc = addressList(optList(ctx.opts, 'cc'), 'cc');
  const bcc = addressList(optList(ctx.opts, 'bcc'), 'bcc');
  if (rfc822 !== undefined) {
    const others = ['to', 'cc', 'bcc', 'subject', 'file', 'text', 'html', 'attach', 'consent'].filter((k) => ctx.opts[k] !== undefined);
    if (others.length) throw new UsageError(`--rfc822 sends the file as it is; it cannot be combined with ${others.map((k) => `--${k}`).join(', ')}`);
    return { raw: await readInput(ctx, rfc822, 'message file') };
  }
  if (to.length + cc.length + bcc.length === 0) throw new UsageError('at least one recipient is needed: --to <address> (or --cc, --bcc)');

  const text = await readBody(ctx);
  const htmlPath = optString(ctx.opts, 'html');
  const html = htmlPath !== undefined ? Buffer.from(await readInput(ctx, htmlPath, 'HTML file')).toString('utf8') : undefined;
  const subject = optString(ctx.opts, 'subject') ?? defaults.subject ?? '';
  const consent = optList(ctx.opts, 'consent');
  const paths = optList(ctx.opts, 'attach');
  if (paths.length && !consent.length) {
    const files: MimeAttachment[] = [];
    for (const path of paths) files.push(await checkAttachment(ctx, path));
    return { mime: { to, cc, bcc, subject, ...(text !== undefined ? { text } : {}), ...(html !== undefined ? { html } : {}), attachments: files } };
  }
  // consent tokens travel only in the JSON form: attachments go along as base64, held in memory
  const attachments: Attachment[] = [];
  for (const path of paths) {
    const data = await readInput(ctx, path, 'attachment');
    attachments.push({ filename: basename(path), contentType: contentTypeOf(path), content: Buffer.from(data).toString('base64') });
  }
  const message: SendRequest = {
    to,
    ...(cc.length ? { cc } : {}),
    ...(bcc.length ? { bcc } : {}),
    subject,
    ...(text !== undefined ? { text } : {}),
    ...(html !== undefined ? { html } : {}),
    ...(attachments.length ? { attachments } : {}),
    ...(consent.length ? { consent } : {}),
  };
  return { message };
}
