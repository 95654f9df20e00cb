// Whether the PostgreSQL tests run: they skip in the PGlite pass (no DATABASE_URL), and fail, never
// skip, when DATABASE_URL names a server that does not answer.
import { postgresClient } from '../../packages/server/src/store/db.ts';

/** True when a PostgreSQL server answers at `url`. */
export async function reachablePostgres(url: string | undefined): Promise<boolean> {
  return url !== undefined && (await unreachableReason(url)) === undefined;
}

async function unreachableReason(url: string): Promise<string | undefined> {
  const c = postgresClient(url, { max: 1, connect_timeout: 3, onnotice: () => {} });
  try {
    await c`select 1`;
    return undefined;
  } catch (err) {
    return (err as Error).message;
  } finally {
    await c.end();
  }
}

/**
 * For `describe(…, { skip })` and `t.skip`: a reason to skip when `url` is unset, undefined when
 * PostgreSQL answers there. @throws when `url` is set and nothing answers: a suite that was asked to
 * run on PostgreSQL must fail then, not go green without its PostgreSQL tests.
 */
export async function postgresSkipReason(url: string | undefined, purpose: string): Promise<string | undefined> {
  if (!url) return `needs DATABASE_URL (${purpose}); runs in the PostgreSQL pass`;
  const why = await unreachableReason(url);
  if (why) {
    const shown = new URL(url);
    shown.password = '';
    throw new Error(`DATABASE_URL is set (${shown.href}) but PostgreSQL does not answer there: ${why}`);
  }
  return undefined;
}
