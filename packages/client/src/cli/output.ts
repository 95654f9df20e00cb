// How the CLI prints: aligned tables and ANSI colour for people (colour only on a terminal, never
// with NO_COLOR), the API's JSON as is for scripts (--json).
import type { DeliveryState } from '../wire/index.ts';

export interface Sink {
  write(chunk: string | Uint8Array): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface Paint {
  bold(s: string): string;
  dim(s: string): string;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  blue(s: string): string;
  cyan(s: string): string;
}

const sgr = (open: number, close: number) => (s: string) => `\x1b[${open}m${s}\x1b[${close}m`;

export function paint(enabled: boolean): Paint {
  const id = (s: string) => s;
  if (!enabled) return { bold: id, dim: id, red: id, green: id, yellow: id, blue: id, cyan: id };
  return { bold: sgr(1, 22), dim: sgr(2, 22), red: sgr(31, 39), green: sgr(32, 39), yellow: sgr(33, 39), blue: sgr(34, 39), cyan: sgr(36, 39) };
}

/** Colour when writing to a terminal, unless NO_COLOR is set or TERM is dumb; FORCE_COLOR forces it. */
export function wantsColor(sink: Sink, env: Record<string, string | undefined>): boolean {
  if (env.NO_COLOR) return false;
  if (env.FORCE_COLOR && env.FORCE_COLOR !== '0') return true;
  return !!sink.isTTY && env.TERM !== 'dumb';
}

const ANSI = /\x1b\[[0-9;]*m/g;
export const visibleLength = (s: string) => [...s.replace(ANSI, '')].length;

/** Cuts `s` to `max` visible characters with an ellipsis (plain strings only). */
export function truncate(s: string, max: number): string {
  const chars = [...s];
  return chars.length <= max ? s : `${chars.slice(0, Math.max(0, max - 1)).join('')}…`;
}

export class Output {
  readonly json: boolean;
  readonly c: Paint;
  readonly #out: Sink;
  readonly #err: Sink;

  constructor(opts: { stdout: Sink; stderr: Sink; json: boolean; color: boolean }) {
    this.json = opts.json;
    this.c = paint(opts.color && !opts.json);
    this.#out = opts.stdout;
    this.#err = opts.stderr;
  }

  line(text = ''): void {
    this.#out.write(`${text}\n`);
  }

  bytes(data: Uint8Array): void {
    this.#out.write(data);
  }

  /** The value as indented JSON, one document per call. */
  printJson(value: unknown): void {
    this.#out.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** A note for people on stderr (never mixed into --json output). */
  note(text: string): void {
    this.#err.write(`${text}\n`);
  }

  /** Columns padded to their widest cell; the header is dimmed. */
  table(headers: string[], rows: string[][]): void {
    const widths = headers.map((h, i) => Math.max(visibleLength(h), ...rows.map((r) => visibleLength(r[i] ?? ''))));
    const fmt = (cells: string[]) =>
      cells
        .map((cell, i) => (i === cells.length - 1 ? cell : cell + ' '.repeat(widths[i] - visibleLength(cell))))
        .join('  ')
        .trimEnd();
    this.line(this.c.dim(fmt(headers)));
    for (const r of rows) this.line(fmt(r));
  }

  /** A delivery state in a colour that says whether it is good, waiting or final-bad. */
  state(state: DeliveryState | string): string {
    switch (state) {
      case 'fetched':
        return this.c.green(state);
      case 'held':
      case 'challenged':
      case 'queued':
      case 'notified':
        return this.c.yellow(state);
      case 'retracted':
        return this.c.blue(state);
      default:
        return this.c.red(state);
    }
  }
}

/** `2025-05-01 14:03` in local time; the ISO string itself when it does not parse. */
export function formatTime(iso: string | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** `512 B`, `1.2 kB`, `3.4 MB` (powers of 1000, as the limits in the docs are). */
export function formatSize(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  if (bytes < 1_000_000) return `${(bytes / 1000).toFixed(1)} kB`;
  return `${(bytes / 1_000_000).toFixed(1)} MB`;
}
