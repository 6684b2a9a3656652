import { describe, expect, it } from 'vitest';
import { findNulCharacter, quoteForMessage } from '../../../src/domain/text.js';

describe('findNulCharacter', () => {
  it('finds a NUL in a nested string value and names its path', () => {
    expect(findNulCharacter({ variables: { input: { description: 'a\u0000b' } } })).toBe('variables.input.description');
  });

  it('finds a NUL in an object key and in array elements', () => {
    expect(findNulCharacter({ data: { 'k\u0000': 1 } })).toBe('data.k\u0000');
    expect(findNulCharacter({ list: ['ok', 'no\u0000'] })).toBe('list.1');
  });

  it('answers null for clean input of any shape', () => {
    expect(findNulCharacter({ a: [1, true, null, { b: 'text' }], c: 'x' })).toBeNull();
    expect(findNulCharacter('plain')).toBeNull();
  });

  it('walks 10,000 levels without overflowing the stack', () => {
    let deep: unknown = 'end\u0000';
    for (let i = 0; i < 10_000; i++) deep = [deep];
    expect(findNulCharacter(deep)).toMatch(/^0(\.0){9999}$/);
  });
});

describe('quoteForMessage', () => {
  it('echoes short input whole and cuts long input to 40 characters', () => {
    expect(quoteForMessage('abc')).toBe('"abc"');
    expect(quoteForMessage('x'.repeat(10_000))).toBe(`"${'x'.repeat(40)}…"`);
  });
});
