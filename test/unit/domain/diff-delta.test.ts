import { describe, expect, it } from 'vitest';
import { create } from 'jsondiffpatch';
import { diffConfigs } from '../../../src/domain/diff.js';
import type { JsonObject, JsonValue } from '../../../src/domain/json.js';

const jdp = create();

/** Diffs, then checks that the delta patches before into after and unpatches back. */
function roundTrip(before: JsonObject, after: JsonObject): unknown {
  const { delta } = diffConfigs(before, after);
  expect(delta).not.toBeNull();
  expect(jdp.patch(structuredClone(before), structuredClone(delta) as never)).toEqual(after);
  expect(jdp.unpatch(structuredClone(after), structuredClone(delta) as never)).toEqual(before);
  return delta;
}

describe('diffConfigs delta (linear, index-wise, jsondiffpatch format)', () => {
  it.each<[string, JsonObject, JsonObject]>([
    ['a changed leaf', { a: 1 }, { a: 2 }],
    ['nested objects', { a: { b: { c: 1, d: 'x' }, e: true } }, { a: { b: { c: 2, d: 'x', f: null }, e: true } }],
    ['keys added and removed', { keep: 1, gone: { deep: [1, 2] } }, { keep: 1, added: { deep: [3] } }],
    ['an array growing', { l: [1, 2] }, { l: [1, 2, 3, 4, 5] }],
    ['an array shrinking', { l: [1, 2, 3, 4, 5] }, { l: [1, 2] }],
    ['an array element modified', { l: [1, 2, 3] }, { l: [1, 20, 3] }],
    ['an array changed, grown and shrunk at once', { l: [1, 2, 3], m: ['a'] }, { l: [9], m: ['b', 'c', 'd'] }],
    ['an array reversed', { l: [1, 2, 3, 4, 5, 6] }, { l: [6, 5, 4, 3, 2, 1] }],
    [
      'nested arrays in objects in arrays',
      { l: [{ m: [[1, 2], [3]], n: 1 }, { m: [] }] },
      { l: [{ m: [[1, 5], [3, 4], [6]], n: 1 }, { m: [{ x: [1] }] }, { m: [0] }] },
    ],
    ['element objects modified in place', { l: [{ id: 1, v: 'a' }, { id: 2, v: 'b' }] }, { l: [{ id: 1, v: 'A' }, { id: 2, v: 'b' }] }],
    ['object → array', { a: { x: 1 } }, { a: [1] }],
    ['array → object', { a: [1] }, { a: { x: 1 } }],
    ['array → scalar', { a: [1, 2] }, { a: 'x' }],
    ['scalar → object', { a: 3 }, { a: { b: 3 } }],
    ['null → array', { a: null }, { a: [] }],
    ['type changes inside an array', { l: [1, [2], { a: 3 }, 'x'] }, { l: [[1], { a: 2 }, 3, null] }],
    ['keys with / and ~', { 'a/b': { '~c': 1, 'd~1': [1] } }, { 'a/b': { '~c': 2, 'd~1': [1, 2], '/': 0 } }],
    ['empty object → non-empty', { o: {} }, { o: { a: 1, b: [2] } }],
    ['non-empty object → empty', { o: { a: 1, b: [2] } }, { o: {} }],
    ['empty array → non-empty', { l: [] }, { l: [1, { a: 2 }, [3]] }],
    ['non-empty array → empty', { l: [1, { a: 2 }, [3]] }, { l: [] }],
    ['empty config → non-empty', {}, { a: 1, b: { c: [1] } }],
    ['non-empty config → empty', { a: 1, b: { c: [1] } }, {}],
    ['values that look like deltas', { a: [1], b: [1, 2], c: [1, 0, 0] }, { a: [1, 0, 0], b: [[1]], c: [2], d: [1, 2] }],
    ['unicode keys and values', { 'ключ': 'значение', '😀': [1] }, { 'ключ': 'знач', '😀': [1, '😀'] }],
  ])('patches and unpatches: %s', (_name, before, after) => {
    roundTrip(before, after);
  });

  it('encodes object changes as [new], [old, new] and [old, 0, 0]', () => {
    expect(diffConfigs({ m: 1, r: 'x', n: { k: 1 } }, { m: 2, a: { v: [1] }, n: { k: 2 } }).delta).toEqual({
      a: [{ v: [1] }],
      m: [1, 2],
      n: { k: [1, 2] },
      r: ['x', 0, 0],
    });
  });

  it('encodes arrays index-wise: modifications and additions by new index, removals as _index', () => {
    expect(diffConfigs({ l: [1, 2, 3] }, { l: [1, 5] }).delta).toEqual({ l: { _t: 'a', 1: [2, 5], _2: [3, 0, 0] } });
    expect(diffConfigs({ l: [1] }, { l: [0, 1, 2] }).delta).toEqual({ l: { _t: 'a', 0: [1, 0], 1: [1], 2: [2] } });
    expect(diffConfigs({ l: [{ a: 1 }, 2] }, { l: [{ a: 2 }, 2] }).delta).toEqual({ l: { _t: 'a', 0: { a: [1, 2] } } });
  });

  it('encodes a type change as [old, new] of the whole subtree', () => {
    expect(diffConfigs({ a: { x: [1] } }, { a: [{ x: 1 }] }).delta).toEqual({ a: [{ x: [1] }, [{ x: 1 }]] });
    expect(diffConfigs({ l: [[1]] }, { l: [{ 0: 1 }] }).delta).toEqual({ l: { _t: 'a', 0: [[1], { 0: 1 }] } });
  });

  it('leaves unchanged subtrees out of the delta', () => {
    const same = { deep: { list: [1, { x: [2, 3] }] } };
    expect(diffConfigs({ same, l: [{ a: 1 }, { b: 1 }] }, { same: structuredClone(same), l: [{ a: 1 }, { b: 2 }] }).delta).toEqual({
      l: { _t: 'a', 1: { b: [1, 2] } },
    });
  });

  it('keeps null when equal, even for containers compared deeply', () => {
    expect(diffConfigs({ a: [[], {}], b: { c: [1] } }, { b: { c: [1] }, a: [[], {}] }).delta).toBeNull();
  });

  it('keeps a __proto__ key as data, not as a prototype', () => {
    const before = JSON.parse('{"o":{"__proto__":{"x":1}}}') as JsonObject;
    const after = JSON.parse('{"o":{"__proto__":{"x":2}},"n":{"__proto__":[1]}}') as JsonObject;
    const delta = diffConfigs(before, after).delta as Record<string, Record<string, unknown>>;
    expect(Object.getPrototypeOf(delta.o)).toBe(Object.prototype);
    expect(Object.hasOwn(delta.o!, '__proto__')).toBe(true);
    expect(JSON.stringify(delta)).toBe('{"n":[{"__proto__":[1]}],"o":{"__proto__":{"x":[1,2]}}}');
  });

  it('round-trips 300 pseudo-random configs and mutations of them', () => {
    // mulberry32: a small seeded PRNG, so failures are reproducible.
    let seed = 0x5eed;
    const rand = (n: number): number => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return (((t ^ (t >>> 14)) >>> 0) % n);
    };
    const keys = ['a', 'b', 'c', 'd/e', 'f~g', '0'];
    const gen = (depth: number): JsonValue => {
      const r = rand(depth > 3 ? 5 : 8);
      if (r === 0) return null;
      if (r === 1) return rand(2) === 0;
      if (r === 2) return rand(4);
      if (r === 3) return ['x', 'y', ''][rand(3)]!;
      if (r === 4) return rand(10) - 5;
      if (r === 5) return Array.from({ length: rand(5) }, () => gen(depth + 1));
      return genObject(depth + 1);
    };
    const genObject = (depth: number): JsonObject => {
      const o: JsonObject = {};
      for (const k of keys) if (rand(2) === 0) o[k] = gen(depth);
      return o;
    };
    // A copy of `v` with random edits: leaves replaced, keys added/removed,
    // elements changed, arrays grown or cut, types changed.
    const mutate = (v: JsonValue, depth: number): JsonValue => {
      if (rand(8) === 0) return gen(depth);
      if (Array.isArray(v)) {
        const out = v.map((e) => (rand(3) === 0 ? mutate(e, depth + 1) : e));
        if (rand(3) === 0) out.length = rand(out.length + 1);
        if (rand(3) === 0) for (let n = rand(3) + 1; n > 0; n--) out.push(gen(depth + 1));
        return out;
      }
      if (typeof v === 'object' && v !== null) return mutateObject(v, depth);
      return v;
    };
    const mutateObject = (o: JsonObject, depth: number): JsonObject => {
      const out: JsonObject = {};
      for (const [k, e] of Object.entries(o)) {
        const r = rand(6);
        if (r === 0) continue;
        out[k] = r === 1 ? mutate(e, depth + 1) : e;
      }
      for (const k of keys) if (!(k in out) && rand(6) === 0) out[k] = gen(depth + 1);
      return out;
    };
    let compared = 0;
    for (let i = 0; i < 300; i++) {
      const before = genObject(0);
      const after = mutateObject(before, 0);
      const { delta, changes } = diffConfigs(before, after);
      if (changes.length === 0) {
        expect(delta).toBeNull();
        continue;
      }
      compared++;
      roundTrip(before, after);
    }
    expect(compared).toBeGreaterThan(150);
  });

  it('diffs a 150,000-element array against its reverse in linear time', () => {
    const list = Array.from({ length: 150_000 }, (_, i) => i);
    const before: JsonObject = { a: list };
    const after: JsonObject = { a: [...list].reverse() };
    const start = performance.now();
    const { delta, changes } = diffConfigs(before, after);
    const ms = performance.now() - start;
    // A guard against a quadratic algorithm coming back; the real figure is far lower.
    expect(ms).toBeLessThan(2000);
    expect(changes).toHaveLength(150_000); // every index differs (the length is even)
    expect(jdp.patch(structuredClone(before), delta as never)).toEqual(after);
  });
});
