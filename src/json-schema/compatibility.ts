import { canonicalJson } from '../domain/canonical-json.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../domain/json.js';
import { parsePointer, toPointer } from '../domain/json-pointer.js';

/** What kind of change may make a config valid under the previous schema invalid under the next. */
export type BreakingChangeKind =
  /** A property is newly in `required` (or in `dependentRequired` / `dependencies`). */
  | 'REQUIRED_ADDED'
  /** A type allowed before is no longer allowed (`integer` is narrower than `number`), or the subschema became `false`. */
  | 'TYPE_NARROWED'
  /** Values were removed from `enum`. */
  | 'ENUM_VALUE_REMOVED'
  /** An `enum` now limits a value that was free. */
  | 'ENUM_ADDED'
  /** `const` was added or changed. */
  | 'CONST_CHANGED'
  /** A property was removed from `properties` while `additionalProperties` is false. */
  | 'PROPERTY_REMOVED'
  /** `additionalProperties` changed from allowed to `false`. */
  | 'ADDITIONAL_PROPERTIES_DISALLOWED'
  /** An upper bound was lowered or added, a lower bound raised or added, or `multipleOf` added or changed. */
  | 'BOUND_TIGHTENED'
  | 'PATTERN_ADDED'
  | 'PATTERN_CHANGED'
  /** `format` was added or changed. */
  | 'FORMAT_CHANGED'
  /** `uniqueItems: true` was added. */
  | 'UNIQUE_ITEMS_ADDED'
  /**
   * A keyword this comparison does not analyse (anyOf, oneOf, not, if/then/else,
   * contains, propertyNames, patternProperties, dependentSchemas, unevaluated*)
   * was added or changed: reported so a person reviews it; it may be harmless.
   */
  | 'UNANALYZED_CHANGE';

/** One change of a schema that may make existing configs invalid. */
export interface BreakingChange {
  /**
   * JSON Pointer into the config; a `*` segment stands for every array item
   * (or every additional property) at that place.
   */
  path: string;
  kind: BreakingChangeKind;
  /** e.g. `/server/port: maximum lowered from 65535 to 1024` */
  message: string;
}

const UPPER_BOUNDS = ['maximum', 'exclusiveMaximum', 'maxLength', 'maxItems', 'maxProperties', 'maxContains'];
const LOWER_BOUNDS = ['minimum', 'exclusiveMinimum', 'minLength', 'minItems', 'minProperties', 'minContains'];
const UNANALYZED = ['anyOf', 'oneOf', 'not', 'if', 'then', 'else', 'contains', 'propertyNames', 'patternProperties',
  'dependentSchemas', 'unevaluatedProperties', 'unevaluatedItems'];
/** Deepest config path compared; deeper schemas are not walked further. */
const MAX_PATH_DEPTH = 64;
/** Most subschema pairs compared; past that one UNANALYZED_CHANGE says the report is partial. */
const MAX_VISITS = 20_000;
/** Stands for an absent or `true` subschema (anything allowed) in the cycle guard. */
const ANYTHING: JsonObject = {};

interface Walk {
  prevRoot: JsonObject;
  nextRoot: JsonObject;
  out: BreakingChange[];
  /** Pairs of (previous, next) subschemas being compared on the current path: guards cycles through `$ref`. */
  onStack: Map<object, Set<object>>;
  /** Subschema pairs compared so far (bounded: shared `$ref`s could make the walk exponential). */
  visits: number;
}

/**
 * The breaking changes from `previous` to `next`: changes after which a config
 * valid under `previous` may be invalid under `next`. Pure. Walks `properties`,
 * `additionalProperties`, `items`/`prefixItems` (draft-07 tuples too) and
 * `allOf` recursively, following local `$ref`s (`#`, `#/$defs/x`,
 * `#/definitions/x`) with a cycle guard. Loosening (bounds relaxed, enum values
 * added, properties made optional), new optional properties and annotations
 * (`title`, `description`, `examples`, `default`) are not reported.
 */
export function compareSchemas(previous: JsonObject, next: JsonObject): BreakingChange[] {
  const walk: Walk = { prevRoot: previous, nextRoot: next, out: [], onStack: new Map(), visits: 0 };
  compare(walk, previous, next, []);
  return walk.out;
}

function compare(w: Walk, prevRaw: JsonValue | undefined, nextRaw: JsonValue | undefined, path: string[]): void {
  const prevKey = isJsonObject(prevRaw) ? prevRaw : ANYTHING;
  const nextKey = isJsonObject(nextRaw) ? nextRaw : ANYTHING;
  const onStack = w.onStack.get(prevKey) ?? new Set<object>();
  if (onStack.has(nextKey) || path.length > MAX_PATH_DEPTH) return; // a cycle through $ref
  if (++w.visits > MAX_VISITS) {
    if (w.visits === MAX_VISITS + 1) {
      w.out.push({ path: '', kind: 'UNANALYZED_CHANGE', message: `(root): comparison stopped after ${MAX_VISITS} subschemas; review the rest by hand` });
    }
    return;
  }
  onStack.add(nextKey);
  w.onStack.set(prevKey, onStack);
  try {
    compareNode(w, prevRaw, nextRaw, path);
  } finally {
    onStack.delete(nextKey);
  }
}

