import { RE2JS } from 're2js';
import { BadInputError } from '../domain/errors.js';
import { quoteForMessage } from '../domain/text.js';

/** What ajv needs of a compiled pattern (ajv's `RegExpLike`). */
export interface Re2RegExp {
  test(s: string): boolean;
  toString(): string;
}

/**
 * ajv's `code.regExp` engine (`RegExpEngine`): a function `(pattern, flags)`
 * returning an object with `test(s)`, plus a `code` string ajv uses only when it
 * prints standalone code.
 */
export interface Re2Engine {
  (pattern: string, flags: string): Re2RegExp;
  code: string;
}

/**
 * Compiles an ECMA-262 `pattern` (as JSON Schema writes it) with RE2, whose
 * matching time is linear in the input: `^(a+)+$` against 100,000 characters
 * takes milliseconds, not forever. The pattern is first translated with
 * `RE2JS.translateRegExp` (`\uXXXX`, `\u{…}`, `\cX`, named groups).
 * Matching is unanchored, like `RegExp.prototype.test`. The `u` flag ajv
 * passes is implied (RE2 always works on code points); other flags are refused.
 *
 * @throws BadInputError (`details.field = 'schema'`) when RE2 cannot compile the
 *   pattern, e.g. a backreference (`\1`) or lookaround (`(?=…)`, `(?<!…)`)
 */
export function compileRe2(pattern: string, flags = ''): Re2RegExp {
  if (/[^u]/.test(flags)) {
    throw new BadInputError(`regular expression flags ${quoteForMessage(flags)} are not supported`, { field: 'schema' });
  }
  let re: RE2JS;
  try {
    re = RE2JS.compile(RE2JS.translateRegExp(pattern));
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new BadInputError(
      `pattern ${quoteForMessage(pattern, 120)} is not supported: patterns must be RE2 syntax (no backreferences such as \\1, no lookahead or lookbehind), so that matching takes linear time; RE2 says: ${reason}`,
      { field: 'schema', pattern },
    );
  }
  const text = `/${pattern}/${flags}`;
  return { test: (s: string) => re.test(s), toString: () => text };
}

/** {@link compileRe2} in the shape ajv's `code.regExp` option takes. */
export const re2Engine: Re2Engine = Object.assign((pattern: string, flags: string) => compileRe2(pattern, flags), {
  code: 'compileRe2',
});
