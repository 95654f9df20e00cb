// Disturbing a test node's own PostgreSQL database from outside, the way an operator or a failing
// server would: kill its sessions, make it refuse writes. Only ever touches the database named in the
// node's DATABASE_URL (a pm_t_* database of its own), never the shared server.
import postgres from 'postgres';
import { postgresClient } from '../../packages/server/src/store/db.ts';

/** The database name in a postgres:// URL. */
export function databaseName(url: string): string {
  return decodeURIComponent(new URL(url).pathname.slice(1));
}

/** A superuser session on the same server, in a database other than the node's. */
function admin(nodeUrl: string): postgres.Sql {
  const url = new URL(nodeUrl);
  url.pathname = '/postgres';
  return postgresClient(url.href, { max: 1, onnotice: () => {} });
}

/** Terminates every session of the node's database, as a PostgreSQL restart would; returns how many. */
export async function terminateBackends(nodeUrl: string): Promise<number> {
  const sql = admin(nodeUrl);
  try {
    const rows = await sql`select pg_terminate_backend(pid) from pg_stat_activity where datname = ${databaseName(nodeUrl)} and pid <> pg_backend_pid()`;
    return rows.length;
  } finally {
    await sql.end();
  }
}

/**
 * Makes the node's database refuse writes (or accept them again) for new sessions, then terminates
 * the existing ones so the node reconnects into the new setting: a disk-full stand-in.
 */
export async function setReadOnly(nodeUrl: string, readOnly: boolean): Promise<void> {
  const sql = admin(nodeUrl);
  const name = databaseName(nodeUrl).replace(/"/g, '""');
  try {
    await sql.unsafe(readOnly ? `ALTER DATABASE "${name}" SET default_transaction_read_only = on` : `ALTER DATABASE "${name}" RESET default_transaction_read_only`);
  } finally {
    await sql.end();
  }
  await terminateBackends(nodeUrl);
}

/** One query against the node's database from a short-lived session of the test's own. */
export async function queryNodeDb<T extends Record<string, unknown>>(nodeUrl: string, query: string): Promise<T[]> {
  const sql = postgresClient(nodeUrl, { max: 1, onnotice: () => {} });
  try {
    return (await sql.unsafe(query)) as unknown as T[];
  } finally {
    await sql.end();
  }
}
