// CRI messages (draft-irtf-asrg-cri-00 §3.1.2, §3.2; docs/cri.md): reading a challenge that arrived
// for one of our users, and writing the response. A challenge is `multipart/cri` with a human part,
// one `message/cri` part per challenged sender (its CRI-* fields in the part header, or in its body)
// and optionally the original message; or a plain message with `CRI-Message-Type: challenge`.
// Values in, values out: finding the message and sending the answer is smtp/cri-answer.ts.
import { randomBytes } from 'node:crypto';
import { canonicalAddress } from '../address.ts';
import { CRI_AGENT, declaredCriType, TOKEN_TYPE_PLAIN, type CriMessageType } from './cri.ts';
import { headerValue, splitHeaders, type HeaderField } from './headers.ts';

/** One challenge as far as we need it. */
export interface CriChallenge {
  /** `CRI-Sender`: who sent the challenged message, canonical (should be our user). */
  sender?: string;
  /** `CRI-Recipient`: who received it, canonical. */
  recipient?: string;
  /** `CRI-Verification-Level`: 1 sender, 2 message, 3 human (draft §2.2); 1 when absent. */
  level: number;
  tokenType?: string;
  /** `CRI-Token`, printable ASCII; undefined when absent or unusable. */
  token?: string;
  /** `CRI-Reply-Until`. */
  replyUntil?: Date;
}

export interface CriMail {
  /** `challenge`, `response` or `informational`: the top-level field, else that of the first message/cri part. */
  type?: CriMessageType;
  challenges: CriChallenge[];
  /** Message-IDs the mail refers to (In-Reply-To, References, enclosed original messages), `<…>` form. */
  messageIds: string[];
  /** Its own Message-ID and Subject, for threading the response. */
  ownMessageId?: string;
  subject?: string;
}

const MAX_DEPTH = 3;
const MAX_IDS = 20;
// no NUL: PostgreSQL text cannot hold it, so no message of ours has such an id
const MSG_ID = /<[^<>\s\0]{1,250}>/g;

/** Reads the CRI side of a message; undefined when it neither is `multipart/cri` nor declares a CRI type. */
export function readCriMail(raw: Buffer): CriMail | undefined {
  const { fields, body } = splitHeaders(raw);
  const declared = declaredCriType(fields);
  if (!declared && contentType(headerValue(fields, 'content-type')).type !== 'multipart/cri') return undefined;
  const criParts: HeaderField[][] = [];
  const enclosedIds: string[] = [];
  walk(fields, body, 0, criParts, enclosedIds);
  // a challenge without a multipart/cri body carries its fields at the top (draft §3.2.1 vocabulary)
  if (!criParts.length) criParts.push(fields);
  const refs = `${headerValue(fields, 'in-reply-to') ?? ''} ${headerValue(fields, 'references') ?? ''}`;
  const messageIds = [...new Set([...(refs.match(MSG_ID) ?? []), ...enclosedIds])].slice(0, MAX_IDS);
  const partTypes = criParts.map((p) => declaredCriType(p)).filter((t) => t !== undefined);
  return {
    type: declared ?? partTypes[0],
    challenges: criParts.filter((p) => (declaredCriType(p) ?? declared) === 'challenge').map((p) => challengeOf(p, fields)),
    messageIds,
    ownMessageId: headerValue(fields, 'message-id')?.match(MSG_ID)?.[0],
    subject: headerValue(fields, 'subject'),
  };
}

function walk(fields: HeaderField[], body: string, depth: number, criParts: HeaderField[][], ids: string[]): void {
  const ct = contentType(headerValue(fields, 'content-type'));
  if (ct.type === 'message/cri') {
    // the draft's example puts the CRI fields in the part header; accept them in the part body too
    criParts.push([...fields, ...splitHeaders(Buffer.from(body.replace(/^\r?\n/, ''), 'latin1')).fields]);
  } else if (ct.type === 'message/rfc822' || ct.type === 'text/rfc822-headers') {
    const inner = headerValue(splitHeaders(Buffer.from(body.replace(/^\r?\n/, ''), 'latin1')).fields, 'message-id');
    ids.push(...(inner?.match(MSG_ID) ?? []));
  } else if (ct.type.startsWith('multipart/') && ct.boundary && depth < MAX_DEPTH) {
    for (const part of mimeParts(body, ct.boundary)) {
      const p = splitHeaders(Buffer.from(part, 'latin1'));
      walk(p.fields, p.body, depth + 1, criParts, ids);
    }
  }
}

