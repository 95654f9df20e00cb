// The submission role (RFC 6409; docs/operator.md "SMTP gateway"): users' mail clients send here with
// AUTH PLAIN/LOGIN and the mailbox password. STARTTLS when PULLMAIL_TLS_* is set; AUTH over clear text
// only on a loopback listener. The message then takes the same path as an API send: pm1 for pull
// nodes, SMTP for legacy domains, with the envelope recipients (so Bcc works). A login ends once the
// mailbox is disabled or deleted or its password changed: MAIL, RCPT and DATA then get 421 and the
// connection closes (accounts/login-grants.ts).
import type { SMTPServerAddress, SMTPServerAuthentication, SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import { canonicalAddress } from '../address.ts';
import { grantLogin, type LoginGrant } from '../accounts/login-grants.ts';
import { mailboxForPassword } from '../accounts/password-login.ts';
import type { AppContext } from '../context.ts';
import { sendingAddresses, sendMessage } from '../delivery/send.ts';
import { isPullmailError } from '../errors.ts';
import { loginRevoked } from '../events.ts';
import { findMailbox } from '../store/mailboxes.ts';
import { baseOptions, greetPause, isLoopback, sessionAnswerer, startListener, type SmtpListener } from './listener.ts';
import { readMessage } from './read-message.ts';
import { replies, replyFor } from './replies.ts';

const MAX_RECIPIENTS = 1000;

export async function startSubmissionListener(ctx: AppContext): Promise<SmtpListener> {
  const log = ctx.log.child({ sub: 'smtp-submission' });
  const max = ctx.config.maxMessageBytes;
  /** The authenticated mailbox address of a session (smtp-server keeps it as `session.user`). */
  const userOf = (session: SMTPServerSession) => session.user as string;
  /** The login each authenticated session holds, released when its connection closes. */
  const grants = new WeakMap<SMTPServerSession, LoginGrant>();

  /** Refuses the command with 421 (smtp-server then closes the connection) when the login no longer stands. */
  async function requireLogin(session: SMTPServerSession): Promise<void> {
    const grant = grants.get(session);
    if (!grant || (await grant.holds())) return;
    loginRevoked(ctx, { door: 'submission', account: grant.address, client: session.remoteAddress });
    throw replies.loginRevoked();
  }

  // client mistakes are 5xx; anything the mapping does not know becomes 451 and is ours to look at
  const answer = sessionAnswerer(ctx, 'submission', log, (err) => replyFor(err, { maxBytes: max }));

  async function onAuth(auth: SMTPServerAuthentication, session: SMTPServerSession): Promise<string | undefined> {
    const address = auth.username ? canonicalAddress(auth.username) : undefined;
    const attempt = { door: 'submission' as const, client: session.remoteAddress, account: address ?? auth.username?.slice(0, 320) };
    const mailbox = await ctx.loginThrottle.guard(attempt, () => mailboxForPassword(ctx.db, auth.username ?? '', auth.password ?? ''));
    if (!mailbox) return undefined;
    grants.get(session)?.release();
    grants.set(session, grantLogin(ctx, mailbox));
    return mailbox.address;
  }

  async function onMailFrom(address: SMTPServerAddress, session: SMTPServerSession): Promise<void> {
    await requireLogin(session);
    // RFC 6409 §6.1: the server may insist the sender is the authenticated user (or one of its aliases)
    const sender = canonicalAddress(address.address);
    if (sender === userOf(session)) return;
    const mailbox = await findMailbox(ctx.db, userOf(session));
    if (!sender || !mailbox || !(await sendingAddresses(ctx, mailbox)).includes(sender)) throw replies.notYourAddress(userOf(session));
  }

  async function onRcptTo(address: SMTPServerAddress, session: SMTPServerSession): Promise<void> {
    await requireLogin(session);
    if (!canonicalAddress(address.address)) throw replies.badRecipient();
    if (session.envelope.rcptTo.length >= MAX_RECIPIENTS) throw replies.tooManyRecipients();
  }

  async function onData(stream: SMTPServerDataStream, session: SMTPServerSession): Promise<string> {
    // smtp-server calls this at the DATA command: a login already gone is refused unread (drained,
    // then the 421), and one that ends while the message comes in is asked again before it is sent
    await requireLogin(session);
    const msg = await readMessage(stream, max);
    await requireLogin(session);
    if (msg.oversize) throw replies.tooLarge(max);
    if (msg.smuggling) throw replies.smuggling();
    const mailbox = await findMailbox(ctx.db, userOf(session));
    if (!mailbox) throw replies.localError();
    const envelope = session.envelope.rcptTo.map((r) => r.address);
    // completeRawMessage refuses a From that is not the user's own or an alias's (PullmailError forbidden -> 553 5.7.1)
    const sent = await sendMessage(ctx, mailbox, { raw: msg.raw, envelope });
    log.info({ sid: session.id, user: mailbox.address, msgId: sent.id, rcpts: envelope.length, size: msg.size }, 'submission accepted');
    return `2.0.0 Ok: queued as ${sent.id}`;
  }

  return startListener(
    {
      ...baseOptions(ctx),
      banner: 'pullmail submission',
      authMethods: ['PLAIN', 'LOGIN'],
      // never a password in clear text over a network: without TLS only a loopback listener takes AUTH
      allowInsecureAuth: isLoopback(ctx.config.smtpHost),
      disabledCommands: ctx.config.tls ? [] : ['STARTTLS'],
      onAuth: (auth, session, cb) => {
        onAuth(auth, session).then(
          (user) => (user ? cb(null, { user }) : cb(replies.authFailed())),
          (err: unknown) => {
            if (isPullmailError(err, 'rate_limited')) return cb(replies.authLockedOut(err.retryAfter ?? 60));
            log.error({ err, sid: session.id }, 'auth check failed');
            cb(replies.localError());
          },
        );
      },
      onMailFrom: (address, session, cb) => answer(session, 'MAIL', cb, () => onMailFrom(address, session)),
      onRcptTo: (address, session, cb) => answer(session, 'RCPT', cb, () => onRcptTo(address, session)),
      onData: (stream, session, cb) => answer(session, 'DATA', cb, () => onData(stream, session)),
      onClose: (session) => {
        grants.get(session)?.release();
        grants.delete(session);
      },
    },
    { host: ctx.config.smtpHost, port: ctx.config.submissionPort, maxPerAddress: ctx.config.smtpMaxClientsPerIp, greet: greetPause(ctx) },
    log,
  );
}

/** A valid scrypt hash of a random password, checked when the user does not exist. */
