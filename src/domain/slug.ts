import { BadInputError } from './errors.js';
import { quoteForMessage } from './text.js';

/**
 * A slug: 1–63 characters of lowercase letters, digits and hyphens, starting and
 * ending with a letter or digit (a DNS label).
 */
export const SLUG_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** Maximum length of a slug. */
export const MAX_SLUG_LENGTH = 63;

/**
 * Checks that `value` is a slug (see {@link SLUG_PATTERN}).
 *
 * @param value - the input to check
 * @param field - the input field, reported as `details.field`
 * @param label - how the message names the value, e.g. 'profile name'
 * @throws BadInputError naming the field, the (truncated) value and the rule
 */
export function validateSlug(value: unknown, field: string, label: string): void {
  if (typeof value !== 'string') {
    throw new BadInputError(`${label} must be a string`, { field });
  }
  if (SLUG_PATTERN.test(value)) return;
  const why =
    value.length === 0
      ? 'it is empty'
      : value.length > MAX_SLUG_LENGTH
        ? `it is ${value.length} characters long`
        : 'it contains characters or a start/end that are not allowed';
  throw new BadInputError(
    `${label} ${quoteForMessage(value)} is invalid (${why}): use 1–${MAX_SLUG_LENGTH} lowercase letters, digits and hyphens, starting and ending with a letter or digit`,
    { field },
  );
}
