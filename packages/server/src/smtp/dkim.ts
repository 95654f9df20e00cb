// DKIM for outbound legacy mail (RFC 6376): one key per sender domain, made on first use and kept in
// the `domains` table; `pullmail-server dkim show <domain>` prints the TXT record to publish.
// RSA-2048 (rsa-sha256): Ed25519 signatures (RFC 8463) are still ignored by many receivers.
import { createPrivateKey, createPublicKey, generateKeyPair } from 'node:crypto';
import { promisify } from 'node:util';
import { dkimSign } from 'mailauth';
import type { Executor } from '../store/db.ts';
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
 * The fields we sign when present: mailauth's default list (RFC 6376 §5.4.1 recommendations) plus
 * Auto-Submitted and the CRI fields (docs/cri.md), so nobody can add or change those on the way.
 */
const SIGNED_FIELDS = [
  'From', 'Sender', 'Reply-To', 'Subject', 'Date', 'Message-ID', 'To', 'Cc', 'MIME-Version', 'Content-Type',
  'Content-Transfer-Encoding', 'Content-ID', 'Content-Description', 'Resent-Date', 'Resent-From', 'Resent-Sender',
  'Resent-To', 'Resent-Cc', 'Resent-Message-ID', 'In-Reply-To', 'References', 'List-Id', 'List-Help',
  'List-Unsubscribe', 'List-Subscribe', 'List-Post', 'List-Owner', 'List-Archive', 'Auto-Submitted',
  'CRI-Message-Type', 'CRI-Sender-Accept-Token', 'CRI-Sender-Agent',
].join(':');

/** The message with a DKIM-Signature field on top (relaxed/relaxed). */
export async function signMessage(raw: Buffer, key: DkimKey, now: Date): Promise<Buffer> {
  const signature = { signingDomain: key.domain, selector: key.selector, privateKey: key.privateKey, canonicalization: 'relaxed/relaxed', headerList: SIGNED_FIELDS };
  // mailauth signs what `signatureData` lists (the top-level fields alone produce no signature)
  const { signatures, errors } = await dkimSign(raw, { ...signature, signatureData: [signature], signTime: now });
  if (errors?.length || !signatures) throw new Error(`DKIM signing failed: ${errors?.map((e) => e.err?.message).join('; ')}`);
  return Buffer.concat([Buffer.from(signatures, 'latin1'), raw]);
}
