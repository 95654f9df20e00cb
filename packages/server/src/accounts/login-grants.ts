// What a door keeps of a password login for as long as its connection lasts (IMAP, SMTP submission):
// the mailbox and a fingerprint of the password hash the password was checked against. The door asks
// `holds()` before each command and ends the connection when it says false: the mailbox was disabled
// or deleted, or its password changed (a reset is often the answer to a stolen password). A change
// made in this process is announced (credential-changes.ts) and seen at the next command; one made by
// another process on the same database (a second node, `pullmail-server user …` on PostgreSQL) when
// the row is read again, at most RECHECK_MS after the last read. Between those reads a command costs
// no query.
import { createHash } from 'node:crypto';
import type { AppContext } from '../context.ts';
import { findMailboxById, type Mailbox } from '../store/mailboxes.ts';
import type { CredentialChanges } from './credential-changes.ts';

/** How long a login is trusted without reading its mailbox row again, in ms. */
export const RECHECK_MS = 10_000;

/** What a login was granted on: the mailbox and its password hash then, fingerprinted. */
export interface GrantStamp {
  mailboxId: string;
  passwordFp: string;
}

/** A password hash carries a fresh salt, so setting any password (even the same one) changes this. */
export const passwordFingerprint = (hash: string | null): string => createHash('sha256').update(`pullmail login\0${hash ?? ''}`).digest('base64url');

export const grantStamp = (mailbox: Pick<Mailbox, 'id' | 'passwordHash'>): GrantStamp => ({ mailboxId: mailbox.id, passwordFp: passwordFingerprint(mailbox.passwordHash) });

/** Whether a login granted on `stamp` still stands, given the mailbox row as it is now (undefined: deleted). */
export function grantHolds(stamp: GrantStamp, now: Pick<Mailbox, 'id' | 'passwordHash' | 'disabledAt'> | undefined): boolean {
  return !!now && now.id === stamp.mailboxId && !now.disabledAt && passwordFingerprint(now.passwordHash) === stamp.passwordFp;
}

export interface LoginGrant {
  /** The mailbox address the login is for. */
  readonly address: string;
  /**
   * False once the login no longer stands (and from then on). Reads the mailbox row when RECHECK_MS
   * passed since the last read or a change was announced; otherwise answers without I/O.
   * @throws what the read throws (a database error); the next call reads again
   */
  holds(): Promise<boolean>;
  /** Calls `listener` when a change to the mailbox is announced in this process, so a waiting door (IMAP IDLE) can ask holds() at once. */
  onChange(listener: () => void): void;
  /** Stops listening for announcements; call when the connection ends. */
  release(): void;
}

export interface GrantDeps {
  /** The mailbox row by id, undefined when it is gone (store/mailboxes.ts findMailboxById). */
  readMailbox(id: string): Promise<Mailbox | undefined>;
  changes: CredentialChanges;
  /** Milliseconds since the epoch. */
  now(): number;
  recheckMs?: number;
}

/** A grant for a login just checked against `mailbox` (the row the password was verified with). */
export function openLoginGrant(deps: GrantDeps, mailbox: Mailbox): LoginGrant {
  const stamp = grantStamp(mailbox);
  const recheckMs = deps.recheckMs ?? RECHECK_MS;
  let readAt = deps.now();
  // announcements counted, and how many the last read had seen: one arriving during a read is not lost
  let announced = 0;
  let seen = 0;
  let revoked = !grantHolds(stamp, mailbox);
  let listener: (() => void) | undefined;
  const unsubscribe = deps.changes.subscribe(mailbox.id, () => {
    announced++;
    listener?.();
  });
  return {
    address: mailbox.address,
    async holds() {
      if (revoked) return false;
      const t = deps.now();
      if (seen === announced && t - readAt < recheckMs) return true;
      const upTo = announced;
      const row = await deps.readMailbox(stamp.mailboxId);
      readAt = t;
      seen = upTo;
      revoked = !grantHolds(stamp, row);
      return !revoked;
    },
    onChange(l) {
      listener = l;
    },
    release() {
      listener = undefined;
      unsubscribe();
    },
  };
}

/** A grant over the node's database and announcements: what the doors open after a password login. */
export function grantLogin(ctx: Pick<AppContext, 'db' | 'now' | 'credentialChanges'>, mailbox: Mailbox): LoginGrant {
  return openLoginGrant({ readMailbox: (id) => findMailboxById(ctx.db, id), changes: ctx.credentialChanges, now: ctx.now }, mailbox);
}