function compareNode(w: Walk, prevRaw: JsonValue | undefined, nextRaw: JsonValue | undefined, path: string[]): void {
  const p = effective(prevRaw, w.prevRoot);
  const n = effective(nextRaw, w.nextRoot);
  const report = (kind: BreakingChangeKind, message: string, at: string[] = path): void => {
    const pointer = toPointer(at);
    w.out.push({ path: pointer, kind, message: `${pointer === '' ? '(root)' : pointer}: ${message}` });
  };
  if (p === false) return; // nothing was valid before: nothing can break
  if (n === false) return report('TYPE_NARROWED', 'no value is allowed any more (the schema is false)');

  checkType(p, n, report);
  checkValues(p, n, report);
  checkBounds(p, n, report);
  checkRequired(p, n, path, report);
  compareProperties(w, p, n, path, report);
  compareItems(w, p, n, path);
  const prevAll = Array.isArray(p.allOf) ? p.allOf : [];
  if (Array.isArray(n.allOf)) n.allOf.forEach((sub, i) => compare(w, prevAll[i], sub, path));
  for (const keyword of UNANALYZED) {
    if (n[keyword] === undefined || (p[keyword] !== undefined && same(p[keyword], n[keyword]))) continue;
    report('UNANALYZED_CHANGE', `${keyword} ${p[keyword] === undefined ? 'added' : 'changed'}; it is not analysed here, review it by hand`);
  }
}

type Report = (kind: BreakingChangeKind, message: string, at?: string[]) => void;

function checkType(p: JsonObject, n: JsonObject, report: Report): void {
  const before = typesOf(p);
  const after = typesOf(n);
  if (after === null) return;
  const lost = before === null ? ['any type'] : before.filter((t) => !allows(after, t));
  if (lost.length === 0) return;
  report('TYPE_NARROWED', `type narrowed from ${before === null ? 'any type' : before.join(' | ')} to ${after.join(' | ')}`);
}

function checkValues(p: JsonObject, n: JsonObject, report: Report): void {
  if (Array.isArray(n.enum)) {
    if (!Array.isArray(p.enum)) {
      report('ENUM_ADDED', `enum added: only ${n.enum.map(show).join(', ')} allowed`);
    } else {
      const nextEnum = n.enum;
      const removed = p.enum.filter((v) => !nextEnum.some((x) => same(x, v)));
      if (removed.length > 0) report('ENUM_VALUE_REMOVED', `enum value${removed.length === 1 ? '' : 's'} removed: ${removed.map(show).join(', ')}`);
    }
  }
  if (n.const !== undefined && (p.const === undefined || !same(p.const, n.const))) {
    report('CONST_CHANGED', p.const === undefined ? `const added: ${show(n.const)}` : `const changed from ${show(p.const)} to ${show(n.const)}`);
  }
  for (const [keyword, added, changed] of [['pattern', 'PATTERN_ADDED', 'PATTERN_CHANGED'], ['format', 'FORMAT_CHANGED', 'FORMAT_CHANGED']] as const) {
    const before = p[keyword];
    const after = n[keyword];
    if (typeof after !== 'string' || before === after) continue;
    if (typeof before !== 'string') report(added, `${keyword} added: ${after}`);
    else report(changed, `${keyword} changed from ${before} to ${after}`);
  }
  if (n.uniqueItems === true && p.uniqueItems !== true) report('UNIQUE_ITEMS_ADDED', 'uniqueItems added: duplicate items are no longer allowed');
}

function checkBounds(p: JsonObject, n: JsonObject, report: Report): void {
  for (const [keywords, tighter, verb] of [[UPPER_BOUNDS, -1, 'lowered'], [LOWER_BOUNDS, 1, 'raised']] as const) {
    for (const keyword of keywords) {
      const after = n[keyword];
      if (typeof after !== 'number') continue;
      const before = p[keyword];
      if (typeof before !== 'number') report('BOUND_TIGHTENED', `${keyword} added: ${after}`);
      else if (Math.sign(after - before) === tighter) report('BOUND_TIGHTENED', `${keyword} ${verb} from ${before} to ${after}`);
    }
  }
  const after = n.multipleOf;
  const before = p.multipleOf;
  if (typeof after !== 'number' || after <= 0 || before === after) return;
  if (typeof before !== 'number') report('BOUND_TIGHTENED', `multipleOf added: ${after}`);
  else if (!Number.isInteger(before / after)) report('BOUND_TIGHTENED', `multipleOf changed from ${before} to ${after}`);
}

