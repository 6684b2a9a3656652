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
 *
 * `delta` is a jsondiffpatch delta built from the same walk, so it costs time and
 * memory linear in the size of the configs (jsondiffpatch's own LCS array diff
 * is quadratic). Arrays are compared by index, never by moves: a changed element
 * at index `i` is key `"i"`, an element appended at `i` is `"i": [new]`, an
 * element cut off at `i` is `"_i": [old, 0, 0]`. Values in the delta are copies.
 */
export function diffConfigs(before: JsonObject, after: JsonObject): ConfigDiff {
  const { changes, delta } = walk(before, after, true);
  return { delta: changes.length === 0 ? null : delta, changes };
}

/**
 * The flat change list between two JSON values: an iterative pre-order walk (no
 * recursion), so output is in document order whatever the nesting depth.
 * Exported for callers that diff values other than whole configs.
 */
export function walkChanges(before: JsonValue, after: JsonValue): ConfigChange[] {
  return walk(before, after, false).changes;
}

type Kind = 'null' | 'boolean' | 'number' | 'string' | 'array' | 'object';

function kindOf(v: JsonValue): Kind {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v as Kind;
}

/** An object delta, or an array delta (`_t: 'a'`). */
type DeltaNode = Record<string, unknown>;

/**
 * The delta node of one container pair being compared. The node is created and
 * hooked into its parent only when the first change below it is recorded, so
 * unchanged subtrees leave nothing behind and keys keep walk order.
 */
interface DeltaFrame {
  node: DeltaNode | null;
  array: boolean;
  /** null for the root. */
  parent: DeltaFrame | null;
  /** Key of this node in the parent's delta. */
  key: string;
}

type Item =
  | {
      compare: true;
      path: ReadonlyArray<string | number>;
      before: JsonValue;
      after: JsonValue;
      /** Delta of the enclosing container, null at the root. */
      frame: DeltaFrame | null;
      deltaKey: string;
    }
  | { compare: false; change: ConfigChange; frame: DeltaFrame | null; deltaKey: string };

interface WalkResult {
  changes: ConfigChange[];
  /** undefined when there is no change or when the delta was not asked for. */
  delta: unknown;
}

function walk(before: JsonValue, after: JsonValue, withDelta: boolean): WalkResult {
  const changes: ConfigChange[] = [];
  const result: WalkResult = { changes, delta: undefined };
  const record = (change: ConfigChange, frame: DeltaFrame | null, deltaKey: string): void => {
    changes.push(change);
    if (!withDelta) return;
    const entry = deltaEntry(change);
    if (frame === null) result.delta = entry;
    else setOwn(ensureNode(frame, result), deltaKey, entry);
  };
  const stack: Item[] = [{ compare: true, path: [], before, after, frame: null, deltaKey: '' }];
  while (stack.length > 0) {
    const item = stack.pop()!;
    if (!item.compare) {
      record(item.change, item.frame, item.deltaKey);
      continue;
    }
    const { path, before: b, after: a } = item;
    if (kindOf(b) !== kindOf(a) || (!isContainer(b) && b !== a)) {
      record({ op: ChangeOp.REPLACE, path: toPointer(path), before: b, after: a }, item.frame, item.deltaKey);
      continue;
    }
    const next: Item[] = [];
    if (Array.isArray(b) && Array.isArray(a)) {
      const frame: DeltaFrame = { node: null, array: true, parent: item.frame, key: item.deltaKey };
      for (let i = 0; i < Math.max(b.length, a.length); i++) {
        // Removals are keyed by their index in the old array, everything else
        // by the index in the new one; with index-wise comparison they agree.
        const deltaKey = i < a.length ? String(i) : `_${i}`;
        next.push(childItem([...path, i], b, a, i, i < b.length, i < a.length, frame, deltaKey));
      }
    } else if (isJsonObject(b) && isJsonObject(a)) {
      const frame: DeltaFrame = { node: null, array: false, parent: item.frame, key: item.deltaKey };
      const keys = [...new Set([...Object.keys(b), ...Object.keys(a)])].sort();
      for (const key of keys) {
        next.push(childItem([...path, key], b, a, key, Object.hasOwn(b, key), Object.hasOwn(a, key), frame, key));
      }
    }
    // Reversed onto the stack so the first child is handled first.
    for (let i = next.length - 1; i >= 0; i--) stack.push(next[i]!);
  }
  return result;
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
  frame: DeltaFrame,
  deltaKey: string,
): Item {
  if (!inBefore) {
    return { compare: false, change: { op: ChangeOp.ADD, path: toPointer(path), after: a[key] }, frame, deltaKey };
  }
  if (!inAfter) {
    return { compare: false, change: { op: ChangeOp.REMOVE, path: toPointer(path), before: b[key] }, frame, deltaKey };
  }
  return { compare: true, path, before: b[key], after: a[key], frame, deltaKey };
}

/** jsondiffpatch's encoding of one change: `[new]`, `[old, 0, 0]` or `[old, new]`. */
function deltaEntry(change: ConfigChange): unknown[] {
  switch (change.op) {
    case ChangeOp.ADD:
      return [cloneJson(change.after!)];
    case ChangeOp.REMOVE:
      return [cloneJson(change.before!), 0, 0];
    default:
      return [cloneJson(change.before!), cloneJson(change.after!)];
  }
}

/**
 * The frame's delta node, creating it and every missing ancestor (hooked into
 * its parent, the root one into `result.delta`) on first use. Iterative.
 */
function ensureNode(frame: DeltaFrame, result: WalkResult): DeltaNode {
  if (frame.node !== null) return frame.node;
  const missing: DeltaFrame[] = [];
  for (let f: DeltaFrame | null = frame; f !== null && f.node === null; f = f.parent) missing.push(f);
  let node: DeltaNode = {};
  for (let i = missing.length - 1; i >= 0; i--) {
    const f = missing[i]!;
    node = f.array ? { _t: 'a' } : {};
    f.node = node;
    if (f.parent === null) result.delta = node;
    else setOwn(f.parent.node!, f.key, node);
  }
  return node;
}

/** Sets an own enumerable property, even for the key `__proto__`. */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[key] = value;
  }
}

/** A deep copy of a JSON value (iterative; keeps own `__proto__` keys as data). */
function cloneJson(value: JsonValue): JsonValue {
  if (!isContainer(value)) return value;
  const copyOf = (v: JsonValue): JsonValue => (Array.isArray(v) ? [] : {});
  const root = copyOf(value);
  const stack: Array<{ from: JsonValue; to: JsonValue }> = [{ from: value, to: root }];
  while (stack.length > 0) {
    const { from, to } = stack.pop()!;
    const entries: Array<[string | number, JsonValue]> = Array.isArray(from)
      ? from.map((v, i): [number, JsonValue] => [i, v])
      : Object.entries(from as JsonObject);
    for (const [key, child] of entries) {
      const copy = isContainer(child) ? copyOf(child) : child;
      if (Array.isArray(to)) to[key as number] = copy;
      else setOwn(to as JsonObject, key as string, copy);
      if (copy !== child) stack.push({ from: child, to: copy });
    }
  }
  return root;
}
