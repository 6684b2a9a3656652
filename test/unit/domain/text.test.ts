import { describe, expect, it } from 'vitest';
import {
  findLoneSurrogate,
  findMalformedString,
  findNulCharacter,
  isWellFormedUnicode,
  quoteForMessage,
  toWellFormedUnicode,
} from '../../../src/domain/text.js';

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

describe('isWellFormedUnicode / findLoneSurrogate / toWellFormedUnicode', () => {
  it.each([
    ['', true, null],
    ['plain ascii', true, null],
    ['é ß 中文', true, null],
    ['pair \ud83d\ude00 and 𝄞', true, null],
    ['\ud800', false, 'U+D800'],
    ['x\udbff', false, 'U+DBFF'],
    ['\udc00x', false, 'U+DC00'],
    ['\ud83d\ud83d\ude00', false, 'U+D83D'],
    ['\ude00\ud83d', false, 'U+DE00'],
  ])('%j: well-formed %s, lone surrogate %s', (s, ok, unit) => {
    expect(isWellFormedUnicode(s)).toBe(ok);
    expect(findLoneSurrogate(s)).toBe(unit);
  });

  it('replaces lone surrogates by U+FFFD and keeps pairs', () => {
    expect(toWellFormedUnicode('a\ud800b\ud83d\ude00')).toBe('a\ufffdb\ud83d\ude00');
  });
});

describe('findMalformedString', () => {
  it('finds a lone surrogate in a nested string value and names its path', () => {
    expect(findMalformedString({ variables: { input: { data: { x: '\ud800' } } } })).toBe('variables.input.data.x');
    expect(findMalformedString({ list: ['ok', 'no\udc00'] })).toBe('list.1');
    expect(findMalformedString('\ud800')).toBe('(root)');
  });

  it('finds a lone surrogate in a key, naming it with U+FFFD in its place', () => {
    expect(findMalformedString({ data: { 'k\ud800': 1 } })).toBe('data.k\ufffd');
    expect(findMalformedString({ data: { '\udc00': { deeper: 'fine' } } })).toBe('data.\ufffd');
  });

  it('reports the first offender in document order', () => {
    expect(findMalformedString({ a: { b: 'x\ud800' }, '\udc00': 1, c: '\udbff' })).toBe('a.b');
    expect(findMalformedString([['ok', ['\ud800']], '\udc00'])).toBe('0.1.0');
  });

  it('answers null for well-formed input of any shape, pairs included', () => {
    expect(findMalformedString({ a: [1, true, null, { b: 'text 😀' }], '𝄞': '\ud83d\ude00' })).toBeNull();
    expect(findMalformedString('plain')).toBeNull();
    expect(findMalformedString(42)).toBeNull();
    expect(findMalformedString(null)).toBeNull();
  });

  it('does not mistake a NUL for a malformed string', () => {
    expect(findMalformedString({ a: 'x\u0000' })).toBeNull();
  });

  it('walks 10,000 levels without overflowing the stack', () => {
    let deep: unknown = 'end\ud800';
    for (let i = 0; i < 10_000; i++) deep = [deep];
    expect(findMalformedString(deep)).toMatch(/^0(\.0){9999}$/);
  });
});
