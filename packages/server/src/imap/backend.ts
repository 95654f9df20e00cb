// What the IMAP layer needs from the mailbox model (docs/imap.md): one user's folders and the
// messages in them, addressed by uid, with flags and modseq (RFC 3501, RFC 7162 CONDSTORE).
// Small and IMAP-shaped so it can be implemented over SQL; memory-backend.ts is the fake for tests.
import type { Readable } from 'node:stream';

/** RFC 6154 special-use attributes a folder may carry. */
export type SpecialUse = '\\Sent' | '\\Drafts' | '\\Trash' | '\\Junk' | '\\Archive' | '\\All' | '\\Flagged';

export interface FolderInfo {
  /** Full name in Unicode, hierarchy separated by "/"; "INBOX" is always spelled in capitals. */
  name: string;
  specialUse?: SpecialUse;
  uidValidity: number;
  /** The uid the next message added will get. */
  uidNext: number;
  /** Raised by every change in the folder: a message added, a flag changed, a message expunged. */
  highestModseq: number;
  subscribed: boolean;
  /** Number of messages and of messages without \Seen (for STATUS and SELECT). */
  messages: number;
  unseen: number;
}

export interface MessageInfo {
  uid: number;
  /** System flags (`\Seen`, `\Answered`, `\Flagged`, `\Deleted`, `\Draft`) and keywords, as stored. */
  flags: string[];
  modseq: number;
  internalDate: Date;
  /** Size of the exact bytes, in octets (RFC822.SIZE). */
  size: number;
}

export type FlagOperation = 'set' | 'add' | 'remove';

export interface StoreResult {
  /** Messages whose flags the operation changed, with their new flags and modseq. */
  changed: MessageInfo[];
  /** Uids skipped because their modseq was above `unchangedSince` (RFC 7162 §3.2). */
  modified: number[];
}

export interface CopyResult {
  /** The target folder's uidvalidity and, in order, the source uid and the uid it got there. */
  uidValidity: number;
  mapping: Array<[source: number, target: number]>;
}

/** Codes a backend refuses an operation with; the session maps them to IMAP response codes. */
export type BackendErrorCode = 'nonexistent' | 'already_exists' | 'cannot' | 'over_quota';

/** The one error a backend throws on purpose; anything else becomes `NO [SERVERBUG]` and is logged. */
export class BackendError extends Error {
  readonly code: BackendErrorCode;
  constructor(code: BackendErrorCode, message: string) {
    super(message);
    this.name = 'BackendError';
    this.code = code;
  }
}

/**
 * One user's mail, opened by the session after login. Folder names are full Unicode names; uid
 * lists are ascending. Methods on a folder that does not exist throw `BackendError('nonexistent')`.
 */
export interface MailAccount {
  listFolders(): Promise<FolderInfo[]>;
  getFolder(name: string): Promise<FolderInfo | undefined>;
  /** Throws `already_exists`. */
  createFolder(name: string): Promise<void>;
  /**
   * Renames a folder and those under it, keeping uidvalidity and uids. Renaming INBOX moves its
   * messages to the new folder and leaves INBOX empty (RFC 3501 §6.3.5).
   */
  renameFolder(from: string, to: string): Promise<void>;
  /** Throws `cannot` for INBOX and special-use folders. */
  deleteFolder(name: string): Promise<void>;
  setSubscribed(name: string, subscribed: boolean): Promise<void>;

  /** Every message in the folder, ascending by uid. */
  listMessages(folder: string): Promise<MessageInfo[]>;
  /**
   * The exact stored bytes of several messages at once (FETCH and SEARCH read a run of messages in one
   * go): those of `uids` still there, by uid; one expunged meanwhile is missing. The caller keeps the
   * run small enough to hold in memory.
   */
  readMessages(folder: string, uids: readonly number[]): Promise<Map<number, Buffer>>;
  /** The same bytes as a stream, for full-body FETCH of large messages. */
  openMessage(folder: string, uid: number): Promise<Readable | undefined>;

  append(folder: string, bytes: Buffer, flags: string[], internalDate: Date): Promise<{ uidValidity: number; uid: number }>;
  /** With `unchangedSince`, messages whose modseq is above it are left alone and listed in `modified`. */
  storeFlags(folder: string, uids: number[], op: FlagOperation, flags: string[], unchangedSince?: number): Promise<StoreResult>;
  copy(from: string, uids: number[], to: string): Promise<CopyResult>;
  /** Copy, then expunge from the source, as one change (RFC 6851). */
  move(from: string, uids: number[], to: string): Promise<CopyResult>;
  /** Removes those of `uids` that carry \Deleted; returns the uids removed. */
  expunge(folder: string, uids: number[]): Promise<number[]>;

  /**
   * The change feed IDLE waits on: `listener` is called with the folder name after any change to
   * it, from this connection or another. Returns the function that stops listening.
   */
  watch(listener: (folder: string) => void): () => void;
}

export interface MailBackend {
  /** Called once per login with the user the login callback named. */
  openAccount(user: string): Promise<MailAccount>;
}
