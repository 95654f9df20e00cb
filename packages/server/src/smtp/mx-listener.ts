// The MX role (docs/operator.md "SMTP gateway"): legacy servers deliver mail for our users here.
// Only our domains and existing mailboxes (or an alias or catch-all of one, delivery/recipient.ts); SPF/DKIM/DMARC recorded in Authentication-Results;
// greylisting for unknown senders; no smuggling. Every refusal is a reply inside the session: after
// a 250 the mail is stored, so the gateway never has to send a bounce to a possibly forged sender.
// Challenge/response (docs/cri.md): the ESMTP CRI extension (452 challenges and tokens at RCPT), the
// optional sender callout, and automatic answers to CRI challenges about our users' own mail.
import type { SMTPServerAddress, SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import { canonicalAddress, domainOf } from '../address.ts';
import type { AppContext } from '../context.ts';
import { findRcpt, type SenderFacts } from '../delivery/recipient-policy.ts';
import { criEvent, senderCalloutChecked } from '../events.ts';
import type { PolicyReason } from '../policy/decide.ts';
import type { Mailbox } from '../store/mailboxes.ts';
import { createCopyBatcher } from '../store/smtp-copies.ts';
import { storeAccepted } from './accept-inbound.ts';
import { createSenderCallout } from './callout.ts';
import { handleCriChallenge } from './cri-answer.ts';
import { checkPresentedToken, rcptChallenge, type RcptGrant } from './cri-gate.ts';
import { readCriMail } from './cri-message.ts';
import { CRI_EHLO_KEYWORD, loopExemption, parseRcptParams } from './cri.ts';
import { cachingResolver, clientNetwork, smtpServerResolver } from './dns.ts';
import { checkGreylist } from './greylist.ts';
import { decodedHeader, fromAddress, headerValue, splitHeaders, withTraceHeaders } from './headers.ts';
import { baseOptions, greetPause, serverName, sessionAnswerer, startListener, type SmtpListener } from './listener.ts';
import { readMessage } from './read-message.ts';
import { isSmtpReply, replies } from './replies.ts';
import { checkSenderAuth, isVerifiedSender } from './sender-auth.ts';

/** Most recipients one MX transaction accepts (RFC 5321 §4.5.3.1.8 asks for at least 100): every accepted RCPT counts. */
export const MAX_RECIPIENTS = 100;
/** Most Received fields a message may arrive with (Postfix's hop_count_limit): more means a loop. */
export const MAX_HOPS = 50;
/** Most bytes of header a message may have: mailparser's (mailsplit's maxHeadSize). */
const MAX_HEADER_BYTES = 1024 * 1024;
/** Policy reasons that make a sender known: greylisting leaves them alone. */
const KNOWN: ReadonlySet<string> = new Set<PolicyReason>(['allowed', 'known_correspondent']);

interface Transaction {
  /** Canonical envelope sender, '' for the null sender. */
  sender: string;
  /** Recipient as addressed (an alias's own address, for one) → the mailbox it delivers to. */
  rcpts: Map<string, Mailbox>;
  /** Every address accepted, also one whose mailbox `rcpts` has already (an alias, the catch-all): MAX_RECIPIENTS counts these. */
  accepted: Set<string>;
  /** Recipients whose RCPT carried an accepted CRI token. */
  grants: Map<string, RcptGrant>;
  /** What RCPT read about the sender at each recipient's mailbox: DATA stores under them while they hold. */
  facts: Map<string, SenderFacts>;
}

export async function startMxListener(ctx: AppContext): Promise<SmtpListener> {
  const log = ctx.log.child({ sub: 'smtp-mx' });
  const name = serverName(ctx);
  const transactions = new WeakMap<SMTPServerSession, Transaction>();
  const callout = ctx.config.senderCallout
    ? createSenderCallout({ resolver: ctx.resolver, port: ctx.config.calloutPort, ehloName: name, now: ctx.now, allowPrivate: ctx.config.allowPrivatePeers })
    : undefined;

  const answer = sessionAnswerer(ctx, 'mx', log);
  // the reverse lookup and SPF/DKIM/DMARC ask the same names message after message
  const dns = cachingResolver(ctx.resolver, ctx.now);
  // concurrent sessions' copies share a statement and its commit; each 250 still follows its own
  const batch = createCopyBatcher(ctx.db);

  async function onMailFrom(address: SMTPServerAddress, session: SMTPServerSession): Promise<void> {
    const sender = address.address === '' ? '' : canonicalAddress(address.address);
    if (sender === undefined) throw replies.badSender();
    if (sender) {
      const wait = await ctx.rateLimits.take(sender);
      if (wait > 0) throw replies.rateLimited(wait);
    }
    transactions.set(session, { sender, rcpts: new Map(), accepted: new Set(), grants: new Map(), facts: new Map() });
  }

  async function onRcptTo(address: SMTPServerAddress, session: SMTPServerSession): Promise<void> {
    const tx = transactions.get(session)!;
    const rcpt = canonicalAddress(address.address);
    if (!rcpt) throw replies.badRecipient();
    if (!ctx.config.domains.includes(domainOf(rcpt))) throw replies.relayDenied();
    // before the look-up: a catch-all takes any number of addresses, each of them one more RCPT
    if (!tx.accepted.has(rcpt) && tx.accepted.size >= MAX_RECIPIENTS) throw replies.tooManyRecipients();
    // smtp-server passes every RCPT parameter on unchecked: we take the CRI ones and refuse the rest
    const presented = parseRcptParams(address.args);
    const found = await findRcpt(ctx, rcpt, tx.sender);
    if (!found) throw replies.unknownUser();
    const { mailbox, facts, policy } = found;
    // an alias and its target (or two aliases of one mailbox) in one transaction: one copy is stored
    if (!tx.rcpts.has(rcpt) && [...tx.rcpts.values()].some((m) => m.id === mailbox.id)) {
      tx.accepted.add(rcpt);
      return;
    }
    if (policy.decision === 'reject') throw replies.refused();
    tx.grants.delete(rcpt);
    tx.facts.set(rcpt, facts);
    if (presented) {
      try {
        tx.grants.set(rcpt, await checkPresentedToken(ctx, mailbox, tx.sender, presented, policy));
      } catch (err) {
        criEvent(ctx, { event: 'token_refused', rcpt, sender: tx.sender, session: session.id, detail: isSmtpReply(err) ? String(err.responseCode) : undefined });
        throw err;
      }
      criEvent(ctx, { event: 'token_accepted', rcpt, sender: tx.sender, session: session.id, detail: tx.grants.get(rcpt)!.reason });
      // a token is the proof the checks below look for
      tx.rcpts.set(rcpt, mailbox);
      tx.accepted.add(rcpt);
      return;
    }
    if (!KNOWN.has(policy.reason) && tx.sender) {
      // our own domains need no asking: their mailboxes are in our database
      if (callout && !ctx.config.domains.includes(domainOf(tx.sender))) {
        const v = await callout.check(tx.sender);
        senderCalloutChecked(ctx, { sender: tx.sender, verdict: v.verdict, cached: v.cached, detail: v.detail, session: session.id });
        // never a permanent refusal on a callout alone
        if (v.verdict === 'refused') throw replies.calloutRefused(tx.sender);
        if (v.verdict === 'unknown') throw replies.calloutUnavailable();
      }
      const challenge = await rcptChallenge(ctx, mailbox, tx.sender, policy);
      if (challenge) {
        criEvent(ctx, { event: 'challenge_issued', rcpt, sender: tx.sender, session: session.id });
        throw challenge;
      }
    }
    if (ctx.config.greylistSeconds > 0 && !KNOWN.has(policy.reason)) {
      const verdict = await checkGreylist(ctx.db, { client: clientNetwork(session.remoteAddress), sender: tx.sender, rcpt }, ctx.now(), ctx.config.greylistSeconds);
      if (!verdict.pass) throw replies.greylisted(verdict.waitSeconds);
    }
    tx.rcpts.set(rcpt, mailbox);
    tx.accepted.add(rcpt);
  }

  async function onData(stream: SMTPServerDataStream, session: SMTPServerSession): Promise<string> {
    const tx = transactions.get(session)!;
    const max = ctx.config.maxMessageBytes;
    const msg = await readMessage(stream, max);
    if (msg.oversize) throw replies.tooLarge(max);
    if (msg.smuggling) throw replies.smuggling();

    const { fields } = splitHeaders(msg.raw);
    // RFC 5321 §6.3: a message that went round too often is refused in the session, never bounced
    const hops = fields.filter((f) => f.name === 'received').length;
    if (hops > MAX_HOPS) throw replies.mailLoop(hops, MAX_HOPS);
    // the limit mailparser has when the message is read back (mailbox/read.ts): a permanent reply
    if (fields.reduce((n, f) => n + f.text.length, 0) > MAX_HEADER_BYTES) throw replies.headerTooLarge();
    // the null sender (bounces, receipts) is judged by its From field
    const sender = tx.sender || fromAddress(fields) || '';

    const helo = (session.hostNameAppearsAs || session.remoteAddress).replace(/[^\x21-\x7e]/g, '').slice(0, 255);
    const auth = await checkSenderAuth(msg.raw, { ip: session.remoteAddress, helo, sender: tx.sender, authservId: name, resolver: dns });
    // RFC 7489 §6.6.2: the author domain asks receivers to refuse mail that fails DMARC
    if (auth.dmarcFailPolicy === 'reject') throw replies.dmarcReject(auth.authorDomain ?? 'the author domain');

    const now = new Date(ctx.now());
    const rcpts = [...tx.rcpts.keys()];
    const received =
      `Received: from ${helo} (${session.clientHostname} [${session.remoteAddress}])\r\n` +
      `\tby ${name} (pullmail) with ${session.transmissionType} id ${session.id}` +
      `${rcpts.length === 1 ? `\r\n\tfor <${rcpts[0]}>` : ''}; ${now.toUTCString().replace('GMT', '+0000')}`;
    const raw = withTraceHeaders(msg.raw, [`Return-Path: <${tx.sender}>`, received, auth.headers], name);

    // a CRI challenge to one of our users is answered (once, and only about mail that left here) or
    // dropped; only one that needs the user's own eyes goes on to the ordinary policy below
    const rcptsLeft = new Map(tx.rcpts);
    const cri = readCriMail(msg.raw);
    if (cri?.type === 'challenge') {
      const exemption = loopExemption(fields, tx.sender);
      for (const [rcpt, mailbox] of tx.rcpts) {
        const outcome = await handleCriChallenge(ctx, { cri, mailbox, envelopeSender: tx.sender, from: fromAddress(fields), exemption, session: session.id });
        if (outcome !== 'left_to_user') rcptsLeft.delete(rcpt);
      }
      if (rcptsLeft.size === 0) return `2.0.0 Ok: CRI challenge handled (${session.id})`;
    }

    // an unreadable Date is no date (mailparser put the time of parsing there)
    const sentAt = new Date(headerValue(fields, 'date') ?? NaN);
    const copies = await storeAccepted(ctx, {
      raw,
      // readMessage refused an oversized message in the session already; the table still says so itself
      tooLarge: msg.raw.length > max,
      sender,
      senderVerified: !!sender && isVerifiedSender(sender, auth.verifiedDomains),
      quarantine: auth.dmarcFailPolicy === 'quarantine',
      subject: decodedHeader(fields, 'subject') ?? '',
      sentAt: Number.isNaN(sentAt.getTime()) ? undefined : sentAt,
    }, rcptsLeft, tx.grants, { seen: { sender: tx.sender, byRcpt: tx.facts }, batch });
    log.info({ sid: session.id, ip: session.remoteAddress, from: tx.sender, size: raw.length, spf: auth.spf, dmarc: auth.dmarc, copies }, 'smtp message accepted');
    // blocked meanwhile for every recipient (a rule added since RCPT): nothing was stored
    if (rcptsLeft.size === tx.rcpts.size && copies.every((c) => c.decision === 'reject')) throw replies.refused();
    return `2.0.0 Ok: stored as ${session.id}`;
  }

  return startListener(
    {
      ...baseOptions(ctx),
      resolver: smtpServerResolver(dns),
      banner: 'pullmail',
      // the MX takes no logins: submission has its own port
      disabledCommands: ctx.config.tls ? ['AUTH'] : ['AUTH', 'STARTTLS'],
      onMailFrom: (address, session, cb) => answer(session, 'MAIL', cb, () => onMailFrom(address, session)),
      onRcptTo: (address, session, cb) => answer(session, 'RCPT', cb, () => onRcptTo(address, session)),
      // onData reads the whole message first (readMessage), so every reply comes after the final dot
      onData: (stream, session, cb) => answer(session, 'DATA', cb, () => onData(stream, session)),
    },
    { host: ctx.config.smtpHost, port: ctx.config.smtpPort, maxPerAddress: ctx.config.smtpMaxClientsPerIp, greet: greetPause(ctx) },
    log,
    // draft-irtf-asrg-cri-00 §3.3: the EHLO keyword with the level we support
    [CRI_EHLO_KEYWORD],
  );
}
