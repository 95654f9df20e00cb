// Checking a mailbox's password, for every door that takes one (SMTP submission, IMAP; the web UI
// next). The caller runs it inside the login throttle (policy/login-throttle.ts).
import { canonicalAddress } from '../address.ts';
import type { Executor } from '../store/db.ts';
import { findMailbox, type Mailbox } from '../store/mailboxes.ts';
import { verifyPassword } from './secrets.ts';

/** An scrypt hash no password matches: a login for an unknown address costs as much as one for a known one. */
const DUMMY_HASH = 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

/** The mailbox address when `password` is that mailbox's, else undefined; the same work either way (no user enumeration by timing). */
export async function checkMailboxPassword(db: Executor, username: string, password: string): Promise<string | undefined> {
  return (await mailboxForPassword(db, username, password))?.address;
}

/** The mailbox itself when `password` is its password (the web sign-in needs its id), else undefined; never a disabled one. */
export async function mailboxForPassword(db: Executor, username: string, password: string): Promise<Mailbox | undefined> {
  const address = canonicalAddress(username);
  const mailbox = address ? await findMailbox(db, address) : undefined;
  const ok = await verifyPassword(password, mailbox?.passwordHash ?? DUMMY_HASH);
  return ok && mailbox && !mailbox.disabledAt ? mailbox : undefined;
}
