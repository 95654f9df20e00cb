// Waking the doors that follow a mailbox (IMAP IDLE, web pages) when it changes in any process: one
// LISTEN per node on the journal's channel (migration 0005 raises it on every change), fanned out to
// the listeners of that mailbox. The journal is the record; this only says when to read it.
import type { Database } from '../store/db.ts';
import type { Logger } from '../log.ts';

export const MAIL_CHANNEL = 'pullmail_mail';

export type MailListener = (folderId: string) => void;

export interface MailWatch {
  /** Calls `listener` with the folder id after each committed change to the mailbox; returns the unsubscribe. */
  subscribe(mailboxId: string, listener: MailListener): () => void;
  /** Resolves once the LISTEN behind the subscriptions is in place (changes before it may be missed). */
  ready(): Promise<void>;
  close(): Promise<void>;
}

/** Starts listening lazily, on the first subscription, so a node nobody follows holds no LISTEN connection. */
export function createMailWatch(database: Pick<Database, 'listen'>, log: Logger): MailWatch {
  const listeners = new Map<string, Set<MailListener>>();
  let stop: Promise<(() => Promise<void>) | undefined> | undefined;
  const dispatch = (payload: string) => {
    const [mailboxId, folderId] = payload.split(' ');
    for (const l of listeners.get(mailboxId) ?? []) {
      try {
        l(folderId);
      } catch (err) {
        log.warn({ err }, 'a mailbox listener failed');
      }
    }
  };
  return {
    subscribe(mailboxId, listener) {
      stop ??= database.listen(MAIL_CHANNEL, dispatch).catch((err: unknown) => {
        log.error({ err }, 'cannot listen for mailbox changes; IDLE clients see them at their next command');
        stop = undefined;
        return undefined;
      });
      const set = listeners.get(mailboxId) ?? new Set();
      set.add(listener);
      listeners.set(mailboxId, set);
      return () => {
        set.delete(listener);
        if (!set.size) listeners.delete(mailboxId);
      };
    },
    async ready() {
      await stop;
    },
    async close() {
      listeners.clear();
      const unlisten = await stop;
      stop = undefined;
      await unlisten?.().catch(() => undefined);
    },
  };
}
