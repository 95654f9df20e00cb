// The IMAP door as a node Worker (docs/imap.md): a listener on PULLMAIL_IMAP_PORT (STARTTLS when
// PULLMAIL_TLS_* is set; logins before TLS only on a loopback address) and one on PULLMAIL_IMAPS_PORT
// (implicit TLS), over the mailbox model. Logins check the mailbox password through the same throttle
// as SMTP submission and the API.
import { canonicalAddress } from '../address.ts';
import { checkMailboxPassword } from '../accounts/password-login.ts';
import type { AppContext } from '../context.ts';
import { PullmailError } from '../errors.ts';
import { createMailWatch } from '../mailbox/watch.ts';
import type { Worker } from '../server.ts';
import { isLoopback } from '../smtp/listener.ts';
import { startImapListener, type ImapListener } from './listener.ts';
import { mailboxBackend } from './mailbox-backend.ts';

export function imapDoor(ctx: AppContext): Worker & { ports(): { imap?: number; imaps?: number } } {
  const log = ctx.log.child({ sub: 'imap' });
  const watch = createMailWatch(ctx.database, log);
  const backend = mailboxBackend(ctx, watch);
  const listeners: { imap?: ImapListener; imaps?: ImapListener } = {};

  async function login(user: string, password: string, client: { address: string }): Promise<string | undefined> {
    const address = canonicalAddress(user);
    try {
      return await ctx.loginThrottle.guard({ door: 'imap', client: client.address, account: address ?? user.slice(0, 320) }, () => checkMailboxPassword(ctx.db, user, password));
    } catch (err) {
      // locked out: refused like a wrong password, without the password having been looked at
      if (err instanceof PullmailError && err.code === 'rate_limited') return undefined;
      throw err;
    }
  }

  const common = {
    host: ctx.config.imapHost,
    backend,
    login,
    log,
    maxLiteralBytes: ctx.config.maxMessageBytes,
    maxConnections: ctx.config.imapMaxClients,
    maxConnectionsPerAddress: ctx.config.imapMaxClientsPerIp,
    tls: ctx.config.tls,
  };
  return {
    async start() {
      if (ctx.config.imapPort) listeners.imap = await startImapListener({ ...common, port: ctx.config.imapPort, loginNeedsTls: !isLoopback(ctx.config.imapHost) });
      if (ctx.config.imapsPort) listeners.imaps = await startImapListener({ ...common, port: ctx.config.imapsPort, implicitTls: true });
    },
    async stop() {
      await Promise.all([listeners.imap?.close(), listeners.imaps?.close()]);
      await watch.close();
    },
    ports: () => ({ imap: listeners.imap?.port, imaps: listeners.imaps?.port }),
  };
}
