/** Output helpers: JSON for scripts, aligned tables and colour for people (colour only on a terminal, never with NO_COLOR). */

export interface Out {
  readonly tty: boolean;
  line(text?: string): void;
  json(value: unknown): void;
  table(rows: ReadonlyArray<Record<string, unknown>>, columns: readonly string[]): void;
  paint(text: string, color: keyof typeof CODES): string;
}

const CODES = { red: 31, green: 32, yellow: 33, cyan: 36, dim: 2, bold: 1 } as const;

/** How a value prints in a table cell or a `key: value` line: `-` for none, JSON for objects. */
export function cell(v: unknown): string {
  return v === null || v === undefined ? '-' : typeof v === 'object' ? JSON.stringify(v) : String(v);
}

export function createOut(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv): Out {
  const tty = stream.isTTY === true;
  const color = tty && env.NO_COLOR === undefined && env.TERM !== 'dumb';
  return {
    tty,
    line: (text = '') => void stream.write(`${text}\n`),
    json: (value) => void stream.write(`${JSON.stringify(value, null, 2)}\n`),
    table(rows, columns) {
      const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
      const fmt = (values: string[]) => values.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd();
      stream.write(`${fmt(columns.map((c) => c.toUpperCase()))}\n`);
      for (const r of rows) stream.write(`${fmt(columns.map((c) => cell(r[c])))}\n`);
    },
    paint: (text, name) => (color ? `\u001b[${CODES[name]}m${text}\u001b[0m` : text),
  };
}
