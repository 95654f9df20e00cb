// The X-Pullmail-Folder and X-Pullmail-Flags fields an export adds at the top of each message, and
// taking them off again on import so the stored message is the original bytes (docs/operator.md
// "Export and import"). Pure.
import { EXPORT_FLAGS_HEADER, EXPORT_FOLDER_HEADER } from '@pullmail/client/wire';

const FOLD_AT = 76;

/** The two fields, in the line ending the message itself uses. Folder names are UTF-8 (RFC 6532). */
export function exportHeaders(folder: string, flags: readonly string[], raw: Buffer): Buffer {
  const firstLf = raw.indexOf(0x0a);
  const eol = firstLf > 0 && raw[firstLf - 1] === 0x0d ? '\r\n' : '\n';
  // a long flag list is folded between flags (RFC 5322 §2.2.3: lines stay under 998 characters)
  let flagField = `${EXPORT_FLAGS_HEADER}:`;
  let lineLength = flagField.length;
  for (const flag of flags) {
    if (lineLength + 1 + flag.length > FOLD_AT && lineLength > EXPORT_FLAGS_HEADER.length + 1) {
      flagField += eol;
      lineLength = 0;
    }
    flagField += ` ${flag}`;
    lineLength += 1 + flag.length;
  }
  return Buffer.from(`${EXPORT_FOLDER_HEADER}: ${folder}${eol}${flagField}${eol}`, 'utf8');
}

export interface TakenHeaders {
  /** The message without the fields (a view of the same bytes). */
  raw: Buffer;
  folder?: string;
  flags?: string[];
}

/**
 * Takes X-Pullmail-Folder and X-Pullmail-Flags off the top of a message: each at most once, and only
 * among the first fields, so a message that itself carried such a field further down keeps it.
 */
export function takeExportHeaders(raw: Buffer): TakenHeaders {
  const out: TakenHeaders = { raw };
  let at = 0;
  for (let n = 0; n < 2; n++) {
    const field = fieldAt(raw, at);
    if (!field) break;
    const name = field.name.toLowerCase();
    if (name === EXPORT_FOLDER_HEADER.toLowerCase() && out.folder === undefined) out.folder = field.value;
    else if (name === EXPORT_FLAGS_HEADER.toLowerCase() && out.flags === undefined) out.flags = field.value.split(/\s+/).filter(Boolean);
    else break;
    at = field.end;
  }
  out.raw = raw.subarray(at);
  return out;
}

/** The header field starting at `at` with its continuation lines, if it is one. */
function fieldAt(raw: Buffer, at: number): { name: string; value: string; end: number } | undefined {
  let end = at;
  do {
    const nl = raw.indexOf(0x0a, end);
    if (nl < 0) return undefined;
    end = nl + 1;
  } while (end < raw.length && (raw[end] === 0x20 || raw[end] === 0x09));
  const text = raw.subarray(at, end).toString('utf8');
  const m = /^([!-9;-~]+):([\s\S]*)$/.exec(text);
  if (!m) return undefined;
  return { name: m[1], value: m[2].replace(/\r?\n[ \t]/g, ' ').trim(), end };
}

/** Flags from the Status and X-Status fields mbox writers such as mutt and Thunderbird keep (R, O, A, F, T, D). */
export function statusFlags(raw: Buffer): string[] {
  // the header block ends at the first empty line, in either line ending
  const ends = [raw.indexOf('\n\n'), raw.indexOf('\r\n\r\n')].filter((i) => i >= 0);
  const head = raw.subarray(0, ends.length ? Math.min(...ends) : Math.min(raw.length, 64 * 1024)).toString('latin1');
  const letters = [...head.matchAll(/^(?:X-)?Status:[ \t]*([A-Za-z]*)/gim)].map((m) => m[1]).join('');
  const flags: string[] = [];
  if (letters.includes('R')) flags.push('\\Seen');
  if (letters.includes('A')) flags.push('\\Answered');
  if (letters.includes('F')) flags.push('\\Flagged');
  if (letters.includes('T')) flags.push('\\Draft');
  if (letters.includes('D')) flags.push('\\Deleted');
  return flags;
}
