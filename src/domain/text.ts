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
