import { describe, expect, it } from 'vitest';
import { Environment } from '../../../src/domain/enums.js';
import { BadInputError } from '../../../src/domain/errors.js';
import {
  MAX_DESCRIPTION_LENGTH,
  PROFILE_NAME_PATTERN,
  SERVICE_NAME_PATTERN,
  type NewProfile,
  validateDescription,
  validateNewProfile,
  validateProfileName,
  validateServiceName,
} from '../../../src/domain/profile.js';

function caught(fn: () => void): BadInputError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(BadInputError);
    return err as BadInputError;
  }
  throw new Error('expected a BadInputError');
}

const valid: NewProfile = { name: 'checkout-api', service: 'checkout', environment: Environment.STAGING };

describe('profile and service names', () => {
  it.each(['a', '0', 'checkout-api', 'a1-b2-c3', 'x'.repeat(63)])('accepts %s', (name) => {
    expect(() => validateProfileName(name)).not.toThrow();
    expect(() => validateServiceName(name)).not.toThrow();
    expect(PROFILE_NAME_PATTERN.test(name)).toBe(true);
  });

  it.each(['', '-a', 'a-', 'Checkout', 'a_b', 'a.b', 'a b', 'é', 'x'.repeat(64)])('refuses %j', (name) => {
    expect(caught(() => validateProfileName(name)).details).toEqual({ field: 'name' });
    expect(caught(() => validateServiceName(name)).details).toEqual({ field: 'service' });
    expect(SERVICE_NAME_PATTERN.test(name)).toBe(false);
  });

  it('refuses names holding a lone surrogate, echoing them escaped', () => {
    const err = caught(() => validateProfileName('abc\ud800'));
    expect(err.details).toEqual({ field: 'name' });
    expect(err.message).toContain('"abc\\ud800"');
    expect(err.message).not.toMatch(/\p{Cs}/u);
    expect(caught(() => validateServiceName('\udc00')).details).toEqual({ field: 'service' });
  });

  it('says what is allowed', () => {
    expect(caught(() => validateProfileName('Bad_Name')).message).toMatch(
      /profile name "Bad_Name" is invalid.*1–63 lowercase letters, digits and hyphens/,
    );
  });

  it('does not echo a 10 KB name back', () => {
    const err = caught(() => validateProfileName('A'.repeat(10_240)));
    expect(err.message.length).toBeLessThan(300);
    expect(err.message).toContain(`"${'A'.repeat(40)}…"`);
    expect(err.message).toContain('10240 characters');
  });
});

describe('validateDescription', () => {
  it('accepts null, undefined and up to the limit', () => {
    expect(() => validateDescription(null)).not.toThrow();
    expect(() => validateDescription(undefined)).not.toThrow();
    expect(() => validateDescription('d'.repeat(MAX_DESCRIPTION_LENGTH))).not.toThrow();
  });

  it('counts characters, not UTF-16 units', () => {
    expect(() => validateDescription('😀'.repeat(MAX_DESCRIPTION_LENGTH))).not.toThrow();
  });

  it.each([
    ['a lone high surrogate', 'abc\ud800', 'U+D800'],
    ['a lone low surrogate', '\udfffabc', 'U+DFFF'],
    ['a reversed pair', '\ude00\ud83d', 'U+DE00'],
  ])('refuses a description that is not well-formed Unicode (%s)', (_name, d, unit) => {
    const err = caught(() => validateDescription(d));
    expect(err.details).toEqual({ field: 'description' });
    expect(err.message).toContain('not well-formed Unicode');
    expect(err.message).toContain(unit);
  });

  it('accepts surrogate pairs in a description', () => {
    expect(() => validateDescription('emoji \ud83d\ude00 and 𝄞')).not.toThrow();
  });

  it('refuses a description over the limit, naming the field and the limit', () => {
    const err = caught(() => validateDescription('d'.repeat(MAX_DESCRIPTION_LENGTH + 1)));
    expect(err.details).toMatchObject({ field: 'description' });
    expect(err.message).toContain('1000 characters');
  });
});

describe('validateNewProfile', () => {
  it('accepts a valid profile', () => {
    expect(() => validateNewProfile({ ...valid, description: 'the checkout API' })).not.toThrow();
  });

  it.each([
    [{ ...valid, name: 'Nope' }, 'name'],
    [{ ...valid, service: 'no pe' }, 'service'],
    [{ ...valid, environment: 'PROD' as Environment }, 'environment'],
    [{ ...valid, description: 'x'.repeat(2000) }, 'description'],
  ])('reports the bad field (%#: %s)', (input, field) => {
    expect(caught(() => validateNewProfile(input)).details).toMatchObject({ field });
  });

  it('lists the allowed environments', () => {
    expect(caught(() => validateNewProfile({ ...valid, environment: 'QA' as Environment })).message).toContain(
      'DEVELOPMENT, STAGING, PRODUCTION',
    );
  });
});
