// Creating mailboxes (CLI `user add`, admin API) and resolving API tokens to mailboxes.
import { canonicalAddress, domainOf } from '../address.ts';
import { PullmailError } from '../errors.ts';
import type { Db } from '../store/db.ts';
import { findMailboxByToken, insertMailbox, type Mailbox } from '../store/mailboxes.ts';
import { hashPassword, hashToken, newApiToken } from './secrets.ts';

export interface Accounts {
  create(address: string, password?: string): Promise<{ address: string; token: string }>;
  /** The mailbox a bearer token belongs to, or undefined. */
  authenticate(token: string): Promise<Mailbox | undefined>;
}

export function createAccounts(db: Db, domains: readonly string[]): Accounts {
  return {
    async create(rawAddress, password) {
      const address = canonicalAddress(rawAddress);
      if (!address) throw new PullmailError('bad_request', `"${rawAddress}" is not a mail address`);
      const domain = domainOf(address);
      if (!domains.includes(domain)) throw new PullmailError('bad_request', `${domain} is not a domain of this node (PULLMAIL_DOMAINS)`);
      // the operator docs set no minimum; an empty password would be no password at all
      if (password !== undefined && (password.length < 1 || password.length > 1024)) {
        throw new PullmailError('bad_request', 'password must be 1 to 1024 characters');
      }
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
  };
}
