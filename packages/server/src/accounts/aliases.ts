// Aliases and catch-alls as the operator manages them (admin API /api/v1/admin/aliases, CLI
// `alias add|list|delete`; README "Aliases and catch-all"). Delivery reads them in delivery/recipient.ts.
import type { AdminAlias } from '@pullmail/client/wire';
import { aliasAddress, canonicalAddress, domainOf } from '../address.ts';
import { PullmailError } from '../errors.ts';
import type { Db } from '../store/db.ts';
import { deleteAlias, insertAlias, listAliases, lockAddress, type AliasRow } from '../store/aliases.ts';
import { findMailbox } from '../store/mailboxes.ts';

export interface Aliases {
  /** @throws bad_request (not an address, not our domain), not_found (no such target), conflict (taken) */
  create(address: string, target: string): Promise<AdminAlias>;
  list(): Promise<AliasRow[]>;
  /** @throws not_found */
  remove(id: string): Promise<AdminAlias>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function createAliases(db: Db, domains: readonly string[]): Aliases {
  return {
    async create(rawAddress, rawTarget) {
      const address = aliasAddress(rawAddress);
      if (!address) throw new PullmailError('bad_request', `address: "${rawAddress}" is not a mail address (local@domain) or a catch-all (@domain)`);
      const domain = domainOf(address);
      if (!domains.includes(domain)) throw new PullmailError('bad_request', `address: ${domain} is not a domain of this node (PULLMAIL_DOMAINS)`);
      const target = canonicalAddress(rawTarget);
      if (!target) throw new PullmailError('bad_request', `target: "${rawTarget}" is not a mail address`);
      const mailbox = await findMailbox(db, target);
      if (!mailbox) throw new PullmailError('not_found', `target: no mailbox ${target} on this node (an alias delivers to an existing mailbox)`);
      return db.transaction(async (tx) => {
        // a mailbox of the same address created meanwhile waits here or is seen below (accounts.ts takes the same lock)
        await lockAddress(tx, address);
        if (!address.startsWith('@') && (await findMailbox(tx, address))) throw new PullmailError('conflict', `${address} is a mailbox already`);
        const row = await insertAlias(tx, { address, domain, targetMailboxId: mailbox.id });
        if (!row) throw new PullmailError('conflict', `${address} is an alias already`);
        return { id: row.id, address, target: mailbox.address };
      });
    },
    list: () => listAliases(db),
    async remove(id) {
      const row = UUID.test(id) ? await deleteAlias(db, id) : undefined;
      if (!row) throw new PullmailError('not_found', `no alias ${id}`);
      return { id: row.id, address: row.address, target: row.target };
    },
  };
}
