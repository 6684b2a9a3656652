import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalJson, contentHash } from '../../../src/domain/canonical-json.js';
import { BadInputError } from '../../../src/domain/errors.js';

const sha256 = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex');

describe('canonicalJson', () => {
  it('sorts keys and prints no whitespace', () => {
    expect(canonicalJson({ b: 1, a: [1, 2], c: { z: null, y: true } })).toBe('{"a":[1,2],"b":1,"c":{"y":true,"z":null}}');
  });

  it('does not depend on key insertion order', () => {
    expect(canonicalJson({ x: 1, y: { q: 2, p: 3 } })).toBe(canonicalJson({ y: { p: 3, q: 2 }, x: 1 }));
  });

  it('keeps array order', () => {
    expect(canonicalJson([3, 1, 2])).toBe('[3,1,2]');
    expect(canonicalJson({ a: [{ b: 2, a: 1 }, 'x'] })).toBe('{"a":[{"a":1,"b":2},"x"]}');
  });

  it('sorts unicode keys by UTF-16 code units', () => {
    // U+1F600 is a surrogate pair starting 0xD83D, which sorts before U+FB01 (0xFB01).
    expect(canonicalJson({ '\uFB01': 1, '😀': 2, é: 3, a: 4 })).toBe('{"a":4,"é":3,"😀":2,"ﬁ":1}');
  });

  it('prints numbers and strings as JSON.stringify does', () => {
    expect(canonicalJson({ n: [1e21, 0.1, -0, 1.5e-7], s: 'a"b\n\u0001' })).toBe(
      `{"n":[1e+21,0.1,0,1.5e-7],"s":${JSON.stringify('a"b\n\u0001')}}`,
    );
  });

  it.each([
    ['undefined', undefined],
    ['a function', () => 1],
    ['a symbol', Symbol('s')],
    ['a bigint', 10n],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['a Date', new Date(0)],
    ['a Map', new Map()],
  ])('refuses %s with BadInputError', (_name, v) => {
    expect(() => canonicalJson(v)).toThrow(BadInputError);
    expect(() => canonicalJson({ nested: [v] })).toThrow(/not JSON/);
  });

  it('names the JSON Pointer of a bad nested value', () => {
    try {
      canonicalJson({ a: { 'b/c': [1, undefined] } });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(BadInputError);
      expect((err as BadInputError).details).toEqual({ path: '/a/b~1c/1' });
    }
  });

  it('refuses strings and keys holding a lone surrogate, naming their pointer', () => {
    const details = (v: unknown): unknown => {
      try {
        canonicalJson(v);
      } catch (err) {
        expect(err).toBeInstanceOf(BadInputError);
        expect((err as BadInputError).message).toMatch(/not well-formed Unicode: it contains a lone UTF-16 surrogate/);
        return (err as BadInputError).details;
      }
      throw new Error('expected a BadInputError');
    };
    expect(details('\ud800')).toEqual({ path: '' });
    expect(details({ a: ['x', { b: 'y\udc00' }] })).toEqual({ path: '/a/1/b' });
    expect(details({ a: { '\ud800~': 1 } })).toEqual({ path: '/a/\ufffd~0' });
    expect(() => contentHash({ x: '\ud800' })).toThrow(BadInputError);
  });

  it('accepts and keeps surrogate pairs', () => {
    expect(canonicalJson({ '😀': '\ud83d\ude00' })).toBe('{"😀":"😀"}');
  });

  it('refuses a cycle instead of overflowing', () => {
    const a: Record<string, unknown> = { x: 1 };
    a.me = a;
    expect(() => canonicalJson(a)).toThrow(/circular/);
  });

  it('accepts a value referenced twice (not a cycle)', () => {
    const shared = { k: 1 };
    expect(canonicalJson({ a: shared, b: shared })).toBe('{"a":{"k":1},"b":{"k":1}}');
  });

  it('handles 1,000 levels of nesting', () => {
    let v: unknown = 0;
    for (let i = 0; i < 1000; i++) v = i % 2 === 0 ? [v] : { k: v };
    const out = canonicalJson(v);
    expect(out.length).toBeGreaterThan(3000);
    expect(JSON.parse(out)).toEqual(v);
  });
});

describe('contentHash', () => {
  it('is the sha256 of the canonical string: {}', () => {
    expect(contentHash({})).toBe(sha256('{}'));
    expect(contentHash({})).toBe('44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a');
  });

  it('is the sha256 of the canonical string: {"b":1,"a":[1,2]}', () => {
    expect(contentHash({ b: 1, a: [1, 2] })).toBe(sha256('{"a":[1,2],"b":1}'));
  });

  it('is equal for equal content and different for different content', () => {
    expect(contentHash({ a: 1, b: { c: 2, d: 3 } })).toBe(contentHash({ b: { d: 3, c: 2 }, a: 1 }));
    expect(contentHash({ a: [1, 2] })).not.toBe(contentHash({ a: [2, 1] }));
    expect(contentHash({ a: 1 })).not.toBe(contentHash({ a: '1' }));
  });
});
