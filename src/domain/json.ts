/** Any JSON value, as `JSON.parse` can produce it. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue };

/** A JSON object (never an array or null). */
export type JsonObject = { [k: string]: JsonValue };

/**
 * True when `v` is a plain object: created by `{}`/`JSON.parse` or with a null
 * prototype. Arrays, `null` and class instances (Date, Map, ...) are not.
 */
export function isJsonObject(v: unknown): v is JsonObject {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * Nesting depth of a JSON value: a scalar is 0, `{}` and `[]` are 1, `{"a":[1]}` is 2.
 *
 * Iterative (an explicit stack, no recursion), so a 10,000-level document cannot
 * overflow the call stack. Counting stops as soon as the depth exceeds `limit`:
 * the result is then `limit + 1`, whatever the real depth is. Cyclic in-memory
 * structures therefore also return `limit + 1` instead of looping.
 *
 * @param value - the value to measure (any JavaScript value; non-containers count 0)
 * @param limit - the deepest nesting the caller accepts
 */
export function jsonDepth(value: unknown, limit: number): number {
  let max = 0;
  // Deepest level at which each container has been visited, so shared
  // sub-objects are not walked again at the same or a shallower depth.
  const seenAt = new WeakMap<object, number>();
  const stack: Array<{ node: unknown; depth: number }> = [{ node: value, depth: 0 }];
  while (stack.length > 0) {
    const { node, depth } = stack.pop()!;
    if (typeof node !== 'object' || node === null) continue;
    const level = depth + 1;
    if (level > limit) return limit + 1;
    const seen = seenAt.get(node);
    if (seen !== undefined && seen >= level) continue;
    seenAt.set(node, level);
    if (level > max) max = level;
    const children: unknown[] = Array.isArray(node) ? node : Object.values(node);
    for (const child of children) {
      if (typeof child === 'object' && child !== null) stack.push({ node: child, depth: level });
    }
  }
  return max;
}

/**
 * A short name of a value's type for error messages: 'null', 'array', 'object',
 * 'string', 'number', 'boolean', 'undefined', 'function', 'symbol', 'bigint', or
 * the class name of a non-plain object (e.g. 'Date').
 */
export function describeJsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v !== 'object') return typeof v;
  if (isJsonObject(v)) return 'object';
  const ctor: unknown = (v as { constructor?: unknown }).constructor;
  const name = typeof ctor === 'function' ? ctor.name : '';
  return name !== '' ? name : 'object';
}
