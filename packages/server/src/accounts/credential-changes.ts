// The in-process news that a mailbox's credentials changed: its password was set, it was disabled or
// deleted (accounts.ts announces it after the write). Doors holding logins open on long connections
// (IMAP, SMTP submission; accounts/login-grants.ts) listen, so a change made in this process ends
// them at once. Other processes on the same database learn of it by re-reading the row.

export interface CredentialChanges {
  /** Says that `mailboxId`'s password, disabled state or existence changed; call after the write is committed. */
  announce(mailboxId: string): void;
  /** Calls `listener` after each announcement for `mailboxId`; returns the unsubscribe. */
  subscribe(mailboxId: string, listener: () => void): () => void;
}

export function createCredentialChanges(): CredentialChanges {
  const listeners = new Map<string, Set<() => void>>();
  return {
    announce(mailboxId) {
      // a copy: a listener may unsubscribe (or a door subscribe) while we walk the set
      for (const listener of [...(listeners.get(mailboxId) ?? [])]) listener();
    },
    subscribe(mailboxId, listener) {
      const set = listeners.get(mailboxId) ?? new Set();
      set.add(listener);
      listeners.set(mailboxId, set);
      return () => {
        set.delete(listener);
        if (!set.size && listeners.get(mailboxId) === set) listeners.delete(mailboxId);
      };
    },
  };
}
