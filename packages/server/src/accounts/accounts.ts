// Mailboxes as the operator manages them (CLI `user …`, admin API) and resolving API tokens to mailboxes.
import type { AdminUser } from '@pullmail/client/wire';
import { canonicalAddress, domainOf } from '../address.ts';
import { PullmailError } from '../errors.ts';
import { aliasExists, lockAddress } from '../store/aliases.ts';
import type { Db } from '../store/db.ts';
import type { CredentialChanges } from './credential-changes.ts';
import { revokeMailboxWebSessions } from './web-sessions.ts';
import { addApiToken, deleteMailbox, findMailbox, findMailboxByToken, insertMailbox, listMailboxes, setDisabledAt, setPasswordHash, type Mailbox } from '../store/mailboxes.ts';
import { hashPassword, hashToken, newApiToken } from './secrets.ts';

export interface AccountSummary {
  address: string;
  hasPassword: boolean;
  admin: boolean;
  disabledAt: Date | null;
  tokens: number;
  createdAt: Date;
}

export interface Accounts {
  create(address: string, password?: string, opts?: { admin?: boolean }): Promise<{ address: string; token: string }>;
  /** The mailbox a bearer token belongs to, or undefined (also for a disabled mailbox). */
  authenticate(token: string): Promise<Mailbox | undefined>;
  /** The mailbox of an address (an import adds mail to it). @throws not_found, bad_request */
  mailbox(address: string): Promise<Mailbox>;
  list(): Promise<AccountSummary[]>;
  /** Deletes the mailbox and all its mail; its IMAP and submission connections end. @throws not_found */
  remove(address: string): Promise<{ address: string }>;
  /**
   * Sets the password and ends every web session of the mailbox; its IMAP and submission connections
   * end at their next command (accounts/login-grants.ts). @throws not_found, bad_request for an empty or huge password
   */
  setPassword(address: string, password: string): Promise<{ address: string; sessionsEnded: number }>;
  /** Disabling ends the web sessions, IMAP and submission connections too; the mailbox keeps receiving mail. @throws not_found */
  setDisabled(address: string, disabled: boolean): Promise<{ address: string; disabled: boolean }>;
  /** A new API token; the others are revoked unless `keepOthers`. @throws not_found */
  newToken(address: string, keepOthers?: boolean): Promise<{ address: string; token: string; revoked: number }>;
}

/** An account as the admin API and CLI show it. */
export function adminUser(u: AccountSummary): AdminUser {
  return { address: u.address, has_password: u.hasPassword, admin: u.admin, disabled: !!u.disabledAt, tokens: u.tokens, created_at: u.createdAt.toISOString() };
}

function parseAddress(raw: string): string {
  const address = canonicalAddress(raw);
  if (!address) throw new PullmailError('bad_request', `"${raw}" is not a mail address`);
  return address;
}

function checkPassword(password: string): void {
  // the operator docs set no minimum; an empty password would be no password at all
  if (password.length < 1 || password.length > 1024) throw new PullmailError('bad_request', 'password must be 1 to 1024 characters');
}

/**
 * @param changes where a password set, a disable or a delete is announced, so this process's doors end
 *   the logins they hold open (a node passes ctx.credentialChanges; the offline CLI has no doors)
 */
export function createAccounts(db: Db, domains: readonly string[], now: () => number = Date.now, changes?: CredentialChanges): Accounts {
  async function existing(raw: string): Promise<Mailbox> {
    const address = parseAddress(raw);
    const mailbox = await findMailbox(db, address);
    if (!mailbox) throw new PullmailError('not_found', `no mailbox ${address}`);
    return mailbox;
  }
  return {
    async create(rawAddress, password, opts = {}) {
      const address = parseAddress(rawAddress);
      const domain = domainOf(address);
      if (!domains.includes(domain)) throw new PullmailError('bad_request', `${domain} is not a domain of this node (PULLMAIL_DOMAINS)`);
      if (password !== undefined) checkPassword(password);
      const { token, hash } = newApiToken();
      const passwordHash = password === undefined ? null : await hashPassword(password);
      const row = await db.transaction(async (tx) => {
        // an alias of that address would stop delivering (a mailbox comes first, delivery/recipient.ts);
        // one created meanwhile waits on this lock or is seen here (accounts/aliases.ts takes it too)
        await lockAddress(tx, address);
        if (await aliasExists(tx, address)) throw new PullmailError('conflict', `${address} is an alias already; delete it first`);
        return insertMailbox(tx, { address, domain, passwordHash, tokenHash: hash, admin: opts.admin });
      });
      if (!row) throw new PullmailError('conflict', `${address} already exists`);
      return { address, token };
    },
    mailbox: existing,
    async authenticate(token) {
      if (!token.startsWith('pm_') || token.length > 200) return undefined;
      const mailbox = await findMailboxByToken(db, hashToken(token));
      return mailbox?.disabledAt ? undefined : mailbox;
    },
    list: () => listMailboxes(db),
    async remove(raw) {
      const address = parseAddress(raw);
      const id = await deleteMailbox(db, address);
      if (!id) throw new PullmailError('not_found', `no mailbox ${address}`);
      changes?.announce(id);
      return { address };
    },
    async setPassword(raw, password) {
      checkPassword(password);
      const mailbox = await existing(raw);
      await setPasswordHash(db, mailbox.id, await hashPassword(password));
      changes?.announce(mailbox.id);
      // a reset is often the answer to a stolen password: whoever holds a browser session loses it
      return { address: mailbox.address, sessionsEnded: await revokeMailboxWebSessions({ db }, mailbox.id) };
    },
    async setDisabled(raw, disabled) {
      const mailbox = await existing(raw);
      await setDisabledAt(db, mailbox.id, disabled ? (mailbox.disabledAt ?? new Date(now())) : null);
      if (disabled) {
        await revokeMailboxWebSessions({ db }, mailbox.id);
        changes?.announce(mailbox.id);
      }
      return { address: mailbox.address, disabled };
    },
    async newToken(raw, keepOthers = false) {
      const mailbox = await existing(raw);
      const { token, hash } = newApiToken();
      const revoked = await db.transaction((tx) => addApiToken(tx, mailbox.id, hash, !keepOthers));
      return { address: mailbox.address, token, revoked };
    },
  };
}
