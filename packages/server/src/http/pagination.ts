// Opaque keyset cursors for newest-first listings: base64url of `<ms>.<id>`.
import { PullmailError } from '../errors.ts';

export interface Cursor {
  at: Date;
  id: string;
}

export function encodeCursor(at: Date, id: string): string {
  return Buffer.from(`${at.getTime()}.${id}`).toString('base64url');
}

export function parsePage(query: { limit?: string; cursor?: string }, max = 200): { limit: number; cursor?: Cursor } {
  const limit = query.limit === undefined ? 50 : Number(query.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > max) throw new PullmailError('bad_request', `limit must be 1-${max}`);
  if (!query.cursor) return { limit };
  const m = /^(\d{1,15})\.([A-Za-z0-9_-]{1,128})$/.exec(Buffer.from(query.cursor, 'base64url').toString());
  if (!m) throw new PullmailError('bad_request', 'cursor is not valid');
  return { limit, cursor: { at: new Date(Number(m[1])), id: m[2] } };
}
