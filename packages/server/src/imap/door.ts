// The IMAP door as a node Worker (docs/imap.md): a listener on PULLMAIL_IMAP_PORT (STARTTLS when
// PULLMAIL_TLS_* is set; logins before TLS only on a loopback address) and one on PULLMAIL_IMAPS_PORT
// (implicit TLS), over the mailbox model. Logins check the mailbox password through the same throttle
// as SMTP submission and the API; a login ends at the next command once the mailbox is disabled or its
// password changed (accounts/login-grants.ts).
import { canonicalAddress } from '../address.ts';
import { grantLogin } from '../accounts/login-grants.ts';
import { mailboxForPassword } from '../accounts/password-login.ts';
import type { AppContext } from '../context.ts';
import { PullmailError } from '../errors.ts';
import { loginRevoked } from '../events.ts';
import { createMailWatch } from '../mailbox/watch.ts';
import type { Worker } from '../server.ts';
import { isLoopback } from '../smtp/listener.ts';
import { startImapListener, type ImapListener } from './listener.ts';
import { mailboxBackend } from './mailbox-backend.ts';
import type { SessionLogin } from './session.ts';

export function imapDoor(ctx: AppContext): Worker & { ports(): { imap?: number; imaps?: number } } {
  const log = ctx.log.child({ sub: 'imap' });
  const watch = createMailWatch(ctx.database, log);
  const backend = mailboxBackend(ctx, watch);
  const listeners: { imap?: ImapListener; imaps?: ImapListener } = {};

  async function login(user: string, password: string, client: { address: string }): Promise<SessionLogin | undefined> {
    const address = canonicalAddress(user);
    let mailbox;
    try {
      mailbox = await ctx.loginThrottle.guard({ door: 'imap', client: client.address, account: address ?? user.slice(0, 320) }, () => mailboxForPassword(ctx.db, user, password));
    } catch (err) {
      // locked out: refused like a wrong password, without the password having been looked at
      if (err instanceof PullmailError && err.code === 'rate_limited') return undefined;
      throw err;
    }
    if (!mailbox) return undefined;
    const grant = grantLogin(ctx, mailbox);
    return {
      user: grant.address,
      async holds() {
        const holds = await grant.holds();
        if (!holds) loginRevoked(ctx, { door: 'imap', account: grant.address, client: client.address });
        return holds;
      },
      onChange: grant.onChange,
      release: grant.release,
    };
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
