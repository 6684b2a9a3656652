import type { ErrorObject } from 'ajv';
import type { ValidationIssue } from '../domain/errors.js';
import { escapePointerSegment } from '../domain/json-pointer.js';
import { quoteForMessage } from '../domain/text.js';

/** Most issues one validation reports; the last one says how many more there were. */
export const MAX_VALIDATION_ISSUES = 100;

/** Enum values listed in a message before "… (N more)". */
const ENUM_SHOWN = 10;

const COMPARISON: Record<string, string> = { '<=': '≤', '>=': '≥', '<': '<', '>': '>' };

type Params = Record<string, unknown>;

/**
 * Maps ajv errors (collected with `allErrors` and `verbose`) to issues a person
 * can act on: `path` is a JSON Pointer into the config (ajv's `instancePath`,
 * plus the property for `required`, `dependentRequired`, `additionalProperties`,
 * `unevaluatedProperties` and `propertyNames`), `keyword` is the failing JSON
 * Schema keyword, and `message` says what is expected and what was found.
 * ajv's summary error for `propertyNames` is dropped when the inner error for
 * the same name is reported. At most `limit` issues; when cut, the last one's
 * message ends with "… and N more".
 */
export function toIssues(errors: readonly ErrorObject[], limit = MAX_VALIDATION_ISSUES): ValidationIssue[] {
  const namesWithInnerError = new Set<string>();
  for (const e of errors) {
    if (e.propertyName !== undefined) namesWithInnerError.add(`${e.instancePath}\u0000${e.propertyName}`);
  }
  const issues: ValidationIssue[] = [];
  for (const e of errors) {
    const params = e.params as Params;
    if (e.keyword === 'propertyNames' && namesWithInnerError.has(`${e.instancePath}\u0000${String(params.propertyName)}`)) continue;
    issues.push(toIssue(e));
  }
  if (issues.length <= limit) return issues;
  const kept = issues.slice(0, limit);
  const last = kept[limit - 1]!;
  kept[limit - 1] = { ...last, message: `${last.message} … and ${issues.length - limit} more` };
  return kept;
}

function toIssue(e: ErrorObject): ValidationIssue {
  const params = e.params as Params;
  const extra = e.propertyName ?? childOf(e.keyword, params);
  const path = extra === undefined ? e.instancePath : `${e.instancePath}/${escapePointerSegment(extra)}`;
  let message = describe(e, params);
  if (e.propertyName !== undefined) message = `property name ${quote(e.propertyName)} ${message}`;
  return { path, keyword: e.keyword, message };
}

/** The property an error is about, below `instancePath`, when ajv reports it in `params`. */
function childOf(keyword: string, params: Params): string | undefined {
  const key =
    keyword === 'required' || keyword === 'dependentRequired' || keyword === 'dependencies'
      ? params.missingProperty
      : keyword === 'additionalProperties'
        ? params.additionalProperty
        : keyword === 'unevaluatedProperties'
          ? params.unevaluatedProperty
          : keyword === 'propertyNames'
            ? params.propertyName
            : undefined;
  return typeof key === 'string' ? key : undefined;
}

function describe(e: ErrorObject, params: Params): string {
  const data: unknown = e.data;
  switch (e.keyword) {
    case 'required':
      return `${quote(params.missingProperty)} is required`;
    case 'dependentRequired':
    case 'dependencies':
      if (params.missingProperty === undefined) break;
      return `${quote(params.missingProperty)} is required when ${quote(params.property)} is present`;
    case 'type':
      return `must be ${[params.type].flat().join(' or ')}, got ${jsonType(data)}`;
    case 'enum':
      return `must be one of ${listValues(params.allowedValues)}, got ${show(data)}`;
    case 'const':
      return `must be ${show(params.allowedValue)}, got ${show(data)}`;
    case 'maximum':
    case 'minimum':
    case 'exclusiveMaximum':
    case 'exclusiveMinimum':
      return `must be ${COMPARISON[String(params.comparison)] ?? String(params.comparison)} ${String(params.limit)}, got ${show(data)}`;
    case 'maxLength':
    case 'minLength':
      return `must be ${atMostOrLeast(e.keyword)} ${count(params.limit, 'character')} long, got ${typeof data === 'string' ? Array.from(data).length : '?'}`;
    case 'maxItems':
    case 'minItems':
      return `must have ${atMostOrLeast(e.keyword)} ${count(params.limit, 'item')}, got ${Array.isArray(data) ? data.length : '?'}`;
    case 'maxProperties':
    case 'minProperties':
      return `must have ${atMostOrLeast(e.keyword)} ${count(params.limit, 'property', 'properties')}, got ${data !== null && typeof data === 'object' ? Object.keys(data).length : '?'}`;
    case 'additionalProperties':
      return `unknown property ${quote(params.additionalProperty)} is not allowed`;
    case 'unevaluatedProperties':
      return `property ${quote(params.unevaluatedProperty)} is not allowed (no subschema accepts it)`;
    case 'pattern':
      return `must match the pattern ${String(params.pattern)}`;
    case 'format':
      return `must be a valid ${String(params.format)}`;
    case 'multipleOf':
      return `must be a multiple of ${String(params.multipleOf)}, got ${show(data)}`;
    case 'uniqueItems':
      return `must not contain duplicates: items ${String(params.j)} and ${String(params.i)} are equal`;
    case 'propertyNames':
      return `property name ${quote(params.propertyName)} is not allowed`;
  }
  return e.message ?? `fails the ${e.keyword} keyword`;
}

function atMostOrLeast(keyword: string): string {
  return keyword.startsWith('max') ? 'at most' : 'at least';
}

function count(n: unknown, one: string, many = `${one}s`): string {
  return `${String(n)} ${n === 1 ? one : many}`;
}

function quote(v: unknown): string {
  return quoteForMessage(String(v), 80);
}

/** A JSON value for a message, cut so a huge value is never echoed whole. */
function show(v: unknown): string {
  if (typeof v === 'string') return quoteForMessage(v, 80);
  if (v === null || typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `an array of ${count(v.length, 'item')}`;
  if (typeof v === 'object') return 'an object';
  return String(v);
}

function listValues(values: unknown): string {
  if (!Array.isArray(values)) return show(values);
  const shown = values.slice(0, ENUM_SHOWN).map(show).join(', ');
  return values.length > ENUM_SHOWN ? `${shown}, … (${values.length - ENUM_SHOWN} more)` : shown;
}

/** JSON Schema's name of a value's type: integer for whole numbers, array, null. */
function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}
