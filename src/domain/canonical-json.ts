import { createHash } from 'node:crypto';
import { BadInputError } from './errors.js';
import { describeJsonType, isJsonObject } from './json.js';
import { toPointer } from './json-pointer.js';
import { findLoneSurrogate, quoteForMessage, toWellFormedUnicode } from './text.js';

/**
 * Serialises a JSON value canonically (RFC 8785 / JCS style): object keys sorted
 * by UTF-16 code units, no whitespace, numbers and strings as `JSON.stringify`
 * prints them. Equal content always gives the same string.
 *
 * Recursive; it handles at least 1,000 levels of nesting. Callers limit depth
 * first with `jsonDepth`.
 *
 * @throws BadInputError for anything that is not JSON (undefined, functions,
 *   symbols, bigint, NaN, ±Infinity, class instances such as Date, cycles) and
 *   for strings or object keys that are not well-formed Unicode (a lone UTF-16
 *   surrogate, which PostgreSQL cannot store); `details.path` is the JSON
 *   Pointer of the offending value or key (lone surrogates in it shown as U+FFFD).
 */
export function canonicalJson(value: unknown): string {
  return write(value, [], new Set<object>());
}

/** sha256 (lowercase hex) of {@link canonicalJson}`(value)` encoded as UTF-8. */
export function contentHash(value: unknown): string {
  return sha256Hex(canonicalJson(value));
}

/** sha256 (lowercase hex) of a string's UTF-8 bytes. */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

function write(value: unknown, path: Array<string | number>, ancestors: Set<object>): string {
  switch (typeof value) {
    case 'string':
      checkWellFormed(value, 'string', path);
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw notJson(`the number ${String(value)}`, path);
      return JSON.stringify(value);
    case 'object':
      break;
    default:
      throw notJson(`a value of type ${typeof value}`, path);
  }
  if (value === null) return 'null';
  if (ancestors.has(value)) throw notJson('a circular reference', path);
  ancestors.add(value);
  let out: string;
  if (Array.isArray(value)) {
    const parts: string[] = [];
    for (let i = 0; i < value.length; i++) {
      path.push(i);
      parts.push(write(value[i], path, ancestors));
      path.pop();
    }
    out = `[${parts.join(',')}]`;
  } else if (isJsonObject(value)) {
    const parts: string[] = [];
    for (const key of Object.keys(value).sort()) {
      path.push(key);
      checkWellFormed(key, 'key', path);
      parts.push(`${JSON.stringify(key)}:${write(value[key], path, ancestors)}`);
      path.pop();
    }
    out = `{${parts.join(',')}}`;
  } else {
    throw notJson(`a ${describeJsonType(value)} object`, path);
  }
  ancestors.delete(value);
  return out;
}

/** Refuses a string or key holding a lone surrogate (not valid Unicode). */
function checkWellFormed(s: string, what: 'string' | 'key', path: ReadonlyArray<string | number>): void {
  const surrogate = findLoneSurrogate(s);
  if (surrogate === null) return;
  const pointer = toWellFormedUnicode(toPointer(path));
  const where = pointer === '' ? `the ${what}` : `the ${what} at ${quoteForMessage(pointer, 120)}`;
  throw new BadInputError(
    `${where} is not well-formed Unicode: it contains a lone UTF-16 surrogate (${surrogate}); characters outside the Basic Multilingual Plane must be encoded as a complete surrogate pair`,
    { path: pointer },
  );
}

function notJson(what: string, path: ReadonlyArray<string | number>): BadInputError {
  const pointer = toPointer(path);
  const where = pointer === '' ? 'the value' : `the value at ${quoteForMessage(pointer, 120)}`;
  return new BadInputError(
    `${where} is ${what}, which is not JSON; use only objects, arrays, strings, finite numbers, booleans and null`,
    { path: pointer },
  );
}
