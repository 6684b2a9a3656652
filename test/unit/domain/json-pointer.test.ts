import { describe, expect, it } from 'vitest';
import { BadInputError } from '../../../src/domain/errors.js';
import { escapePointerSegment, parsePointer, toPointer, unescapePointerSegment } from '../../../src/domain/json-pointer.js';

describe('JSON Pointer', () => {
  it('escapes ~ before / (RFC 6901)', () => {
    expect(escapePointerSegment('a/b~c')).toBe('a~1b~0c');
    expect(escapePointerSegment('~1')).toBe('~01');
  });

  it('unescapes ~1 before ~0', () => {
    expect(unescapePointerSegment('a~1b~0c')).toBe('a/b~c');
    expect(unescapePointerSegment('~01')).toBe('~1');
  });

  it('refuses a bad escape', () => {
    expect(() => unescapePointerSegment('a~2')).toThrow(BadInputError);
    expect(() => unescapePointerSegment('a~')).toThrow(/followed by 0/);
  });

  it('builds pointers, the root being the empty string', () => {
    expect(toPointer([])).toBe('');
    expect(toPointer(['a', 0, 'b/c', ''])).toBe('/a/0/b~1c/');
  });

  it('parses pointers back to segments', () => {
    expect(parsePointer('')).toEqual([]);
    expect(parsePointer('/')).toEqual(['']);
    expect(parsePointer('/a~1b/0/~0')).toEqual(['a/b', '0', '~']);
  });

  it('round-trips any segments', () => {
    const segments = ['x', '~/~1', '', '😀', '0'];
    expect(parsePointer(toPointer(segments))).toEqual(segments);
  });

  it('refuses a pointer that does not start with /', () => {
    expect(() => parsePointer('a/b')).toThrow(BadInputError);
    expect(() => parsePointer('a/b')).toThrow(/start with "\/"/);
  });
});