function checkRequired(p: JsonObject, n: JsonObject, path: string[], report: Report): void {
  const before = new Set(strings(p.required));
  for (const name of strings(n.required)) {
    if (!before.has(name)) report('REQUIRED_ADDED', 'newly required', [...path, name]);
  }
  for (const keyword of ['dependentRequired', 'dependencies']) {
    const after = n[keyword];
    if (!isJsonObject(after)) continue;
    const prevDeps = isJsonObject(p[keyword]) ? (p[keyword] as JsonObject) : {};
    const prevAlt = isJsonObject(p[keyword === 'dependencies' ? 'dependentRequired' : 'dependencies'])
      ? (p[keyword === 'dependencies' ? 'dependentRequired' : 'dependencies'] as JsonObject)
      : {};
    for (const [trigger, deps] of Object.entries(after)) {
      const had = new Set([...strings(prevDeps[trigger]), ...strings(prevAlt[trigger]), ...before]);
      for (const dep of strings(deps)) {
        if (!had.has(dep)) report('REQUIRED_ADDED', `newly required when ${JSON.stringify(trigger)} is present`, [...path, dep]);
      }
    }
  }
}

function compareProperties(w: Walk, p: JsonObject, n: JsonObject, path: string[], report: Report): void {
  const before = isJsonObject(p.properties) ? p.properties : {};
  const after = isJsonObject(n.properties) ? n.properties : {};
  const closedBefore = p.additionalProperties === false;
  const closedAfter = n.additionalProperties === false;
  for (const [name, sub] of Object.entries(before)) {
    if (Object.hasOwn(after, name)) compare(w, sub, after[name], [...path, name]);
    else if (closedAfter) report('PROPERTY_REMOVED', 'property removed while additionalProperties is false', [...path, name]);
    else compare(w, sub, n.additionalProperties, [...path, name]);
  }
  if (closedAfter && !closedBefore) {
    const known = Object.keys(after).map((k) => JSON.stringify(k));
    report('ADDITIONAL_PROPERTIES_DISALLOWED', `additionalProperties changed to false: properties other than ${known.length > 0 ? known.join(', ') : '(none)'} are no longer allowed`);
  } else if (!closedBefore && !closedAfter) {
    compare(w, p.additionalProperties, n.additionalProperties, [...path, '*']);
  }
}

/** Tuples (`prefixItems`, draft-07 `items: [...]`) position by position, then the rest (`items`, `additionalItems`). */
function compareItems(w: Walk, p: JsonObject, n: JsonObject, path: string[]): void {
  const before = tupleOf(p);
  const after = tupleOf(n);
  const restBefore = restOf(p);
  const restAfter = restOf(n);
  for (let i = 0; i < Math.max(before.length, after.length); i++) {
    compare(w, i < before.length ? before[i] : restBefore, i < after.length ? after[i] : restAfter, [...path, String(i)]);
  }
  compare(w, restBefore, restAfter, [...path, '*']);
}

function tupleOf(s: JsonObject): JsonValue[] {
  if (Array.isArray(s.prefixItems)) return s.prefixItems;
  return Array.isArray(s.items) ? s.items : [];
}

function restOf(s: JsonObject): JsonValue | undefined {
  return Array.isArray(s.items) ? s.additionalItems : s.items;
}

/** A subschema with local `$ref`s followed (siblings of `$ref` kept); `false` when nothing is valid. */
function effective(raw: JsonValue | undefined, root: JsonObject): JsonObject | false {
  if (raw === false) return false;
  if (!isJsonObject(raw)) return {};
  let node = raw;
  const followed = new Set<string>();
  while (typeof node.$ref === 'string' && !followed.has(node.$ref) && followed.size < 32) {
    followed.add(node.$ref);
    const target = resolveLocalRef(node.$ref, root);
    if (target === undefined) break;
    if (target === false) return false;
    const { $ref: _ref, ...siblings } = node;
    node = { ...target, ...siblings };
  }
  return node;
}

function resolveLocalRef(ref: string, root: JsonObject): JsonObject | false | undefined {
  if (!ref.startsWith('#')) return undefined;
  let segments: string[];
  try {
    segments = parsePointer(decodeURIComponent(ref.slice(1)));
  } catch {
    return undefined; // an anchor (#name) or a malformed pointer: not followed
  }
  let node: JsonValue | undefined = root;
  for (const segment of segments) {
    if (Array.isArray(node)) node = node[Number(segment)];
    else if (isJsonObject(node) && Object.hasOwn(node, segment)) node = node[segment];
    else return undefined;
  }
  if (node === false) return false;
  if (node === true) return {};
  return isJsonObject(node) ? node : undefined;
}

function typesOf(s: JsonObject): string[] | null {
  if (typeof s.type === 'string') return [s.type];
  if (Array.isArray(s.type)) return s.type.filter((t): t is string => typeof t === 'string');
  return null;
}

function allows(types: string[], t: string): boolean {
  return types.includes(t) || (t === 'integer' && types.includes('number'));
}

function strings(v: JsonValue | undefined): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

function same(a: JsonValue, b: JsonValue): boolean {
  return a === b || canonicalJson(a) === canonicalJson(b);
}

function show(v: JsonValue): string {
  const text = JSON.stringify(v);
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}
