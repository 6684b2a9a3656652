import { create } from 'jsondiffpatch';
import { ChangeOp } from './enums.js';
import { isJsonObject, type JsonObject, type JsonValue } from './json.js';
import { toPointer } from './json-pointer.js';

/**
 * One changed leaf or subtree. `path` is an RFC 6901 JSON Pointer. ADD carries
 * only `after`, REMOVE only `before`, REPLACE both. Values share structure with
 * the compared configs (they are not copies).
 */
export interface ConfigChange {
  op: ChangeOp;
  path: string;
  before?: JsonValue;
  after?: JsonValue;
}

/** The difference between two configs, in two shapes. */
export interface ConfigDiff {
  /** jsondiffpatch delta; `null` when the configs are equal. */
  delta: unknown | null;
  /** Flat list of changes, in walk order (sorted keys, ascending indexes). */
  changes: ConfigChange[];
}

/**
 * Compares two configs.
 *
 * `changes` comes from our own walk: objects by key (in sorted key order),
 * arrays by index (extra elements are ADD/REMOVE at their index), a value whose
 * JSON type differs is one REPLACE of the subtree, and an added or removed key
 * is one ADD/REMOVE of its whole subtree. Equal configs give `changes: []` and
 * `delta: null`.
 */
export function diffConfigs(before: JsonObject, after: JsonObject): ConfigDiff {
  const changes = walkChanges(before, after);
  if (changes.length === 0) return { delta: null, changes };
  // A fresh instance per call: nothing is created at import time.
  const delta: unknown = create({ cloneDiffValues: true }).diff(before, after);
  return { delta: delta === undefined ? null : delta, changes };
}

type Kind = 'null' | 'boolean' | 'number' | 'string' | 'array' | 'object';

function kindOf(v: JsonValue): Kind {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v as Kind;
}

type Item =
  | { compare: true; path: ReadonlyArray<string | number>; before: JsonValue; after: JsonValue }
  | { compare: false; change: ConfigChange };

/**
 * The flat change list between two JSON values: an iterative pre-order walk (no
 * recursion), so output is in document order whatever the nesting depth.
 * Exported for callers that diff values other than whole configs.
 */
export function walkChanges(before: JsonValue, after: JsonValue): ConfigChange[] {
  const changes: ConfigChange[] = [];
  const stack: Item[] = [{ compare: true, path: [], before, after }];
  while (stack.length > 0) {
    const item = stack.pop()!;
    if (!item.compare) {
      changes.push(item.change);
      continue;
    }
    const { path, before: b, after: a } = item;
    if (kindOf(b) !== kindOf(a) || (!isContainer(b) && b !== a)) {
      changes.push({ op: ChangeOp.REPLACE, path: toPointer(path), before: b, after: a });
      continue;
    }
    const next: Item[] = [];
    if (Array.isArray(b) && Array.isArray(a)) {
      for (let i = 0; i < Math.max(b.length, a.length); i++) {
        next.push(childItem([...path, i], b, a, i, i < b.length, i < a.length));
      }
    } else if (isJsonObject(b) && isJsonObject(a)) {
      const keys = [...new Set([...Object.keys(b), ...Object.keys(a)])].sort();
      for (const key of keys) {
        next.push(childItem([...path, key], b, a, key, Object.hasOwn(b, key), Object.hasOwn(a, key)));
      }
    }
    // Reversed onto the stack so the first child is handled first.
    for (let i = next.length - 1; i >= 0; i--) stack.push(next[i]!);
  }
  return changes;
}

function isContainer(v: JsonValue): boolean {
  return typeof v === 'object' && v !== null;
}

function childItem<K extends string | number>(
  path: ReadonlyArray<string | number>,
  b: Readonly<Record<K, JsonValue>>,
  a: Readonly<Record<K, JsonValue>>,
  key: K,
  inBefore: boolean,
  inAfter: boolean,
): Item {
  if (!inBefore) return { compare: false, change: { op: ChangeOp.ADD, path: toPointer(path), after: a[key] } };
  if (!inAfter) return { compare: false, change: { op: ChangeOp.REMOVE, path: toPointer(path), before: b[key] } };
  return { compare: true, path, before: b[key], after: a[key] };
}
