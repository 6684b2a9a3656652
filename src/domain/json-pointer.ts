import { BadInputError } from './errors.js';
import { quoteForMessage } from './text.js';

/** Escapes one reference token (RFC 6901 §3): `~` → `~0`, then `/` → `~1`. */
export function escapePointerSegment(s: string): string {
  return s.replace(/~/g, '~0').replace(/\//g, '~1');
}

/**
 * Reverses {@link escapePointerSegment}: `~1` → `/`, then `~0` → `~` (RFC 6901 §4).
 *
 * @throws BadInputError when `~` is not followed by `0` or `1`
 */
export function unescapePointerSegment(s: string): string {
  if (/~(?![01])/.test(s)) {
    throw new BadInputError(
      `invalid JSON Pointer segment ${quoteForMessage(s)}: "~" must be followed by 0 (for "~") or 1 (for "/")`,
    );
  }
  return s.replace(/~1/g, '/').replace(/~0/g, '~');
}

/** Builds a JSON Pointer from unescaped segments; the root (no segments) is `''`. */
export function toPointer(segments: ReadonlyArray<string | number>): string {
  let out = '';
  for (const segment of segments) out += `/${escapePointerSegment(String(segment))}`;
  return out;
}

/**
 * Splits a JSON Pointer into unescaped segments; `''` (the root) gives `[]`.
 *
 * @throws BadInputError when a non-empty pointer does not start with `/` or has a bad `~` escape
 */
export function parsePointer(p: string): string[] {
  if (p === '') return [];
  if (!p.startsWith('/')) {
    throw new BadInputError(
      `invalid JSON Pointer ${quoteForMessage(p)}: it must be empty (the root) or start with "/"`,
    );
  }
  return p.slice(1).split('/').map(unescapePointerSegment);
}
