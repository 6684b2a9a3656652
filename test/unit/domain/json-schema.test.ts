import { describe, expect, it } from 'vitest';
import { SchemaStatus as S } from '../../../src/domain/enums.js';
import { BadInputError, ConflictError } from '../../../src/domain/errors.js';
import { assertSchemaTransition, canTransitionSchema, validateSchemaName } from '../../../src/domain/json-schema.js';

const ALLOWED = new Set([`${S.DRAFT}>${S.PENDING_APPROVAL}`, `${S.PENDING_APPROVAL}>${S.APPROVED}`, `${S.PENDING_APPROVAL}>${S.REJECTED}`]);
const ALL = Object.values(S);
const pairs = ALL.flatMap((from) => ALL.map((to) => [from, to, ALLOWED.has(`${from}>${to}`)] as const));

describe('schema approval transitions', () => {
  it.each(pairs)('%s → %s allowed: %s', (from, to, allowed) => {
    expect(canTransitionSchema(from, to)).toBe(allowed);
    if (allowed) expect(() => assertSchemaTransition(from, to)).not.toThrow();
    else expect(() => assertSchemaTransition(from, to)).toThrow(ConflictError);
  });

  it('names both statuses when refusing', () => {
    expect(() => assertSchemaTransition(S.DRAFT, S.APPROVED)).toThrow(
      'schema is DRAFT; cannot move to APPROVED (from DRAFT it may move to PENDING_APPROVAL)',
    );
    expect(() => assertSchemaTransition(S.REJECTED, S.PENDING_APPROVAL)).toThrow(/schema is REJECTED; cannot move to PENDING_APPROVAL/);
  });
});

describe('validateSchemaName', () => {
  it('accepts a slug', () => {
    expect(() => validateSchemaName('payments-v2')).not.toThrow();
  });

  it.each(['', 'Payments', 'pay_ments', '-x', 'y'.repeat(64)])('refuses %j with field name', (name) => {
    try {
      validateSchemaName(name);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(BadInputError);
      expect((err as BadInputError).details).toEqual({ field: 'name' });
      expect((err as BadInputError).message).toMatch(/^schema name /);
    }
  });
});
