import { describe, expect, it } from 'vitest';
import { BadInputError } from '../../../src/domain/errors.js';
import { decodeCursor, encodeCursor, pageSize } from '../../../src/domain/pagination.js';

describe('cursors', () => {
  it('round-trip their parts', () => {
    const parts = { c: '2024-01-02T03:04:05.000Z', i: 'a/b+c', v: 42 };
    expect(decodeCursor(encodeCursor(parts))).toEqual(parts);
  });

  it('are base64url (no +, / or =)', () => {
    const cursor = encodeCursor({ k: '>>>???~~~' });
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(Buffer.from(cursor, 'base64url').toString()).toBe('{"k":">>>???~~~"}');
  });

  it.each([
    ['empty', ''],
    ['not base64url', 'a+b/c='],
    ['not JSON', Buffer.from('hello').toString('base64url')],
    ['an array', Buffer.from('[1]').toString('base64url')],
    ['nested values', Buffer.from('{"a":{"b":1}}').toString('base64url')],
    ['too long', 'a'.repeat(2000)],
  ])('refuses a cursor that is %s', (_why, cursor) => {
    expect(() => decodeCursor(cursor)).toThrow(BadInputError);
    expect(() => decodeCursor(cursor)).toThrow(/invalid cursor/);
  });
});

describe('pageSize', () => {
  it('uses the default when first is absent', () => {
    expect(pageSize(undefined, 20)).toBe(20);
    expect(pageSize(null, 50)).toBe(50);
  });

  it('returns first when within range', () => {
    expect(pageSize(1, 20)).toBe(1);
    expect(pageSize(100, 20)).toBe(100);
    expect(pageSize(10, 20, 10)).toBe(10);
  });

  it.each([0, -1, 101, 2.5, Number.NaN])('refuses first = %d, saying the range', (first) => {
    expect(() => pageSize(first, 20)).toThrow(/between 1 and 100/);
  });

  it('uses the given max in the message', () => {
    expect(() => pageSize(11, 5, 10)).toThrow(/between 1 and 10, got 11/);
  });
});
