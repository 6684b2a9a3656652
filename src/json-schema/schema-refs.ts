import { BadInputError } from '../domain/errors.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../domain/json.js';
import { toPointer } from '../domain/json-pointer.js';
import { quoteForMessage } from '../domain/text.js';

/** Keywords whose value is one subschema. */
const ONE = ['not', 'if', 'then', 'else', 'items', 'additionalItems', 'additionalProperties', 'unevaluatedItems',
  'unevaluatedProperties', 'contains', 'propertyNames', 'contentSchema'];
/** Keywords whose value is an array of subschemas. */
const LIST = ['allOf', 'anyOf', 'oneOf', 'prefixItems', 'items'];
/** Keywords whose value is an object of subschemas. */
const MAP = ['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas', 'dependencies'];
/** Keywords that reference another schema by URI. */
const REF_KEYWORDS = ['$ref', '$dynamicRef', '$recursiveRef'];

/**
 * Base URI of a schema without `$id` (RFC 2606 reserves `.invalid`): references
 * resolve against it, and the compiler gives it to ajv as the root's `$id`. It
 * is only ever compared, never fetched.
 */
export const LOCAL_BASE_URI = 'https://schema.hotswap.invalid/root.json';

interface FoundRef {
  keyword: string;
  ref: string;
  /** Absolute URI without its fragment, or null when the reference cannot be resolved. */
  target: string | null;
  path: Array<string | number>;
}

/**
 * Checks that a schema only references itself: every `$ref` (and `$dynamicRef`,
 * `$recursiveRef`) must start with `#` or resolve to the root or to a
 * subschema's `$id` inside the same schema, so nothing is ever fetched. Walks
 * only schema positions (as ajv does): a `"$ref"` inside `enum`, `const`,
 * `default` or `examples` is data, and a property named `$ref` under
 * `properties` is a property name. Also refuses `$async` schemas, whose
 * validators return promises.
 *
 * @throws BadInputError (`details.field = 'schema'`, `details.path` the JSON
 *   Pointer of the keyword in the schema)
 */
export function assertLocalRefs(schema: JsonObject): void {
  const ids = new Set<string>();
  const refs: FoundRef[] = [];
  ids.add(LOCAL_BASE_URI);
  walk(schema, LOCAL_BASE_URI, [], ids, refs);
  for (const found of refs) {
    if (found.ref.startsWith('#')) continue;
    if (found.target !== null && ids.has(found.target)) continue;
    const at = toPointer([...found.path, found.keyword]);
    const what = `${found.keyword} ${quoteForMessage(found.ref, 120)} at ${quoteForMessage(at, 120)}`;
    const problem = found.target === null ? `${what} is not a URI reference that can be resolved` : `remote ${what} is not fetched`;
    throw new BadInputError(
      `${problem}: inline the schema or use a local #/$defs reference (a $ref must start with "#" or name an $id inside this schema)`,
      { field: 'schema', path: at },
    );
  }
}

function walk(node: JsonValue, base: string, path: Array<string | number>, ids: Set<string>, refs: FoundRef[]): void {
  if (!isJsonObject(node)) return;
  if (node.$async === true) {
    throw new BadInputError(`$async schemas are not supported (at ${quoteForMessage(toPointer(path) || '/', 120)})`, {
      field: 'schema',
      path: toPointer([...path, '$async']),
    });
  }
  if (typeof node.$id === 'string' && !node.$id.startsWith('#')) {
    const id = resolve(node.$id, base);
    if (id !== null) {
      base = id;
      ids.add(withoutFragment(id));
    }
  }
  for (const keyword of REF_KEYWORDS) {
    const ref = node[keyword];
    if (typeof ref !== 'string') continue;
    const target = resolve(ref, base);
    refs.push({ keyword, ref, target: target === null ? null : withoutFragment(target), path: [...path] });
  }
  for (const keyword of ONE) {
    const child = node[keyword];
    if (isJsonObject(child)) walk(child, base, [...path, keyword], ids, refs);
  }
  for (const keyword of LIST) {
    const list = node[keyword];
    if (Array.isArray(list)) list.forEach((child, i) => walk(child, base, [...path, keyword, i], ids, refs));
  }
  for (const keyword of MAP) {
    const map = node[keyword];
    if (!isJsonObject(map)) continue;
    for (const [key, child] of Object.entries(map)) walk(child, base, [...path, keyword, key], ids, refs);
  }
}

function resolve(ref: string, base: string): string | null {
  try {
    return new URL(ref, base).href;
  } catch {
    return null;
  }
}

function withoutFragment(uri: string): string {
  const hash = uri.indexOf('#');
  return hash === -1 ? uri : uri.slice(0, hash);
}
