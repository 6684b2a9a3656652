import { describe, expect, it } from 'vitest';
import { describeJsonType, isJsonObject, jsonDepth } from '../../../src/domain/json.js';

function nestedArrays(levels: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < levels; i++) v = [v];
  return v;
}

function nestedObjects(levels: number): unknown {
  let v: unknown = {};
  for (let i = 1; i < levels; i++) v = { a: v };
  return v;
}

describe('isJsonObject', () => {
  it.each([
    [{}, true],
    [{ a: 1 }, true],
    [Object.create(null) as unknown, true],
    [[], false],
    [null, false],
    ['x', false],
    [new Date(0), false],
    [new Map(), false],
  ])('%o → %s', (v, expected) => {
    expect(isJsonObject(v)).toBe(expected);
  });
});

describe('jsonDepth', () => {
  it('counts scalars as 0 and each container level as 1', () => {
    expect(jsonDepth(5, 10)).toBe(0);
    expect(jsonDepth({}, 10)).toBe(1);
    expect(jsonDepth({ a: [1] }, 10)).toBe(2);
    expect(jsonDepth({ a: 1, b: { c: { d: [] } } }, 10)).toBe(4);
  });

  it('reports the deepest branch, not the first one', () => {
    expect(jsonDepth([1, [2], [[3, [4]]]], 10)).toBe(4);
  });

  it('stops at limit + 1', () => {
    expect(jsonDepth(nestedArrays(5), 5)).toBe(5);
    expect(jsonDepth(nestedArrays(6), 5)).toBe(6);
    expect(jsonDepth(nestedArrays(100), 5)).toBe(6);
  });

  it('handles 10,000 levels of arrays and objects without overflowing the stack', () => {
    expect(jsonDepth(nestedArrays(10_000), 64)).toBe(65);
    expect(jsonDepth(nestedObjects(10_000), 64)).toBe(65);
    expect(jsonDepth(nestedArrays(10_000), 20_000)).toBe(10_000);
  });

  it('terminates on a cycle, reporting it as too deep', () => {
    const a: Record<string, unknown> = {};
    a.self = a;
    expect(jsonDepth(a, 64)).toBe(65);
  });
});

describe('describeJsonType', () => {
  it.each([
    [null, 'null'],
    [[1], 'array'],
    [{}, 'object'],
    ['s', 'string'],
    [1, 'number'],
    [true, 'boolean'],
    [undefined, 'undefined'],
    [new Date(0), 'Date'],
  ])('%o is %s', (v, name) => {
    expect(describeJsonType(v)).toBe(name);
  });
});
