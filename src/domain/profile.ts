import { Environment, isEnumValue } from './enums.js';
import { BadInputError } from './errors.js';
import { SLUG_PATTERN, validateSlug } from './slug.js';
import { findLoneSurrogate } from './text.js';

/** Profile names: lowercase letters, digits, hyphens; letter/digit at both ends; 1–63 chars. */
export const PROFILE_NAME_PATTERN = SLUG_PATTERN;

/** Service names follow the same rule as profile names. */
export const SERVICE_NAME_PATTERN = SLUG_PATTERN;

/** Longest description accepted, in characters (Unicode code points). */
export const MAX_DESCRIPTION_LENGTH = 1000;

/** What it takes to create a profile. */
export interface NewProfile {
  name: string;
  service: string;
  environment: Environment;
  description?: string | null;
  /** The JSON Schema its versions are validated against. */
  schemaId?: string | null;
}

/** @throws BadInputError (`details.field = 'name'`) unless `name` matches {@link PROFILE_NAME_PATTERN} */
export function validateProfileName(name: string): void {
  validateSlug(name, 'name', 'profile name');
}

/** @throws BadInputError (`details.field = 'service'`) unless `service` matches {@link SERVICE_NAME_PATTERN} */
export function validateServiceName(service: string): void {
  validateSlug(service, 'service', 'service name');
}

/**
 * Accepts null/undefined (no description) or a well-formed Unicode string (no
 * lone UTF-16 surrogate, which PostgreSQL would silently store as U+FFFD) of at
 * most {@link MAX_DESCRIPTION_LENGTH} characters.
 *
 * @throws BadInputError with `details.field = 'description'`
 */
export function validateDescription(d: string | null | undefined): void {
  if (d === null || d === undefined) return;
  if (typeof d !== 'string') {
    throw new BadInputError('description must be a string or null', { field: 'description' });
  }
  const surrogate = findLoneSurrogate(d);
  if (surrogate !== null) {
    throw new BadInputError(
      `description is not well-formed Unicode: it contains a lone UTF-16 surrogate (${surrogate})`,
      { field: 'description' },
    );
  }
  // Cheap upper bound first: code points never outnumber UTF-16 units.
  if (d.length <= MAX_DESCRIPTION_LENGTH) return;
  let count = 0;
  for (const _ of d) {
    if (++count > MAX_DESCRIPTION_LENGTH) {
      throw new BadInputError(
        `description is too long: at most ${MAX_DESCRIPTION_LENGTH} characters are allowed`,
        { field: 'description', maxLength: MAX_DESCRIPTION_LENGTH },
      );
    }
  }
}

/** @throws BadInputError (`details.field = 'environment'`) unless `env` is an {@link Environment} */
export function validateEnvironment(env: unknown): asserts env is Environment {
  if (!isEnumValue(Environment, env)) {
    throw new BadInputError(
      `environment must be one of ${Object.values(Environment).join(', ')}`,
      { field: 'environment' },
    );
  }
}

/**
 * Validates every field of a new profile, in the order name, service,
 * environment, description; the first bad one is reported.
 *
 * @throws BadInputError naming the field in `details.field`
 */
export function validateNewProfile(p: NewProfile): void {
  validateProfileName(p.name);
  validateServiceName(p.service);
  validateEnvironment(p.environment);
  validateDescription(p.description);
}
