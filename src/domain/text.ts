/**
 * Longest free text (descriptions, reasons, comments, an ack's error) any
 * argument may carry where it enters the API, in UTF-16 code units. Generous:
 * each field's own rule (e.g. MAX_DESCRIPTION_LENGTH) then decides; this only
 * keeps megabytes of text from reaching the code behind the API.
 */
export const MAX_TEXT_LENGTH = 64 * 1024;

/** Default number of characters of user input echoed back in an error message. */
export const MESSAGE_ECHO_LIMIT = 40;

/**
 * Quotes user input for an error message, cut to `max` characters (plus '…') so a
 * huge input is never echoed back whole.
 *
 * @param value - the offending input
 * @param max - characters to keep @default 40
 */
export function quoteForMessage(value: string, max = MESSAGE_ECHO_LIMIT): string {
  const chars = Array.from(value.slice(0, max * 2)).slice(0, max).join('');
  const cut = chars.length < value.length;
  return JSON.stringify(cut ? `${chars}…` : value);
}

/**
 * Where the first NUL character (U+0000) sits in a parsed request, as a dotted
 * path ('variables.input.description', 'query'), or null when there is none.
 * PostgreSQL can store NUL in neither text nor jsonb, so requests carrying one
 * are refused whole. Iterative, so deeply nested input cannot overflow the stack.
 */
export function findNulCharacter(value: unknown): string | null {
  const stack: Array<{ node: unknown; path: string }> = [{ node: value, path: '' }];
  while (stack.length > 0) {
    const { node, path } = stack.pop()!;
    if (typeof node === 'string') {
      if (node.includes('\u0000')) return path || '(root)';
    } else if (typeof node === 'object' && node !== null) {
      for (const [key, child] of Object.entries(node)) {
        const childPath = path ? `${path}.${key}` : key;
        if (key.includes('\u0000')) return childPath;
        stack.push({ node: child, path: childPath });
      }
    }
  }
  return null;
}

/** ES2024 string methods (Node ≥ 20); the project's TypeScript lib is ES2023. */
interface Es2024String {
  isWellFormed(): boolean;
  toWellFormed(): string;
}

/**
 * True when `s` is well-formed UTF-16: no lone surrogate (a high surrogate
 * U+D800–U+DBFF not followed by a low one U+DC00–U+DFFF, or a low one not
 * preceded by a high one). Such strings are not valid Unicode: PostgreSQL
 * refuses them in jsonb and silently turns them into U+FFFD in text columns.
 */
export function isWellFormedUnicode(s: string): boolean {
  return (s as unknown as Es2024String).isWellFormed();
}

/** `s` with every lone surrogate replaced by U+FFFD, safe to echo in a message. */
export function toWellFormedUnicode(s: string): string {
  return (s as unknown as Es2024String).toWellFormed();
}

/** The first lone surrogate of `s` as 'U+D800', or null when `s` is well-formed. */
export function findLoneSurrogate(s: string): string | null {
  if (isWellFormedUnicode(s)) return null;
  // With the u flag a valid pair is one code point, so \p{Cs} matches only lone halves.
  const unit = /\p{Cs}/u.exec(s)?.[0].charCodeAt(0);
  return unit === undefined ? null : `U+${unit.toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * Where the first string or object key that is not well-formed UTF-16 (it holds
 * a lone surrogate, see {@link isWellFormedUnicode}) sits in a parsed request,
 * as a dotted path ('variables.input.data.x'), or null when there is none.
 * Walks in document order and is iterative, so deeply nested input cannot
 * overflow the stack. Lone surrogates in the returned path (a bad key names
 * itself) are replaced by U+FFFD, so the path is safe to echo back.
 */
export function findMalformedString(value: unknown): string | null {
  const stack: Array<{ node: unknown; path: string; badKey: boolean }> = [{ node: value, path: '', badKey: false }];
  while (stack.length > 0) {
    const { node, path, badKey } = stack.pop()!;
    if (badKey) return toWellFormedUnicode(path);
    if (typeof node === 'string') {
      if (!isWellFormedUnicode(node)) return path || '(root)';
    } else if (typeof node === 'object' && node !== null) {
      const entries = Object.entries(node);
      // Reversed onto the stack so the first entry is looked at first.
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, child] = entries[i]!;
        stack.push({ node: child, path: path ? `${path}.${key}` : key, badKey: !isWellFormedUnicode(key) });
      }
    }
  }
  return null;
}
