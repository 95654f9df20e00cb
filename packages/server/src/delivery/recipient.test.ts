// The precedence rule of delivery/recipient.ts as a table: mailbox, then exact alias, then catch-all.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pickRecipient } from './recipient.ts';

describe('pickRecipient', () => {
  const rows: [string, { mailbox?: string; alias?: string; catchAll?: string }, { mailbox: string; via: string } | undefined][] = [
    ['a mailbox alone', { mailbox: 'own' }, { mailbox: 'own', via: 'mailbox' }],
    // a catch-all never takes mail that has a mailbox of its own
    ['a mailbox and a catch-all', { mailbox: 'own', catchAll: 'all' }, { mailbox: 'own', via: 'mailbox' }],
    // the admin API refuses an alias on a mailbox's address; if one existed, the mailbox would still win
    ['a mailbox and an alias of the same address', { mailbox: 'own', alias: 'other' }, { mailbox: 'own', via: 'mailbox' }],
    ['an exact alias alone', { alias: 'target' }, { mailbox: 'target', via: 'alias' }],
    // the more specific home wins
    ['an exact alias and a catch-all', { alias: 'target', catchAll: 'all' }, { mailbox: 'target', via: 'alias' }],
    ['only the domain catch-all', { catchAll: 'all' }, { mailbox: 'all', via: 'catch_all' }],
    // nothing matches: 550 5.1.1 in SMTP, unknown_recipient in pm1
    ['nothing', {}, undefined],
  ];
  for (const [name, candidates, expected] of rows) {
    it(name, () => assert.deepEqual(pickRecipient(candidates), expected));
  }
});