function contentType(value: string | undefined): { type: string; boundary?: string } {
  const type = (value ?? 'text/plain').split(';')[0].trim().toLowerCase();
  const m = /;\s*boundary\s*=\s*(?:"([^"]{1,200})"|([^\s;"]{1,200}))/i.exec(value ?? '');
  return { type, boundary: m ? (m[1] ?? m[2]) : undefined };
}

/** The parts of a multipart body (RFC 2046 §5.1.1): the text between delimiter lines, headers first. */
function mimeParts(body: string, boundary: string): string[] {
  const parts: string[] = [];
  let current: string[] | undefined;
  for (const line of body.split(/\r?\n/)) {
    const trimmed = line.trimEnd();
    if (trimmed === `--${boundary}--`) break;
    if (trimmed === `--${boundary}`) {
      if (current) parts.push(current.join('\r\n'));
      current = [];
    } else current?.push(line);
  }
  if (current) parts.push(current.join('\r\n'));
  return parts;
}

function challengeOf(part: HeaderField[], top: HeaderField[]): CriChallenge {
  const get = (name: string) => headerValue(part, name) ?? headerValue(top, name);
  const address = (name: string) => {
    const v = get(name);
    return v ? canonicalAddress(v.replace(/^.*<([^<>]+)>.*$/, '$1').trim()) : undefined;
  };
  const token = get('cri-token')?.trim();
  const until = get('cri-reply-until');
  const replyUntil = until ? new Date(until) : undefined;
  return {
    sender: address('cri-sender'),
    recipient: address('cri-recipient'),
    level: Number.parseInt(get('cri-verification-level') ?? '1', 10) || 1,
    tokenType: get('cri-token-type')?.trim().toLowerCase(),
    // draft §7: a plain token is returned as is; we only echo short printable text
    token: token && /^[\x20-\x7e]{1,512}$/.test(token) ? token : undefined,
    replyUntil: replyUntil && !Number.isNaN(replyUntil.getTime()) ? replyUntil : undefined,
  };
}

/** What a response says (draft §3.2.3, example §3.4.1). */
export interface CriResponse {
  /** Our user, who sent the challenged message. */
  from: string;
  /** Where the response goes. */
  to: string;
  /** The recipient of the challenged message (`CRI-Recipient`). */
  challengedRcpt: string;
  /** Message-ID of the challenged message. */
  about: string;
  challenge: CriChallenge & { token: string };
  /** The challenge's own Message-ID and Subject. */
  inReplyTo?: string;
  subject?: string;
  messageIdHeader: string;
  date: Date;
}

/**
 * The response as RFC 5322 bytes: `multipart/cri`, a short human part and one `message/cri` part,
 * marked `Auto-Submitted: auto-replied` (RFC 3834) and `CRI-Message-Type: response` so no C/R system
 * or autoresponder answers it in turn.
 */
export function composeCriResponse(r: CriResponse): { raw: Buffer; subject: string } {
  const boundary = `cri-${randomBytes(12).toString('hex')}`;
  const subject = `Re: ${(r.subject ?? 'Challenge').replace(/[\x00-\x1f\x7f]+/g, ' ').slice(0, 200)}`;
  const lines = [
    `From: ${r.from}`,
    `To: ${r.to}`,
    `Subject: ${subject}`,
    `Date: ${r.date.toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: ${r.messageIdHeader}`,
    ...(r.inReplyTo ? [`In-Reply-To: ${r.inReplyTo}`, `References: ${r.inReplyTo}`] : []),
    'Auto-Submitted: auto-replied',
    'CRI-Message-Type: response',
    `CRI-Sender-Agent: ${CRI_AGENT}`,
    'MIME-Version: 1.0',
    `Content-Type: multipart/cri; boundary="${boundary}"`,
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=us-ascii',
    '',
    `This is an automatic response for ${r.from}, sent by their mail server (pullmail).`,
    `${r.from} did send the message ${r.about} to ${r.challengedRcpt}.`,
    '',
    `The C/R token is: ${r.challenge.token}`,
    '',
    `--${boundary}`,
    'Content-Type: message/cri',
    `CRI-Sender: ${r.from}`,
    `CRI-Recipient: ${r.challengedRcpt}`,
    `CRI-Verification-Level: ${r.challenge.level}`,
    'CRI-Message-Type: response',
    `CRI-Token-Type: ${TOKEN_TYPE_PLAIN}`,
    `CRI-Token: ${r.challenge.token}`,
    '',
    `--${boundary}--`,
    '',
  ];
  return { raw: Buffer.from(lines.join('\r\n'), 'latin1'), subject };
}
