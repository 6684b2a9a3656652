import { InvalidArgumentError } from 'commander';
import { CliError, ExitCode } from '../exit-codes.js';
import { cell, type Out } from '../output.js';

/** Shared bits of the profile, version, schema and instances commands. */

/** The `--help` footer: `Example:` (or `Examples:`) and one `$ hotswap …` line each. */
export function examples(...lines: string[]): string {
  return `\n${lines.length > 1 ? 'Examples' : 'Example'}:\n${lines.map((l) => `  $ ${l}`).join('\n')}`;
}

/** An option/argument parser for a positive integer (version numbers, limits). */
export function positiveInt(what: string, max = Number.MAX_SAFE_INTEGER): (text: string) => number {
  return (text) => {
    const n = Number(text);
    if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < 1 || n > max) {
      throw new InvalidArgumentError(`${what} must be an integer from 1 to ${max === Number.MAX_SAFE_INTEGER ? '…' : max}`);
    }
    return n;
  };
}

/** An option parser for one value of a GraphQL enum; accepts any case (`staging` → `STAGING`). */
export function enumValue<E extends Record<string, string>>(e: E): (text: string) => E[keyof E] {
  const values = Object.values(e);
  return (text) => {
    const upper = text.trim().toUpperCase().replace(/-/g, '_');
    if (!values.includes(upper)) throw new InvalidArgumentError(`use one of ${values.join(', ')}`);
    return upper as E[keyof E];
  };
}

/** The refusal for something the server answered `null` for: exit 4, like the server's NOT_FOUND. */
export function notFound(what: string): CliError {
  return new CliError([`NOT_FOUND: ${what} not found`], ExitCode.REFUSED);
}

/** A refusal the CLI itself makes before calling HotSwap (exit 4). */
export function badInput(message: string): CliError {
  return new CliError([`BAD_USER_INPUT: ${message}`], ExitCode.REFUSED);
}

/** A value in one line: JSON, `(none)` when absent. */
export function inline(value: unknown): string {
  return value === undefined ? '(none)' : JSON.stringify(value);
}

/** `key: value` lines with the keys aligned; null/undefined values print as `-`. */
export function fields(out: Out, rows: ReadonlyArray<readonly [string, unknown]>): void {
  const width = Math.max(...rows.map(([k]) => k.length)) + 1;
  for (const [key, value] of rows) out.line(`${`${key}:`.padEnd(width)} ${cell(value)}`);
}

export interface Change {
  op: 'ADD' | 'REMOVE' | 'REPLACE';
  path: string;
  before?: unknown;
  after?: unknown;
}

/**
 * One line per change: `~ /path: before → after`, `+ /path: after`,
 * `- /path: before`; yellow, green and red when `out` paints (a terminal).
 */
export function diffLines(out: Out, changes: readonly Change[]): string[] {
  return changes.map((c) => {
    const path = c.path === '' ? '/' : c.path;
    switch (c.op) {
      case 'ADD':
        return out.paint(`+ ${path}: ${inline(c.after)}`, 'green');
      case 'REMOVE':
        return out.paint(`- ${path}: ${inline(c.before)}`, 'red');
      default:
        return out.paint(`~ ${path}: ${inline(c.before)} → ${inline(c.after)}`, 'yellow');
    }
  });
}

/** `2026-01-31T12:00:00.000Z` → `2026-01-31 12:00:00Z` (tables stay narrow); other values unchanged. */
export function shortTime(iso: unknown): unknown {
  return typeof iso === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/.test(iso) ? `${iso.slice(0, 10)} ${iso.slice(11, 19)}Z` : iso;
}

/** The first 12 hex digits of a sha256, as tables show it. */
export function shortHash(hash: unknown): unknown {
  return typeof hash === 'string' ? hash.slice(0, 12) : hash;
}
