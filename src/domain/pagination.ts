import { Buffer } from 'node:buffer';
import { BadInputError } from './errors.js';
import { isJsonObject } from './json.js';

/** Longest cursor accepted by {@link decodeCursor}. */
export const MAX_CURSOR_LENGTH = 1024;

/** Default upper bound of {@link pageSize}. */
export const MAX_PAGE_SIZE = 100;

/** An opaque cursor: base64url of the JSON of `parts`. */
export function encodeCursor(parts: Record<string, string | number>): string {
  return Buffer.from(JSON.stringify(parts), 'utf8').toString('base64url');
}

/**
 * Reads a cursor made by {@link encodeCursor}.
 *
 * @throws BadInputError "invalid cursor" (`details.field = 'after'`) for anything
 *   else: not base64url, not JSON, not an object of strings and finite numbers
 */
export function decodeCursor(cursor: string): Record<string, string | number> {
  if (typeof cursor !== 'string' || cursor.length === 0 || cursor.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(cursor)) {
    throw invalidCursor();
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor();
  }
  if (!isJsonObject(parsed)) throw invalidCursor();
  const out: Record<string, string | number> = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value))) out[key] = value;
    else throw invalidCursor();
  }
  return out;
}

function invalidCursor(): BadInputError {
  return new BadInputError('invalid cursor: pass the endCursor of a previous page unchanged, or omit it to start from the first page', {
    field: 'after',
  });
}

/**
 * The number of items to return: `first`, or `dflt` when it is null/undefined.
 *
 * @param first - the client's `first` argument
 * @param dflt - used when `first` is absent
 * @param max - the largest page allowed @default 100
 * @throws BadInputError (`details.field = 'first'`) unless `first` is an integer in 1..max
 */
export function pageSize(first: number | null | undefined, dflt: number, max = MAX_PAGE_SIZE): number {
  if (first === null || first === undefined) return Math.min(dflt, max);
  if (!Number.isInteger(first) || first < 1 || first > max) {
    throw new BadInputError(`first must be an integer between 1 and ${max}, got ${first}`, {
      field: 'first',
      min: 1,
      max,
    });
  }
  return first;
}
