// Mailboxes as the operator manages them (CLI `user …`, admin API) and resolving API tokens to mailboxes.
import { canonicalAddress, domainOf } from '../address.ts';
import { PullmailError } from '../errors.ts';
import type { Db } from '../store/db.ts';
import { addApiToken, deleteMailbox, findMailbox, findMailboxByToken, insertMailbox, listMailboxes, setPasswordHash, type Mailbox } from '../store/mailboxes.ts';
import { deleteMailboxWebSessions } from '../store/web-sessions.ts';
import { hashPassword, hashToken, newApiToken } from './secrets.ts';

export interface AccountSummary {
  address: string;
  hasPassword: boolean;
  tokens: number;
  createdAt: Date;
}

export interface Accounts {
  create(address: string, password?: string): Promise<{ address: string; token: string }>;
  /** The mailbox a bearer token belongs to, or undefined. */
  authenticate(token: string): Promise<Mailbox | undefined>;
  list(): Promise<AccountSummary[]>;
  /** Deletes the mailbox and all its mail. @throws not_found */
  remove(address: string): Promise<{ address: string }>;
  /** @throws not_found, bad_request for an empty or huge password */
  setPassword(address: string, password: string): Promise<{ address: string }>;
  /** A new API token; the others are revoked unless `keepOthers`. @throws not_found */
  newToken(address: string, keepOthers?: boolean): Promise<{ address: string; token: string; revoked: number }>;
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

export function createAccounts(db: Db, domains: readonly string[]): Accounts {
  async function existing(raw: string): Promise<Mailbox> {
    const address = parseAddress(raw);
    const mailbox = await findMailbox(db, address);
    if (!mailbox) throw new PullmailError('not_found', `no mailbox ${address}`);
    return mailbox;
  }
  return {
    async create(rawAddress, password) {
      const address = parseAddress(rawAddress);
      const domain = domainOf(address);
      if (!domains.includes(domain)) throw new PullmailError('bad_request', `${domain} is not a domain of this node (PULLMAIL_DOMAINS)`);
      if (password !== undefined) checkPassword(password);
      const { token, hash } = newApiToken();
      const passwordHash = password === undefined ? null : await hashPassword(password);
      const row = await db.transaction((tx) => insertMailbox(tx, { address, domain, passwordHash, tokenHash: hash }));
      if (!row) throw new PullmailError('conflict', `${address} already exists`);
      return { address, token };
    },
    async authenticate(token) {
      if (!token.startsWith('pm_') || token.length > 200) return undefined;
      return findMailboxByToken(db, hashToken(token));
    },
    list: () => listMailboxes(db),
    async remove(raw) {
      const address = parseAddress(raw);
      if (!(await deleteMailbox(db, address))) throw new PullmailError('not_found', `no mailbox ${address}`);
      return { address };
    },
    async setPassword(raw, password) {
      checkPassword(password);
      const mailbox = await existing(raw);
      await setPasswordHash(db, mailbox.id, await hashPassword(password));
      // whoever knew the old password is signed out of the web UI everywhere
      await deleteMailboxWebSessions(db, mailbox.id);
      return { address: mailbox.address };
    },
    async newToken(raw, keepOthers = false) {
      const mailbox = await existing(raw);
      const { token, hash } = newApiToken();
      const revoked = await db.transaction((tx) => addApiToken(tx, mailbox.id, hash, !keepOthers));
      return { address: mailbox.address, token, revoked };
    },
  };
}
