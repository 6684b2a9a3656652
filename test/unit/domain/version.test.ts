import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BadInputError, ConflictError } from '../../../src/domain/errors.js';
import { assertNotDuplicateOfLatest, DEFAULT_MAX_DEPTH, formatBytes, prepareConfig } from '../../../src/domain/version.js';

const limits = { maxBytes: 1024 * 1024, maxDepth: DEFAULT_MAX_DEPTH };

function nested(levels: number): Record<string, unknown> {
  let v: Record<string, unknown> = {};
  for (let i = 1; i < levels; i++) v = { n: v };
  return v;
}

function caught<E>(fn: () => void, type: new (...args: never[]) => E): E {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(type);
    return err as E;
  }
  throw new Error('expected an error');
}

describe('prepareConfig', () => {
  it('returns canonical form, hash, size and a detached copy', () => {
    const input = { b: 'é', a: [1, 2] };
    const p = prepareConfig(input, limits);
    expect(p.canonical).toBe('{"a":[1,2],"b":"é"}');
    expect(p.hash).toBe(createHash('sha256').update('{"a":[1,2],"b":"é"}').digest('hex'));
    expect(p.bytes).toBe(20); // é is two bytes in UTF-8
    expect(p.data).toEqual(input);
    input.a.push(3);
    expect(p.data).toEqual({ a: [1, 2], b: 'é' });
  });

  it.each([
    [[1, 2], 'array'],
    [null, 'null'],
    ['x', 'string'],
    [3, 'number'],
    [new Date(0), 'Date'],
  ])('refuses non-object data %o naming its type', (data, type) => {
    const err = caught(() => prepareConfig(data, limits), BadInputError);
    expect(err.message).toBe(`config data must be a JSON object, got ${type}`);
    expect(err.details).toEqual({ field: 'data' });
  });

  it('accepts exactly maxDepth levels and refuses one more', () => {
    expect(() => prepareConfig(nested(DEFAULT_MAX_DEPTH), limits)).not.toThrow();
    const err = caught(() => prepareConfig(nested(DEFAULT_MAX_DEPTH + 1), limits), BadInputError);
    expect(err.details).toMatchObject({ field: 'data', maxDepth: 64 });
    expect(err.message).toContain('at most 64 levels');
  });

  it('refuses 10,000 levels of nesting with BadInputError, not a stack overflow', () => {
    let v: unknown = [];
    for (let i = 0; i < 10_000; i++) v = [v];
    expect(() => prepareConfig({ deep: v }, limits)).toThrow(BadInputError);
  });

  it('refuses non-JSON values inside, naming the field and the path', () => {
    const err = caught(() => prepareConfig({ a: { b: Number.NaN } }, limits), BadInputError);
    expect(err.details).toEqual({ field: 'data', path: '/a/b' });
    expect(err.message).toMatch(/^config data: /);
  });

  it.each([
    ['a lone high surrogate in a value', { x: '\ud800' }, '/x', 'U+D800'],
    ['a lone low surrogate deep in an array', { a: [{ b: ['ok', 'tail\udc00'] }] }, '/a/0/b/1', 'U+DC00'],
    ['two high surrogates in a row', { s: '\ud83d\ud83d\ude00' }, '/s', 'U+D83D'],
    ['a pair in the wrong order', { s: '\ude00\ud83d' }, '/s', 'U+DE00'],
    ['a lone surrogate in a key', { ok: { 'k\ud800/': 1 } }, '/ok/k\ufffd~1', 'U+D800'],
  ])('refuses %s, naming the field and the JSON Pointer', (_name, data, path, unit) => {
    const err = caught(() => prepareConfig(data, limits), BadInputError);
    expect(err.details).toEqual({ field: 'data', path });
    expect(err.message).toMatch(/^config data: the (string|key) at .* is not well-formed Unicode/);
    expect(err.message).toContain(unit);
    // The message itself is well-formed, so it can be echoed and logged safely.
    expect(err.message).not.toMatch(/\p{Cs}/u);
  });

  it('accepts well-formed text outside the BMP in values and keys', () => {
    const data = { '😀': ['𝄞', 'a😀b'], s: '\ud83d\ude00' };
    expect(prepareConfig(data, limits).data).toEqual(data);
  });

  it('refuses data over maxBytes with both sizes human-readable', () => {
    const data = { blob: 'x'.repeat(1_258_291) }; // + 11 bytes of {"blob":""}
    const err = caught(() => prepareConfig(data, limits), BadInputError);
    expect(err.message).toMatch(/1\.2 MiB .*limit is 1 MiB/);
    expect(err.details).toEqual({ field: 'data', bytes: 1_258_302, maxBytes: 1048576 });
  });

  it('measures the limit on canonical UTF-8 bytes, inclusive', () => {
    const data = { s: 'x'.repeat(100) }; // {"s":"…"} = 108 bytes
    expect(prepareConfig(data, { maxBytes: 108, maxDepth: 8 }).bytes).toBe(108);
    expect(() => prepareConfig(data, { maxBytes: 107, maxDepth: 8 })).toThrow(/108 B .*limit is 107 B/);
  });
});

describe('assertNotDuplicateOfLatest', () => {
  it('passes with no latest version or a different hash', () => {
    expect(() => assertNotDuplicateOfLatest('abc', null, 'p')).not.toThrow();
    expect(() => assertNotDuplicateOfLatest('abc', { version: 3, hash: 'def' }, 'p')).not.toThrow();
  });

  it('refuses identical content, naming version and profile', () => {
    const err = caught(() => assertNotDuplicateOfLatest('abc', { version: 7, hash: 'abc' }, 'checkout'), ConflictError);
    expect(err.message).toContain('content is identical to version 7 of profile checkout');
    expect(err.details).toEqual({ latestVersion: 7 });
  });
});

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [512, '512 B'],
    [1024, '1 KiB'],
    [1536, '1.5 KiB'],
    [1024 * 1024, '1 MiB'],
    [1.2 * 1024 * 1024, '1.2 MiB'],
    [3 * 1024 ** 3, '3 GiB'],
  ])('%d → %s', (n, text) => {
    expect(formatBytes(n)).toBe(text);
  });
});
