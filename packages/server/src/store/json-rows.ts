// Many rows as one statement parameter: a JSON array of rows, each an array of values in column order,
// unpacked by jsonb_array_elements and each value cast to its column's type (issue 15). A multi-row
// VALUES or IN list costs drizzle's builder and the server one placeholder per value; this costs one.
import { sql, type SQL } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';

/** The select list reading `columns` from the jsonb row `alias`, in order, each as its column's type. */
export function jsonFields(columns: readonly PgColumn[], alias: string): SQL {
  return sql.raw(columns.map((c, i) => (c.getSQLType() === 'jsonb' ? `${alias}->${i}` : `(${alias}->>${i})::${c.getSQLType()}`)).join(', '));
}

/** `rows` as the one parameter a `from jsonb_array_elements(…) as <alias>` reads. */
export function jsonRowSet(rows: readonly (readonly unknown[])[], alias: string): SQL {
  return sql`jsonb_array_elements(${JSON.stringify(rows)}::jsonb) as ${sql.raw(alias)}`;
}

/** `(columns…) in (rows)`: the rows as one jsonb parameter. */
export function inJsonRows(columns: readonly PgColumn[], rows: readonly (readonly unknown[])[]): SQL {
  return sql`(${sql.join([...columns], sql`, `)}) in (select ${jsonFields(columns, 'k')} from ${jsonRowSet(rows, 'k')})`;
}
