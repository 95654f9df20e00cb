// Reading request bodies: JSON parsed and validated with zod, every failure a clear `bad_request`.
import type { Context } from 'hono';
import type { z } from 'zod';
import type { Config } from '../config/config.ts';
import { PullmailError } from '../errors.ts';

/** The largest send request: a whole message, grown by a third when its attachments are base64 in JSON. */
export const sendBodyLimit = (config: Pick<Config, 'maxMessageBytes'>): number => Math.ceil(config.maxMessageBytes * 1.4);

export async function readJson<T>(c: Context, schema: z.ZodType<T>): Promise<T> {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/json\b/i.test(type)) throw new PullmailError('unsupported_media_type', 'expected Content-Type: application/json');
  let raw: unknown;
  try {
    raw = JSON.parse(await c.req.text());
  } catch {
    throw new PullmailError('bad_request', 'body is not valid JSON');
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue.path.length ? `${issue.path.join('.')}: ` : '';
    throw new PullmailError('bad_request', `${where}${issue.message}`);
  }
  return parsed.data;
}
