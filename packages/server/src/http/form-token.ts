// Tokens for HTML forms the node serves to anyone (the human challenge page): signed with the node's
// own key and bound to one page and an expiry, so a form can only be posted for the page it was
// served for, from any of the node's processes. `<kid>.<exp>.<Ed25519 signature>`, base64url.
import { sign, verify } from 'node:crypto';
import type { KeySet } from '../protocol/key-set.ts';

const message = (scope: string, exp: number) => Buffer.from(`pullmail-form\n${scope}\n${exp}`);

/** A token for the form at `scope` (e.g. the page path), valid for `ttlSeconds`. */
export async function issueFormToken(keys: KeySet, scope: string, nowS: number, ttlSeconds = 3600): Promise<string> {
  const { kid, key } = keys.signer();
  const exp = nowS + ttlSeconds;
  const sig = sign(null, message(scope, exp), key).toString('base64url');
  return `${kid}.${exp}.${sig}`;
}

/** True when `token` was issued by this node for `scope` and has not expired. */
export async function checkFormToken(keys: KeySet, token: unknown, scope: string, nowS: number): Promise<boolean> {
  if (typeof token !== 'string' || token.length > 256) return false;
  const [kid, expText, sig, ...rest] = token.split('.');
  const exp = Number(expText);
  if (rest.length || !sig || !/^\d{1,12}$/.test(expText ?? '') || exp < nowS) return false;
  const key = keys.publicKey(kid);
  if (!key) return false;
  try {
    return verify(null, message(scope, exp), key, Buffer.from(sig, 'base64url'));
  } catch {
    return false;
  }
}
