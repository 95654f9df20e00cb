// The MX role (docs/operator.md "SMTP gateway"): legacy servers deliver mail for our users here.
// Only our domains and existing mailboxes; SPF/DKIM/DMARC recorded in Authentication-Results;
// greylisting for unknown senders; no smuggling. Every refusal is a reply inside the session: after
// a 250 the mail is stored, so the gateway never has to send a bounce to a possibly forged sender.
import { simpleParser } from 'mailparser';
import type { SMTPServerAddress, SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import { canonicalAddress, domainOf } from '../address.ts';
import type { AppContext } from '../context.ts';
import { evaluatePolicy } from '../delivery/recipient-policy.ts';
import { findMailbox, type Mailbox } from '../store/mailboxes.ts';
import { storeAccepted } from './accept-inbound.ts';
import { clientNetwork } from './dns.ts';
import { checkGreylist } from './greylist.ts';
import { fromAddress, splitHeaders, withTraceHeaders } from './headers.ts';
import { baseOptions, serverName, startListener, type SmtpListener } from './listener.ts';
import { readMessage } from './read-message.ts';
import { isSmtpReply, replies } from './replies.ts';
import { checkSenderAuth, isVerifiedSender } from './sender-auth.ts';

const MAX_RECIPIENTS = 100;
/** Policy reasons that make a sender known: greylisting leaves them alone. */
const KNOWN = new Set(['allowed', 'known_correspondent']);

interface Transaction {
  /** Canonical envelope sender, '' for the null sender. */
  sender: string;
  rcpts: Map<string, Mailbox>;
}

export async function startMxListener(ctx: AppContext): Promise<SmtpListener> {
  const log = ctx.log.child({ sub: 'smtp-mx' });
  const name = serverName(ctx);
  const transactions = new WeakMap<SMTPServerSession, Transaction>();

  /** Runs a handler and answers with its reply, or 451 for anything unexpected (logged once here). */
  const answer = (session: SMTPServerSession, what: string, cb: (err?: Error | null, msg?: string) => void, fn: () => Promise<string | void>) => {
    fn().then(
      (msg) => cb(null, msg ?? undefined),
      (err: unknown) => {
        if (isSmtpReply(err)) {
          log.info({ sid: session.id, ip: session.remoteAddress, what, reply: `${err.responseCode} ${err.message}` }, 'smtp refused');
          return cb(err);
        }
        log.error({ err, sid: session.id, what }, 'smtp handler failed');
        cb(replies.localError());
      },
    );
  };

  async function onMailFrom(address: SMTPServerAddress, session: SMTPServerSession): Promise<void> {
    const sender = address.address === '' ? '' : canonicalAddress(address.address);
    if (sender === undefined) throw replies.badSender();
    if (sender) {
      const wait = await ctx.rateLimits.take(sender);
      if (wait > 0) throw replies.rateLimited(wait);
    }
    transactions.set(session, { sender, rcpts: new Map() });
  }

  async function onRcptTo(address: SMTPServerAddress, session: SMTPServerSession): Promise<void> {
    const tx = transactions.get(session)!;
    const rcpt = canonicalAddress(address.address);
    if (!rcpt) throw replies.badRecipient();
    if (!ctx.config.domains.includes(domainOf(rcpt))) throw replies.relayDenied();
    const mailbox = await findMailbox(ctx.db, rcpt);
    if (!mailbox) throw replies.unknownUser();
    if (tx.rcpts.size >= MAX_RECIPIENTS) throw replies.tooManyRecipients();
    const policy = await evaluatePolicy(ctx, ctx.db, mailbox, tx.sender);
    if (policy.decision === 'reject') throw replies.refused();
    if (ctx.config.greylistSeconds > 0 && !KNOWN.has(policy.reason)) {
      const verdict = await checkGreylist(ctx.db, { client: clientNetwork(session.remoteAddress), sender: tx.sender, rcpt }, ctx.now(), ctx.config.greylistSeconds);
      if (!verdict.pass) throw replies.greylisted(verdict.waitSeconds);
    }
    tx.rcpts.set(rcpt, mailbox);
  }

  async function onData(stream: SMTPServerDataStream, session: SMTPServerSession): Promise<string> {
    const tx = transactions.get(session)!;
    const max = ctx.config.maxMessageBytes;
    const msg = await readMessage(stream, max);
    if (msg.oversize) throw replies.tooLarge(max);
    if (msg.smuggling) throw replies.smuggling();

    const { fields } = splitHeaders(msg.raw);
    const headerBlock = Buffer.from(fields.map((f) => f.text).join('') + '\r\n', 'latin1');
    const parsed = await simpleParser(headerBlock, { skipHtmlToText: true, skipTextToHtml: true, skipImageLinks: true });
    // the null sender (bounces, receipts) is judged by its From field
    const sender = tx.sender || fromAddress(fields) || '';

    const helo = (session.hostNameAppearsAs || session.remoteAddress).replace(/[^\x21-\x7e]/g, '').slice(0, 255);
    const auth = await checkSenderAuth(msg.raw, { ip: session.remoteAddress, helo, sender: tx.sender, authservId: name, resolver: ctx.resolver });
    // RFC 7489 §6.6.2: the author domain asks receivers to refuse mail that fails DMARC
    if (auth.dmarcFailPolicy === 'reject') throw replies.dmarcReject(auth.authorDomain ?? 'the author domain');

    const now = new Date(ctx.now());
    const rcpts = [...tx.rcpts.keys()];
    const received =
      `Received: from ${helo} (${session.clientHostname} [${session.remoteAddress}])\r\n` +
      `\tby ${name} (pullmail) with ${session.transmissionType} id ${session.id}` +
      `${rcpts.length === 1 ? `\r\n\tfor <${rcpts[0]}>` : ''}; ${now.toUTCString().replace('GMT', '+0000')}`;
    const raw = withTraceHeaders(msg.raw, [`Return-Path: <${tx.sender}>`, received, auth.headers], name);

    const sentAt = parsed.date && !Number.isNaN(parsed.date.getTime()) ? parsed.date : undefined;
    const copies = await storeAccepted(ctx, {
      raw,
      sender,
      senderVerified: !!sender && isVerifiedSender(sender, auth.verifiedDomains),
      quarantine: auth.dmarcFailPolicy === 'quarantine',
      subject: parsed.subject ?? '',
      sentAt,
    }, tx.rcpts);
    log.info({ sid: session.id, ip: session.remoteAddress, from: tx.sender, size: raw.length, spf: auth.spf, dmarc: auth.dmarc, copies }, 'smtp message accepted');
    // blocked meanwhile for every recipient (a rule added since RCPT): nothing was stored
    if (copies.every((c) => c.decision === 'reject')) throw replies.refused();
    return `2.0.0 Ok: stored as ${session.id}`;
  }

  return startListener(
    {
      ...baseOptions(ctx),
      banner: 'pullmail',
      // the MX takes no logins: submission has its own port
      disabledCommands: ctx.config.tls ? ['AUTH'] : ['AUTH', 'STARTTLS'],
      onMailFrom: (address, session, cb) => answer(session, 'MAIL', cb, () => onMailFrom(address, session)),
      onRcptTo: (address, session, cb) => answer(session, 'RCPT', cb, () => onRcptTo(address, session)),
      onData: (stream, session, cb) => answer(session, 'DATA', cb, () => onData(stream, session).catch(async (err) => {
        // a refusal before the whole message was read: drain it so the reply comes after the final dot
        if (!stream.readableEnded) {
          stream.resume();
          await new Promise((r) => stream.once('end', r));
        }
        throw err;
      })),
    },
    { host: ctx.config.smtpHost, port: ctx.config.smtpPort },
    log,
  );
}
