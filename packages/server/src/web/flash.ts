// The short notice a page shows after a POST (303 to `?done=<text>&ds=<tag>`). The tag is an HMAC of
// the text keyed with the session's CSRF token, so only this node, for this session, can put words in
// the banner: a link from elsewhere with its own `done=` text shows nothing (no phishing notices).
import { createHmac, timingSafeEqual } from 'node:crypto';

const MAX = 200;

const tag = (key: string, text: string) => createHmac('sha256', key).update(`flash\n${text}`).digest('base64url').slice(0, 22);

/** `path` with the notice `done` signed for the session whose CSRF token is `key`. */
export function withNotice(path: string, key: string, done?: string): string {
  if (!done || !key) return path;
  const text = done.slice(0, MAX);
  const sep = path.includes('?') ? '&' : '?';
  return `${path}${sep}done=${encodeURIComponent(text)}&ds=${tag(key, text)}`;
}

/** The notice of a request's query when its tag is right for `key`, else undefined. */
export function noticeOf(query: (name: string) => string | undefined, key: string): string | undefined {
  const text = query('done');
  const sent = query('ds');
  if (!text || !sent || !key || text.length > MAX) return undefined;
  const want = Buffer.from(tag(key, text));
  const got = Buffer.from(sent);
  return got.length === want.length && timingSafeEqual(got, want) ? text : undefined;
}
