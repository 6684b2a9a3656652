import { describe, expect, it } from 'vitest';
import { create } from 'jsondiffpatch';
import { diffConfigs, walkChanges } from '../../../src/domain/diff.js';
import { ChangeOp } from '../../../src/domain/enums.js';
import type { JsonObject } from '../../../src/domain/json.js';

const { ADD, REMOVE, REPLACE } = ChangeOp;

describe('diffConfigs', () => {
  it('returns null delta and no changes for equal configs', () => {
    const a: JsonObject = { x: 1, y: { z: [1, { k: 'v' }] } };
    const b: JsonObject = { y: { z: [1, { k: 'v' }] }, x: 1 };
    expect(diffConfigs(a, b)).toEqual({ delta: null, changes: [] });
  });

  it('reports a changed leaf as REPLACE with before and after', () => {
    const { changes } = diffConfigs({ a: { b: 1 } }, { a: { b: 2 } });
    expect(changes).toEqual([{ op: REPLACE, path: '/a/b', before: 1, after: 2 }]);
  });

  it('gives the jsondiffpatch delta, which patches before into after', () => {
    const before: JsonObject = { a: 1, list: [1, 2, 3], gone: true };
    const after: JsonObject = { a: 2, list: [1, 3], added: { deep: [1] } };
    const { delta } = diffConfigs(before, after);
    expect(delta).toMatchObject({ a: [1, 2], gone: [true, 0, 0], added: [{ deep: [1] }] });
    const patched = create().patch(structuredClone(before), delta as never);
    expect(patched).toEqual(after);
  });

  it('reports an added key holding an object as one ADD of the subtree', () => {
    const { changes } = diffConfigs({}, { feature: { on: true, limits: { max: 3 } } });
    expect(changes).toEqual([{ op: ADD, path: '/feature', after: { on: true, limits: { max: 3 } } }]);
    expect(changes[0]).not.toHaveProperty('before');
  });

  it('reports a removed key as one REMOVE carrying only before', () => {
    const { changes } = diffConfigs({ old: [1, 2], keep: 1 }, { keep: 1 });
    expect(changes).toEqual([{ op: REMOVE, path: '/old', before: [1, 2] }]);
    expect(changes[0]).not.toHaveProperty('after');
  });

  it.each([
    ['object → array', { a: { x: 1 } }, { a: [1] }],
    ['number → string', { a: 1 }, { a: '1' }],
    ['null → object', { a: null }, { a: {} }],
    ['boolean → number', { a: true }, { a: 1 }],
  ])('a type change (%s) is one REPLACE of the subtree', (_n, before, after) => {
    const { changes } = diffConfigs(before as JsonObject, after as JsonObject);
    expect(changes).toEqual([{ op: REPLACE, path: '/a', before: before.a, after: after.a }]);
  });

  it('compares arrays by index, extra elements being ADD/REMOVE at their index', () => {
    expect(diffConfigs({ l: [1, 2] }, { l: [1, 5, 6, 7] }).changes).toEqual([
      { op: REPLACE, path: '/l/1', before: 2, after: 5 },
      { op: ADD, path: '/l/2', after: 6 },
      { op: ADD, path: '/l/3', after: 7 },
    ]);
    expect(diffConfigs({ l: [1, 2, 3] }, { l: [1] }).changes).toEqual([
      { op: REMOVE, path: '/l/1', before: 2 },
      { op: REMOVE, path: '/l/2', before: 3 },
    ]);
  });

  it('escapes keys in paths per RFC 6901', () => {
    const { changes } = diffConfigs({ 'a/b~c': 1 }, { 'a/b~c': 2 });
    expect(changes[0]?.path).toBe('/a~1b~0c');
  });

  it('lists changes in document order with keys sorted, whatever the insertion order', () => {
    const before: JsonObject = { z: 1, a: { y: 1, b: 1 }, m: [0, { q: 1 }] };
    const after: JsonObject = { m: [0, { q: 2 }], a: { b: 2, y: 2, c: 0 }, z: 2 };
    expect(diffConfigs(before, after).changes.map((c) => `${c.op} ${c.path}`)).toEqual([
      'REPLACE /a/b',
      'ADD /a/c',
      'REPLACE /a/y',
      'REPLACE /m/1/q',
      'REPLACE /z',
    ]);
  });

  it('does not let the delta alias the inputs', () => {
    const after: JsonObject = { added: { x: 1 } };
    const { delta } = diffConfigs({}, after);
    (after.added as JsonObject).x = 99;
    expect(delta).toEqual({ added: [{ x: 1 }] });
  });
});

describe('walkChanges', () => {
  it('replaces differing roots as the empty pointer', () => {
    expect(walkChanges(1, 'x')).toEqual([{ op: REPLACE, path: '', before: 1, after: 'x' }]);
  });

  it('walks 5,000 levels without recursion', () => {
    let a: JsonObject = { leaf: 1 };
    let b: JsonObject = { leaf: 2 };
    for (let i = 0; i < 5000; i++) {
      a = { n: a };
      b = { n: b };
    }
    const changes = walkChanges(a, b);
    expect(changes).toHaveLength(1);
    expect(changes[0]?.path).toBe(`${'/n'.repeat(5000)}/leaf`);
  });
});
