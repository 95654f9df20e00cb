// DKIM for outbound legacy mail (RFC 6376): one key per sender domain, made on first use and kept in
// the `domains` table; `pullmail-server dkim show <domain>` prints the TXT record to publish.
// RSA-2048 (rsa-sha256): Ed25519 signatures (RFC 8463) are still ignored by many receivers.
// The signature is made here, not by mailauth or nodemailer: both list in h= only the fields present,
// once each, and neither can over-sign (RFC 6376 §5.4.2, §8.15), which is what makes a second From or
// Subject put on top of a signed message fail verification. mailauth verifies it in the tests.
import { createHash, createPrivateKey, createPublicKey, generateKeyPair, sign } from 'node:crypto';
import { promisify } from 'node:util';
import type { Executor } from '../store/db.ts';
import { splitHeaders } from './headers.ts';
import { findDkimKey, saveDkimKeyIfAbsent, type StoredDkimKey } from '../store/dkim-keys.ts';

export type DkimKey = StoredDkimKey & { domain: string };

/** The domain's key, creating it when there is none. The domain must be one of the node's. */
export async function dkimKey(db: Executor, domain: string, now: Date): Promise<DkimKey> {
  const found = await findDkimKey(db, domain);
  if (found) return { domain, ...found };
  const { privateKey } = await promisify(generateKeyPair)('rsa', { modulusLength: 2048 });
  // a dated selector leaves room for a later key beside this one
  const selector = `pm${now.toISOString().slice(0, 7).replace('-', '')}`;
  await saveDkimKeyIfAbsent(db, domain, { selector, privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string });
  const saved = await findDkimKey(db, domain);
  if (!saved) throw new Error(`domain ${domain} is not served by this node`);
  return { domain, ...saved };
}

/** The DNS record that publishes a key: name and TXT value (RFC 6376 §3.6.1). */
export function dkimRecord(key: DkimKey): { name: string; value: string } {
  const pub = createPublicKey(createPrivateKey(key.privateKey));
  const k = pub.asymmetricKeyType === 'ed25519' ? 'ed25519' : 'rsa';
  // ed25519 keys are published as the bare 32 bytes (RFC 8463 §4.2), RSA as SubjectPublicKeyInfo
  const der = pub.export({ type: 'spki', format: 'der' });
  const p = (k === 'ed25519' ? der.subarray(der.length - 32) : der).toString('base64');
  return { name: `${key.selector}._domainkey.${key.domain}`, value: `v=DKIM1; k=${k}; p=${p}` };
}

/** The record as a zone-file line, split into strings of at most 255 characters (RFC 1035 §3.3.14). */
export function dkimZoneLine(key: DkimKey): string {
  const { name, value } = dkimRecord(key);
  const parts = value.match(/.{1,255}/g) ?? [];
  return `${name}. IN TXT ${parts.map((p) => `"${p}"`).join(' ')}`;
}

/**
 * The fields we sign when present (in this order in h=): mailauth's default list (RFC 6376 §5.4.1 recommendations) plus
 * Auto-Submitted and the CRI fields (docs/cri.md), so nobody can add or change those on the way.
 */
const SIGNED_FIELDS = [
  'From', 'Sender', 'Reply-To', 'Subject', 'Date', 'Message-ID', 'To', 'Cc', 'MIME-Version', 'Content-Type',
  'Content-Transfer-Encoding', 'Content-ID', 'Content-Description', 'Resent-Date', 'Resent-From', 'Resent-Sender',
  'Resent-To', 'Resent-Cc', 'Resent-Message-ID', 'In-Reply-To', 'References', 'List-Id', 'List-Help',
  'List-Unsubscribe', 'List-Subscribe', 'List-Post', 'List-Owner', 'List-Archive', 'Auto-Submitted',
  'CRI-Message-Type', 'CRI-Sender-Accept-Token', 'CRI-Sender-Agent',
].join(':');

/**
 * Fields listed once more than they occur (RFC 6376 §5.4.2: the extra entry signs "no such field"), so
 * that none can be added above the signed one: the fields a reader sees and a filter judges by.
 */
const OVERSIGNED = new Set(['from', 'subject', 'to', 'date', 'message-id']);

/** Relaxed header canonicalization of one field (RFC 6376 §3.4.2). */
function relaxedField(field: string): string {
  const colon = field.indexOf(':');
  const name = field.slice(0, colon).trim().toLowerCase();
  const value = field.slice(colon + 1).replace(/\r?\n(?=[ \t])/g, '').replace(/[ \t]+/g, ' ').trim();
  return `${name}:${value}`;
}

/** Relaxed body canonicalization (RFC 6376 §3.4.4): one space per whitespace run, none at line ends, no trailing empty lines. */
function relaxedBody(body: string): string {
  const lines = body.split(/\r?\n/).map((l) => l.replace(/[ \t]+/g, ' ').replace(/ $/, ''));
  while (lines.length && lines[lines.length - 1] === '') lines.pop();
  return lines.length ? lines.join('\r\n') + '\r\n' : '';
}

/** The message with a DKIM-Signature field on top (relaxed/relaxed, over-signing OVERSIGNED). */
export async function signMessage(raw: Buffer, key: DkimKey, now: Date): Promise<Buffer> {
  const { fields, body } = splitHeaders(raw);
  const privateKey = createPrivateKey(key.privateKey);
  const ed25519 = privateKey.asymmetricKeyType === 'ed25519';
  // RFC 6376 §5.4.2: instances are signed from the bottom up, each listing of a name taking the next one
  const names: string[] = [];
  const signed: string[] = [];
  for (const name of SIGNED_FIELDS.split(':')) {
    const lower = name.toLowerCase();
    const present = fields.filter((f) => f.name === lower).reverse();
    if (lower === 'from' && present.length === 0) throw new Error('DKIM signing failed: the message has no From field');
    for (const f of present) {
      names.push(name);
      signed.push(relaxedField(f.text) + '\r\n');
    }
    if (OVERSIGNED.has(lower)) names.push(name);
  }
  const bh = createHash('sha256').update(relaxedBody(body.replace(/^\r?\n/, '')), 'latin1').digest('base64');
  const tags = [
    'v=1', `a=${ed25519 ? 'ed25519' : 'rsa'}-sha256`, 'c=relaxed/relaxed', `d=${key.domain}`, `s=${key.selector}`,
    `t=${Math.floor(now.getTime() / 1000)}`, `h=${names.join(':')}`, `bh=${bh}`, 'b=',
  ];
  const unsigned = `DKIM-Signature: ${tags.join(';\r\n\t')}`;
  const data = Buffer.from(signed.join('') + relaxedField(unsigned), 'latin1');
  // RFC 8463 §3: Ed25519 signs the SHA-256 hash of the data
  const b = (ed25519 ? sign(null, createHash('sha256').update(data).digest(), privateKey) : sign('sha256', data, privateKey)).toString('base64');
  return Buffer.concat([Buffer.from(`${unsigned}${b}\r\n`, 'latin1'), raw]);
}
