// Which folder names a user may create (docs/mailbox.md). Pure. `/` separates levels, as IMAP's
// hierarchy delimiter; names are kept as given (UTF-8; IMAP's modified UTF-7 is the IMAP door's job).
import { PullmailError } from '../errors.ts';

const MAX_NAME = 200;

/** The name, trimmed, or throws `bad_request` saying what is wrong with it. */
export function checkFolderName(raw: string): string {
  const name = raw.trim();
  const problem =
    name.length === 0 ? 'is empty'
    : name.length > MAX_NAME ? `is longer than ${MAX_NAME} characters`
    // eslint-disable-next-line no-control-regex
    : /[\x00-\x1f\x7f]/.test(name) ? 'contains a control character'
    // PostgreSQL would store it as U+FFFD: a folder under another name than the one asked for
    : !name.isWellFormed() ? 'contains an unpaired surrogate (not Unicode text)'
    // IMAP LIST wildcards could never name it exactly
    : /[*%]/.test(name) ? 'contains * or %'
    : name.startsWith('/') || name.endsWith('/') || name.includes('//') ? 'has an empty level (a leading, trailing or double /)'
    : name.split('/')[0].toUpperCase() === 'INBOX' ? 'is INBOX or under it'
    : undefined;
  if (problem) throw new PullmailError('bad_request', `folder name ${JSON.stringify(raw)} ${problem}`);
  return name;
}
