// CRI, the ASRG Challenge/Response Interworking draft (draft-irtf-asrg-cri-00; docs/cri.md): the EHLO
// keyword, the RCPT TO parameters, the header fields on our outgoing mail, and the loop and list rules
// that keep the gateway from ever challenging or answering the wrong mail. Values in, values out.
import { readFileSync } from 'node:fs';
import { headerValue, splitHeaders, type HeaderField } from './headers.ts';
import { replies } from './replies.ts';

/**
 * draft §3.3 (3): the keyword, then *one* verification level ("cri-level = SENDER / MESSAGE / HUMAN";
 * anything after it would be read as an extension). Levels build on each other (§2.2), and the page a
 * sender answers is a human one, so we advertise HUMAN.
 */
export const CRI_EHLO_KEYWORD = 'CRI HUMAN';

/** draft §3.3 (5) and §7: the one token type there is; its token travels in CRI-TOKEN. */
export const TOKEN_TYPE_PLAIN = 'plain';

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
/** CRI-Sender-Agent / CRI-Recipient-Agent value (draft §3.2.1). */
export const CRI_AGENT = `pullmail/${version}`;

export type CriMessageType = 'challenge' | 'response' | 'informational';
const MESSAGE_TYPES = new Set<string>(['challenge', 'response', 'informational']);

/** A token a client presented with RCPT TO. */
export interface PresentedToken {
  type: typeof TOKEN_TYPE_PLAIN;
  token: string;
}

/** The RCPT TO parameters we take; smtp-server hands every other one to us unchecked. */
const RCPT_PARAMS = new Set(['CRI-TOKEN-TYPE', 'CRI-TOKEN']);

/**
 * The CRI parameters of a RCPT TO (draft §3.3 (5)): `CRI-TOKEN-TYPE=plain CRI-TOKEN=<token>`. The
 * draft's own examples end each value with `;`, so one trailing `;` is dropped. Undefined when the
 * command carries no parameters.
 * @throws SmtpReply 555 for a parameter or token type we do not take, 501 for a malformed one.
 */
export function parseRcptParams(args: Readonly<Record<string, string | boolean>> | false | undefined): PresentedToken | undefined {
  if (!args) return undefined;
  for (const key of Object.keys(args)) if (!RCPT_PARAMS.has(key)) throw replies.unknownParameter(key);
  const type = value(args['CRI-TOKEN-TYPE'], 'CRI-TOKEN-TYPE');
  const token = value(args['CRI-TOKEN'], 'CRI-TOKEN');
  if (type === undefined) throw replies.criSyntax('CRI-TOKEN needs CRI-TOKEN-TYPE');
  if (type.toLowerCase() !== TOKEN_TYPE_PLAIN) throw replies.criTokenType(type);
  if (token === undefined) throw replies.criSyntax('CRI-TOKEN-TYPE=plain needs CRI-TOKEN');
  return { type: TOKEN_TYPE_PLAIN, token };
}

function value(v: string | boolean | undefined, name: string): string | undefined {
  if (v === undefined) return undefined;
  const s = typeof v === 'string' ? v.replace(/;$/, '') : '';
  // esmtp-value (RFC 5321 §4.1.2): printable ASCII without '=' and space; smtp-server splits on those
  if (!/^[\x21-\x7e]{1,8192}$/.test(s)) throw replies.criSyntax(`${name} needs a value`);
  return s;
}

/**
 * Why mail must never be challenged nor answered automatically, or undefined: the null sender,
 * `Auto-Submitted` other than `no` (RFC 3834 §2), `Precedence: bulk|list|junk`, mailing-list fields
 * (draft §4.2; RFC 2369, 2919) and `CRI-Sender-Exempt` (draft §3.2.1).
 */
export function loopExemption(fields: HeaderField[], envelopeSender: string): string | undefined {
  if (!envelopeSender) return 'null_sender';
  const auto = headerValue(fields, 'auto-submitted');
  if (auto !== undefined && auto.split(';')[0].trim().toLowerCase() !== 'no') return 'auto_submitted';
  if (/^(bulk|list|junk)\b/i.test(headerValue(fields, 'precedence') ?? '')) return 'precedence';
  if (fields.some((f) => f.name === 'list-id' || f.name === 'list-post' || f.name === 'list-unsubscribe')) return 'mailing_list';
  if (fields.some((f) => f.name === 'cri-sender-exempt')) return 'cri_sender_exempt';
  return undefined;
}

/**
 * True for envelope senders of mailing lists and mail systems (`owner-x`, `x-request`, `x-bounces+…`,
 * `mailer-daemon`…). At RCPT the headers are not known yet; these senders are never issued an
 * SMTP-stage challenge, so their mail reaches DATA and the ordinary policy.
 */
export function isListOrSystemSender(sender: string): boolean {
  const local = sender.slice(0, sender.lastIndexOf('@'));
  return /^(owner-.+|.+-owner|.+-request|(.+-)?bounces?([+=].*)?|mailer-daemon|postmaster|listserv|majordomo)$/i.test(local);
}

/** The CRI message type a message declares in its top-level `CRI-Message-Type`, if any. */
export function declaredCriType(fields: HeaderField[]): CriMessageType | undefined {
  const t = headerValue(fields, 'cri-message-type')?.toLowerCase();
  return t && MESSAGE_TYPES.has(t) ? (t as CriMessageType) : undefined;
}

/**
 * draft §3.2.1: the header fields of an initial message, on top of outgoing legacy mail, unless it
 * already speaks CRI (our own responses carry `CRI-Message-Type: response`).
 */
export function withCriHeaders(raw: Buffer): Buffer {
  if (declaredCriType(splitHeaders(raw).fields)) return raw;
  const top = `CRI-Message-Type: informational\r\nCRI-Sender-Accept-Token: ${TOKEN_TYPE_PLAIN}\r\nCRI-Sender-Agent: ${CRI_AGENT}\r\n`;
  return Buffer.concat([Buffer.from(top, 'latin1'), raw]);
}
