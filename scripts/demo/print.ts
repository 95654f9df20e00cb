// How the demo talks: numbered steps, indented facts, ✓ and ✗, in plain ANSI colour on a terminal
// (none when piped or with NO_COLOR).
import { paint, visibleLength as visible, type Paint } from '../../packages/client/src/cli/output.ts';

export interface Printer {
  c: Paint;
  title(text: string): void;
  step(text: string): void;
  info(text: string): void;
  ok(text: string): void;
  fail(text: string): void;
  note(text: string): void;
  table(headers: string[], rows: string[][]): void;
  blank(): void;
}

export function createPrinter(write: (s: string) => void, color: boolean): Printer {
  const c = paint(color);
  let n = 0;
  const line = (s: string) => write(`${s}\n`);
  return {
    c,
    title(text) {
      line(c.bold(text));
      line(c.dim('─'.repeat(Math.min(76, visible(text)))));
    },
    step(text) {
      n += 1;
      line('');
      line(`${c.cyan(c.bold(String(n).padStart(2)))}  ${c.bold(text)}`);
    },
    info: (text) => line(`    ${text}`),
    ok: (text) => line(`    ${c.green('✓')} ${text}`),
    fail: (text) => line(`    ${c.red('✗')} ${text}`),
    note: (text) => line(`    ${c.dim(text)}`),
    table(headers, rows) {
      const widths = headers.map((h, i) => Math.max(visible(h), ...rows.map((r) => visible(r[i] ?? ''))));
      const fmt = (cells: string[]) => cells.map((x, i) => x + ' '.repeat(widths[i] - visible(x))).join('  ').trimEnd();
      line(`      ${c.dim(fmt(headers))}`);
      for (const r of rows) line(`      ${fmt(r)}`);
    },
    blank: () => line(''),
  };
}
