// SMTP replies the gateway sends (RFC 5321 §4.2, enhanced codes RFC 3463). smtp-server sends an error's
// message verbatim, so only errors built here reach a client; internals stay in the log.
import { PullmailError } from '../errors.ts';

export interface SmtpReply extends Error {
  responseCode: number;
}

/** A reply for an smtp-server callback; `text` starts with the enhanced status code. */
export function smtpReply(code: number, text: string): SmtpReply {
  return Object.assign(new Error(text), { name: 'SmtpReply', responseCode: code });
}

export const isSmtpReply = (err: unknown): err is SmtpReply => err instanceof Error && err.name === 'SmtpReply';

export const replies = {
  badSender: () => smtpReply(501, '5.1.7 Bad sender address syntax'),
  badRecipient: () => smtpReply(501, '5.1.3 Bad recipient address syntax'),
  unknownUser: () => smtpReply(550, '5.1.1 No such user here'),
  relayDenied: () => smtpReply(550, '5.7.1 Relaying denied: this server only accepts mail for its own domains'),
  refused: () => smtpReply(550, '5.7.1 Message refused by the recipient'),
  greylisted: (seconds: number) => smtpReply(451, `4.7.1 Greylisted, please try again in ${seconds} seconds`),
  rateLimited: (seconds: number) => smtpReply(451, `4.7.1 Too many messages from this sender, try again in ${seconds} seconds`),
  tooManyRecipients: () => smtpReply(452, '4.5.3 Too many recipients'),
  tooLarge: (max: number) => smtpReply(552, `5.3.4 Message size exceeds the fixed limit of ${max} bytes`),
  headerTooLarge: () => smtpReply(552, '5.3.4 Message header too large to process'),
  smuggling: () => smtpReply(554, '5.5.2 Message refused: bare CR or LF around a line with a single dot (SMTP smuggling)'),
  mailLoop: (hops: number, max: number) => smtpReply(554, `5.4.6 Too many hops: ${hops} Received fields, at most ${max} (a mail loop?)`),
  dmarcReject: (domain: string) => smtpReply(550, `5.7.1 Message refused: it fails the DMARC policy (p=reject) of ${domain}`),
  notYourAddress: (address: string) => smtpReply(553, `5.7.1 Sender address rejected: not owned by user ${address}`),
  authFailed: () => smtpReply(535, '5.7.8 Authentication credentials invalid'),
  // RFC 4954 §6: 454 4.7.0 is a temporary authentication failure
  authLockedOut: (seconds: number) => smtpReply(454, `4.7.0 Too many failed logins, try again in ${seconds} seconds`),
  // RFC 5321 §3.8: 421 when the server must close; the client's next AUTH is refused or works again
  loginRevoked: () => smtpReply(421, '4.7.0 Login no longer valid: the account was disabled or its password changed, closing connection'),
  sendLimited: (seconds: number) => smtpReply(451, `4.7.1 Too many messages sent by this user, try again in ${seconds} seconds`),
  localError: () => smtpReply(451, '4.3.0 Local error in processing, please try again later'),
  // CRI (docs/cri.md; draft-irtf-asrg-cri-00 §3.3): 452 at RCPT means "a challenge is being issued"
  criChallenge: (url: string) => smtpReply(452, `4.7.1 Unverified sender, issuing challenge, retry with CRI token: ${url}`),
  criTokenExpired: (url: string) => smtpReply(452, `4.7.1 CRI token expired, issuing challenge, retry with CRI token: ${url}`),
  criTokenRefused: () => smtpReply(550, '5.7.1 CRI token not valid for this sender and recipient'),
  criTokenStale: () => smtpReply(550, '5.7.1 CRI token expired'),
  criSyntax: (detail: string) => smtpReply(501, `5.5.4 ${detail}`),
  criTokenType: (type: string) => smtpReply(555, `5.5.4 CRI-TOKEN-TYPE ${printable(type)} is not supported here, only plain`),
  unknownParameter: (name: string) => smtpReply(555, `5.5.4 Unsupported RCPT TO parameter ${printable(name)}`),
  // sender callout: never a permanent refusal on a callout alone
  calloutRefused: (sender: string) => smtpReply(451, `4.7.1 Sender address <${sender}> is refused by its own domain's mail server; try again later`),
  calloutUnavailable: () => smtpReply(451, '4.7.0 Sender address could not be verified now; try again later'),
};

/** Client-supplied text echoed in a reply: printable ASCII only, short. */
const printable = (s: string) => s.replace(/[^\x21-\x7e]/g, '?').slice(0, 64);

/** The reply for an error from our own code (submission): client mistakes are 5xx, the rest 451. */
export function replyFor(err: unknown, opts: { maxBytes: number }): SmtpReply {
  if (isSmtpReply(err)) return err;
  if (err instanceof PullmailError) {
    switch (err.code) {
      case 'forbidden':
        return smtpReply(553, `5.7.1 ${oneLine(err.message)}`);
      case 'too_large':
        return replies.tooLarge(opts.maxBytes);
      case 'bad_request':
        return smtpReply(554, `5.6.0 ${oneLine(err.message)}`);
      case 'rate_limited':
        return replies.sendLimited(err.retryAfter ?? 60);
      default:
        break;
    }
  }
  return replies.localError();
}

const oneLine = (s: string) => s.replace(/[\r\n]+/g, ' ').slice(0, 300);
