// Reading a Maildir (and Maildir++ subfolders) for `pullmail-server import` (docs/operator.md "Export
// and import"): cur/ and new/ of the top directory are INBOX, `.Name` and `.Name.Sub` directories are
// folders `Name` and `Name/Sub` (names in IMAP's modified UTF-7, as Dovecot writes them); flags come
// from the `:2,<letters>` info of each file name (cr.yp.to/proto/maildir.html), keywords from
// Dovecot's `dovecot-keywords` file. tmp/ holds deliveries still being written and is left alone.
import { createReadStream, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { decodeMailboxName } from '../imap/utf7.ts';

const INFO_FLAGS: Record<string, string> = { D: '\\Draft', F: '\\Flagged', P: '$Forwarded', R: '\\Answered', S: '\\Seen', T: '\\Deleted' };

/** The flags of a message file named `<unique>:2,<letters>`; lowercase letters are keywords 0–25 of `keywords`. */
export function maildirFlags(fileName: string, keywords: readonly string[] = []): string[] {
  // ':' is written as ';' or '!' where file systems refuse it
  const info = /[:;!]2,([A-Za-z]*)$/.exec(fileName)?.[1] ?? '';
  const flags: string[] = [];
  for (const letter of info) {
    const flag = INFO_FLAGS[letter] ?? (letter >= 'a' && letter <= 'z' ? keywords[letter.charCodeAt(0) - 97] : undefined);
    if (flag && !flags.includes(flag)) flags.push(flag);
  }
  return flags;
}

/** Where mail of another server's folder named Requests goes: pullmail's Requests only shows held requests. */
export const IMPORTED_REQUESTS_FOLDER = 'Requests (imported)';

/**
 * The folder a Maildir++ directory name (`.Archive.2024`) stands for (`Archive/2024`), or undefined.
 * `.INBOX` is INBOX. Folders under INBOX (`.INBOX.x`, as Dovecot names INBOX/x) become top-level
 * folders (`x`): pullmail has none under INBOX (mailbox/folder-name.ts), and `x` is what a user looks
 * for; a `.x` beside it is the same folder then. A folder Requests is filed in `Requests (imported)`:
 * pullmail's Requests holds only the first-contact requests it is deciding (docs/mailbox.md).
 */
export function maildirFolder(dirName: string): string | undefined {
  if (!dirName.startsWith('.') || dirName === '.' || dirName === '..') return undefined;
  let levels = dirName.slice(1).split('.');
  if (levels.some((l) => l === '')) return undefined;
  levels = levels.map(decodeMailboxName);
  if (levels[0].toUpperCase() === 'INBOX') {
    if (levels.length === 1) return 'INBOX';
    levels = levels.slice(1);
  }
  if (levels[0] === 'Requests') levels[0] = IMPORTED_REQUESTS_FOLDER;
  return levels.join('/');
}

/** Dovecot's `dovecot-keywords`: lines `<index> <keyword>`. */
function readKeywords(dir: string): string[] {
  const path = join(dir, 'dovecot-keywords');
  const out: string[] = [];
  if (!existsSync(path)) return out;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const m = /^(\d{1,2}) (\S+)$/.exec(line.trim());
    if (m && Number(m[1]) < 26) out[Number(m[1])] = m[2];
  }
  return out;
}

const isMaildir = (dir: string) => existsSync(join(dir, 'cur')) || existsSync(join(dir, 'new'));

export interface MaildirMessage {
  path: string;
  folder: string;
  flags: string[];
  /** The file's modification time: what Dovecot takes as the internal date. */
  date: Date;
  size: number;
  chunks: () => AsyncIterable<Buffer>;
}

/** Whether `dir` is a Maildir: it has cur/ or new/, or Maildir++ subfolders that do. */
export function looksLikeMaildir(dir: string): boolean {
  if (isMaildir(dir)) return true;
  return readdirSync(dir, { withFileTypes: true }).some((d) => d.isDirectory() && maildirFolder(d.name) && isMaildir(join(dir, d.name)));
}

/** How many message files the Maildir holds (for a progress bar). */
export function countMaildir(root: string): number {
  let n = 0;
  for (const { dir } of maildirFolders(root)) for (const sub of ['cur', 'new']) n += listFiles(join(dir, sub)).length;
  return n;
}

function maildirFolders(root: string): { dir: string; folder: string }[] {
  const out = isMaildir(root) ? [{ dir: root, folder: 'INBOX' }] : [];
  const subs = readdirSync(root, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  for (const name of subs) {
    const folder = maildirFolder(name);
    if (folder && isMaildir(join(root, name))) out.push({ dir: join(root, name), folder });
  }
  return out;
}

function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).filter((d) => d.isFile() && !d.name.startsWith('.')).map((d) => d.name).sort();
}

/** Every message of the Maildir, folder by folder, each read only when its `chunks` are asked for. */
export function* readMaildir(root: string): Generator<MaildirMessage> {
  for (const { dir, folder } of maildirFolders(root)) {
    const keywords = readKeywords(dir);
    for (const sub of ['cur', 'new']) {
      for (const name of listFiles(join(dir, sub))) {
        const path = join(dir, sub, name);
        const st = statSync(path);
        // new/ has no info yet: unseen, no flags
        const flags = sub === 'cur' ? maildirFlags(name, keywords) : [];
        yield { path, folder, flags, date: st.mtime, size: st.size, chunks: () => createReadStream(path) };
      }
    }
  }
}
