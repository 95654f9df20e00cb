// Bench-only instrumentation of drizzle's postgres.js driver in this process (production code is not
// touched): count statements by SQL text and transactions. Importing it also applies the what-if
// experiments of ./experiments.ts named in PM_BENCH_EXPERIMENT.
//
// Enable from the environment for any bench that runs nodes in-process:
//   PM_BENCH_COUNT_QUERIES=1   print statements per SQL text (per unit of work) after the run
//   PM_BENCH_COUNT_QUERIES=time  the same with the time each text took per unit (send to answer)
// countQueries({ byStage: true }) also puts every 4th statement (weight 4) on the stage that issued it
// (lib/stages.ts), for the per-stage breakdown: a statement's stage is taken where our code builds it
// (db.select/insert/update/delete/execute run synchronously in the caller), since drizzle executes it
// later from a microtask whose stack no longer shows the caller.
import { PgDatabase } from 'drizzle-orm/pg-core/db';
import { PostgresJsPreparedQuery, PostgresJsSession } from 'drizzle-orm/postgres-js/session';
import './experiments.ts';
import { currentStage } from './stages.ts';

type Proto = { execute: (...a: unknown[]) => unknown; all: (...a: unknown[]) => unknown };
const proto = PostgresJsPreparedQuery.prototype as unknown as Proto & { queryString: string; prepare: boolean };
const sessionProto = PostgresJsSession.prototype as unknown as { transaction: (...a: unknown[]) => unknown };

export const counts = new Map<string, number>();
/** Milliseconds from sending to the answer, by SQL text (PM_BENCH_COUNT_QUERIES=time): queueing behind other statements included. */
export const durations = new Map<string, number>();
const timed = process.env.PM_BENCH_COUNT_QUERIES === 'time';
export let transactions = 0;
/** Statements (BEGIN and COMMIT of a transaction count as two) per stage, when counted byStage. */
export const stageCounts = new Map<string, number>();
let installed = false;
let byStage = false;
let seq = 0;

const sampleStage = (weight: number) => {
  if (!byStage || seq++ % 4 !== 0) return;
  const s = currentStage();
  stageCounts.set(s, (stageCounts.get(s) ?? 0) + 4 * weight);
};

/** Starts counting (once per process: a later call only adds byStage). */
export function countQueries(opts: { byStage?: boolean } = {}): void {
  byStage ||= !!opts.byStage;
  if (installed) return;
  installed = true;
  for (const m of ['execute', 'all'] as const) {
    const orig = proto[m];
    proto[m] = function (this: { queryString: string }, ...a: unknown[]) {
      const k = this.queryString.replace(/\$\d+(, \$\d+)+/g, '$n…').replace(/\s+/g, ' ').slice(0, 110);
      counts.set(k, (counts.get(k) ?? 0) + 1);
      const out = orig.apply(this, a);
      if (timed && out instanceof Promise) {
        const t = performance.now();
        out.then(() => durations.set(k, (durations.get(k) ?? 0) + performance.now() - t), () => {});
      }
      return out;
    };
  }
  const dbProto = PgDatabase.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
  for (const m of ['select', 'selectDistinct', 'insert', 'update', 'delete', 'execute']) {
    const orig = dbProto[m];
    dbProto[m] = function (this: unknown, ...a: unknown[]) {
      sampleStage(1);
      return orig.apply(this, a);
    };
  }
  const tx = sessionProto.transaction;
  sessionProto.transaction = function (this: unknown, ...a: unknown[]) {
    transactions++;
    sampleStage(2);
    return tx.apply(this, a);
  };
}

export function resetCounts(): void {
  counts.clear();
  durations.clear();
  stageCounts.clear();
  transactions = 0;
}

/** Statements and transactions counted since the last resetCounts. */
export function countTotals(): { statements: number; transactions: number } {
  return { statements: [...counts.values()].reduce((a, b) => a + b, 0), transactions };
}

export function printCounts(per = 1, label = 'statements'): void {
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  console.log(`${label}: ${total} statements + ${transactions} transactions (BEGIN/COMMIT) = ${(total / per).toFixed(1)} statements and ${(transactions / per).toFixed(2)} transactions per unit (${per} units)`);
  for (const [k, n] of [...counts].sort((a, b) => b[1] - a[1])) {
    const ms = durations.get(k);
    console.log(`  ${(n / per).toFixed(2).padStart(6)}  ${ms === undefined ? '' : `${((ms / per) * 1000).toFixed(0).padStart(6)} µs  `}${k}`);
  }
}

if (process.env.PM_BENCH_COUNT_QUERIES) countQueries();
