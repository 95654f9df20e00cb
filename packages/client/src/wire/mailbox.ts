// Shapes of a user's mailbox as every door shows it (REST, IMAP, web): folders, the messages filed in
// them and their flags, and the change journal a client follows (docs/mailbox.md).

/**
 * The folders every mailbox has, by role. `requests` holds the held first-contact requests
 * (protocol §6); the others are the usual IMAP special-use folders (RFC 6154).
 */
export const FOLDER_ROLES = ['inbox', 'sent', 'drafts', 'trash', 'junk', 'archive', 'requests'] as const;
export type FolderRole = (typeof FOLDER_ROLES)[number];

/** IMAP system flags (RFC 3501 §2.3.2) a message may carry; anything else is a keyword. */
export const SYSTEM_FLAGS = ['\\Seen', '\\Answered', '\\Flagged', '\\Deleted', '\\Draft'] as const;
export type SystemFlag = (typeof SYSTEM_FLAGS)[number];

/** What a change journal entry says happened to one message in one folder. */
export const CHANGE_KINDS = ['added', 'flags', 'removed'] as const;
export type ChangeKind = (typeof CHANGE_KINDS)[number];

export interface Folder {
  name: string;
  /** null for folders the user made. */
  role: FolderRole | null;
  /** RFC 6154 attribute, e.g. `\Sent`; null for INBOX, Requests and user folders. */
  special_use: string | null;
  total: number;
  unseen: number;
  uidvalidity: number;
  uidnext: number;
  highestmodseq: number;
  subscribed: boolean;
}

/** A folder without its counts: what a rename or subscription change (`PATCH /api/v1/folders/:name`) answers. */
export type FolderState = Omit<Folder, 'total' | 'unseen'>;

export interface FolderList {
  folders: Folder[];
}

/** One message as filed in a folder. */
export interface MailEntry {
  id: string;
  folder: string;
  uid: number;
  modseq: number;
  flags: string[];
  from: string;
  subject: string;
  /** When it arrived in the mailbox (IMAP INTERNALDATE), ISO 8601. */
  received_at: string;
  size: number;
}

export interface MailList {
  messages: MailEntry[];
  total: number;
  cursor?: string;
}

/** `PATCH /api/v1/mail/:id`: every field optional; `folder` moves the message. */
export interface MailUpdate {
  flags?: string[];
  add_flags?: string[];
  remove_flags?: string[];
  folder?: string;
}

export interface MailChange {
  /** Position in the journal; pass the last one seen as `since`. */
  id: number;
  folder: string;
  uid: number;
  modseq: number;
  kind: ChangeKind;
}

export interface MailChanges {
  changes: MailChange[];
  /** The `since` to pass next time (the last id, or the one given when nothing changed). */
  cursor: number;
}

/**
 * Header fields `GET /api/v1/export` puts at the top of each message of its mbox, and
 * `pullmail-server import` reads and strips again (docs/operator.md "Export and import").
 */
export const EXPORT_FOLDER_HEADER = 'X-Pullmail-Folder';
export const EXPORT_FLAGS_HEADER = 'X-Pullmail-Flags';
/** Content-Type of the export. */
export const MBOX_CONTENT_TYPE = 'application/mbox';

/** The last line `pullmail-server import` prints: how many messages were added, already there, not imported. */
export interface ImportSummary {
  added: number;
  duplicates: number;
  failed: number;
}

/** `POST /api/v1/admin/users/:address/messages` (one message of an import) → this. */
export interface ImportedMessage {
  id: string;
  result: 'added' | 'duplicate';
  /** Flags no IMAP message can carry, left off. */
  ignored_flags: string[];
}
