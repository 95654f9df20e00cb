// Hands one message to the next SMTP hop with nodemailer: STARTTLS whenever the server offers it
// (opportunistic for MX hosts, RFC 7435; verified for the configured relay), the exact bytes, one
// envelope. Replies become PullmailErrors the queue understands: 4xx and network trouble are
// temporary, 5xx permanent, and the remote reply is kept in the message.
// An MX host is reached only at a public address (peers/address-guard.ts) unless
// PULLMAIL_ALLOW_PRIVATE_PEERS: a domain's MX records are the domain owner's to write, and must not
// point the node at its own loopback or LAN. The relay is the operator's own choice and is not checked.
import { rootCertificates } from 'node:tls';
import { createTransport } from 'nodemailer';
import { PullmailError } from '../errors.ts';
import { publicAddress } from '../peers/address-guard.ts';
import type { SmtpHop } from './route.ts';

export interface Handoff {
  host: string;
  /** The server's final reply, e.g. `250 2.0.0 Ok: queued as 4Xyz`. */
  response: string;
}

interface NodemailerError extends Error {
  code?: string;
  responseCode?: number;
  response?: string;
  command?: string;
}

export async function sendToHop(
  hop: SmtpHop,
  mail: { from: string; to: string; raw: Buffer },
  opts: { ehloName: string; trustCa?: string; timeoutMs?: number; allowPrivate?: boolean },
): Promise<Handoff> {
  const timeout = opts.timeoutMs ?? 60_000;
  // resolved and checked here, then connected to by address: nodemailer's own lookup has no guard
  const address = hop.relay || opts.allowPrivate ? hop.host : await publicAddress(hop.host);
  const transport = createTransport({
    host: address,
    port: hop.port,
    secure: hop.secure,
    name: opts.ehloName,
    opportunisticTLS: !hop.relay,
    tls: hop.relay ? { ...(opts.trustCa ? { ca: [...rootCertificates, opts.trustCa] } : {}), servername: hop.host } : { rejectUnauthorized: false, servername: hop.host },
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: 5 * timeout,
    logger: false,
  });
  try {
    const info = await transport.sendMail({ envelope: { from: mail.from, to: [mail.to] }, raw: mail.raw });
    return { host: hop.host, response: info.response };
  } catch (err) {
    throw smtpFailure(hop, err as NodemailerError);
  } finally {
    transport.close();
  }
}

function smtpFailure(hop: SmtpHop, err: NodemailerError): PullmailError {
  const reply = (err.response ?? '').replace(/\s+/g, ' ').trim().slice(0, 500);
  if (err.responseCode && reply) {
    return new PullmailError('peer_error', `${hop.host} answered ${reply}`, { temporary: err.responseCode < 500, cause: err });
  }
  return new PullmailError('peer_unreachable', `${hop.host}:${hop.port}: ${err.code ?? 'error'} ${err.message}`.slice(0, 500), { temporary: true, cause: err });
}
