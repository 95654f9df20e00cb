import postgres from 'postgres';

/** True when a PostgreSQL server answers at `url`. */
export async function reachablePostgres(url: string | undefined): Promise<boolean> {
  if (!url) return false;
  const c = postgres(url, { max: 1, connect_timeout: 3, onnotice: () => {} });
  try {
    await c`select 1`;
    return true;
  } catch {
    return false;
  } finally {
    await c.end();
  }
}
