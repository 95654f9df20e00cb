// Statements on the hot paths, built once per database handle with drizzle's prepare() and run with
// placeholders: building a query costs drizzle more CPU than postgres.js spends sending it (issue 15,
// bench/smtp-ingest.ts "CPU per message by stage"). A transaction handle gets its own, built on first use.
import type { Executor } from './db.ts';

const cache = new WeakMap<Executor, Map<string, unknown>>();

/** The statement `name` for `db`, built by `build` the first time. Placeholders holding dates take ISO strings in WHERE clauses (drizzle maps only inserted values). */
export function preparedFor<T>(db: Executor, name: string, build: (db: Executor) => T): T {
  let statements = cache.get(db);
  if (!statements) cache.set(db, (statements = new Map()));
  let statement = statements.get(name) as T | undefined;
  if (statement === undefined) statements.set(name, (statement = build(db)));
  return statement;
}
