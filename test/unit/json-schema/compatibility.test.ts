import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../../../src/domain/json.js';
import { compareSchemas } from '../../../src/json-schema/compatibility.js';

/** An object schema with one property `x` holding `sub`. */
const withX = (sub: JsonObject, extra: JsonObject = {}): JsonObject => ({ type: 'object', properties: { x: sub }, ...extra });

describe('compareSchemas: breaking changes', () => {
  it('a property newly required, at the property\'s path', () => {
    expect(compareSchemas(withX({ type: 'string' }), withX({ type: 'string' }, { required: ['x'] }))).toEqual([
      { path: '/x', kind: 'REQUIRED_ADDED', message: '/x: newly required' },
    ]);
  });

  it('a property newly required when another is present (dependentRequired)', () => {
    expect(compareSchemas(withX({}), withX({}, { dependentRequired: { tls: ['cert'] } }))).toEqual([
      { path: '/cert', kind: 'REQUIRED_ADDED', message: '/cert: newly required when "tls" is present' },
    ]);
  });

  it.each([
    [{ type: 'number' }, { type: 'integer' }, '/x: type narrowed from number to integer'],
    [{ type: ['string', 'null'] }, { type: 'string' }, '/x: type narrowed from string | null to string'],
    [{}, { type: 'boolean' }, '/x: type narrowed from any type to boolean'],
    [{ description: 'anything' }, false, '/x: no value is allowed any more (the schema is false)'],
  ])('a type narrowed: %j → %j', (before, after, message) => {
    expect(compareSchemas(withX(before as JsonObject), { type: 'object', properties: { x: after } })).toEqual([
      { path: '/x', kind: 'TYPE_NARROWED', message },
    ]);
  });

  it('enum values removed, and an enum added to a free value', () => {
    expect(compareSchemas(withX({ enum: ['dev', 'qa', 'prod'] }), withX({ enum: ['prod', 'dev'] }))).toEqual([
      { path: '/x', kind: 'ENUM_VALUE_REMOVED', message: '/x: enum value removed: "qa"' },
    ]);
    expect(compareSchemas(withX({ type: 'string' }), withX({ type: 'string', enum: ['a', 'b'] }))).toEqual([
      { path: '/x', kind: 'ENUM_ADDED', message: '/x: enum added: only "a", "b" allowed' },
    ]);
  });

  it('a property removed while additionalProperties is false', () => {
    const before: JsonObject = { type: 'object', additionalProperties: false, properties: { host: { type: 'string' }, port: {} } };
    const after: JsonObject = { type: 'object', additionalProperties: false, properties: { port: {} } };
    expect(compareSchemas(before, after)).toEqual([
      { path: '/host', kind: 'PROPERTY_REMOVED', message: '/host: property removed while additionalProperties is false' },
    ]);
  });

  it('additionalProperties changed from allowed to false', () => {
    expect(compareSchemas(withX({}), withX({}, { additionalProperties: false }))).toEqual([
      {
        path: '',
        kind: 'ADDITIONAL_PROPERTIES_DISALLOWED',
        message: '(root): additionalProperties changed to false: properties other than "x" are no longer allowed',
      },
    ]);
  });

  it.each([
    ['maximum', { maximum: 65535 }, { maximum: 1024 }, 'maximum lowered from 65535 to 1024'],
    ['exclusiveMaximum added', {}, { exclusiveMaximum: 10 }, 'exclusiveMaximum added: 10'],
    ['maxLength', { maxLength: 64 }, { maxLength: 32 }, 'maxLength lowered from 64 to 32'],
    ['maxItems', { maxItems: 10 }, { maxItems: 5 }, 'maxItems lowered from 10 to 5'],
    ['maxProperties', {}, { maxProperties: 3 }, 'maxProperties added: 3'],
    ['minimum', { minimum: 0 }, { minimum: 1 }, 'minimum raised from 0 to 1'],
    ['exclusiveMinimum', { exclusiveMinimum: 0 }, { exclusiveMinimum: 5 }, 'exclusiveMinimum raised from 0 to 5'],
    ['minLength added', {}, { minLength: 1 }, 'minLength added: 1'],
    ['minItems', { minItems: 1 }, { minItems: 2 }, 'minItems raised from 1 to 2'],
    ['multipleOf', { multipleOf: 2 }, { multipleOf: 3 }, 'multipleOf changed from 2 to 3'],
  ])('a bound tightened: %s', (_name, before, after, message) => {
    expect(compareSchemas(withX(before), withX(after))).toEqual([{ path: '/x', kind: 'BOUND_TIGHTENED', message: `/x: ${message}` }]);
  });

  it('a pattern added or changed', () => {
    expect(compareSchemas(withX({ type: 'string' }), withX({ type: 'string', pattern: '^[a-z]+$' }))).toEqual([
      { path: '/x', kind: 'PATTERN_ADDED', message: '/x: pattern added: ^[a-z]+$' },
    ]);
    expect(compareSchemas(withX({ pattern: '^[a-z]+$' }), withX({ pattern: '^[a-c]+$' }))).toEqual([
      { path: '/x', kind: 'PATTERN_CHANGED', message: '/x: pattern changed from ^[a-z]+$ to ^[a-c]+$' },
    ]);
  });

  it('format, const and uniqueItems added', () => {
    expect(compareSchemas(withX({}), withX({ format: 'email', const: 'a@b.c' })).map((c) => c.kind)).toEqual(['CONST_CHANGED', 'FORMAT_CHANGED']);
    expect(compareSchemas(withX({ type: 'array' }), withX({ type: 'array', uniqueItems: true }))[0]?.kind).toBe('UNIQUE_ITEMS_ADDED');
  });

  it('flags keywords it does not analyse for review', () => {
    expect(compareSchemas(withX({}), withX({ anyOf: [{ type: 'string' }, { type: 'integer' }] }))).toEqual([
      { path: '/x', kind: 'UNANALYZED_CHANGE', message: '/x: anyOf added; it is not analysed here, review it by hand' },
    ]);
  });
});

describe('compareSchemas: what is not breaking', () => {
  it.each([
    ['bounds loosened', { maximum: 10, minLength: 3 }, { maximum: 20, minLength: 1 }],
    ['a bound removed', { maxItems: 3 }, {}],
    ['enum values added', { enum: ['a'] }, { enum: ['a', 'b'] }],
    ['type widened', { type: 'integer' }, { type: ['number', 'null'] }],
    ['pattern removed', { pattern: '^a' }, {}],
    ['multipleOf relaxed to a divisor', { multipleOf: 4 }, { multipleOf: 2 }],
    ['descriptions and titles', { description: 'old' }, { description: 'new', title: 'X', examples: [1] }],
    ['the same schema', { type: 'string', format: 'email' }, { type: 'string', format: 'email' }],
  ])('%s', (_name, before, after) => {
    expect(compareSchemas(withX(before), withX(after))).toEqual([]);
  });

  it('an optional property added, required removed, additionalProperties false → true', () => {
    const before: JsonObject = { type: 'object', required: ['a'], additionalProperties: false, properties: { a: {} } };
    const after: JsonObject = { type: 'object', additionalProperties: true, properties: { a: {}, b: { type: 'string' } } };
    expect(compareSchemas(before, after)).toEqual([]);
  });
});

describe('compareSchemas: paths and references', () => {
  it('reports nested paths, array items as * and escaped keys', () => {
    const before: JsonObject = withX({}, {
      properties: {
        server: { type: 'object', properties: { port: { type: 'integer', maximum: 65535 } } },
        routes: { type: 'array', items: { type: 'object', properties: { 'a/b': { type: 'string' } } } },
      },
    });
    const after: JsonObject = withX({}, {
      properties: {
        server: { type: 'object', properties: { port: { type: 'integer', maximum: 1024 } } },
        routes: { type: 'array', items: { type: 'object', required: ['a/b'], properties: { 'a/b': { type: 'string' } } } },
      },
    });
    expect(compareSchemas(before, after)).toEqual([
      { path: '/server/port', kind: 'BOUND_TIGHTENED', message: '/server/port: maximum lowered from 65535 to 1024' },
      { path: '/routes/*/a~1b', kind: 'REQUIRED_ADDED', message: '/routes/*/a~1b: newly required' },
    ]);
  });

  it('compares tuples position by position (prefixItems and draft-07 items arrays)', () => {
    expect(compareSchemas({ prefixItems: [{ type: 'string' }, {}] }, { prefixItems: [{ type: 'string' }, { type: 'integer' }] })).toEqual([
      { path: '/1', kind: 'TYPE_NARROWED', message: '/1: type narrowed from any type to integer' },
    ]);
    expect(compareSchemas({ items: [{ maxLength: 5 }] }, { items: [{ maxLength: 4 }], additionalItems: false })).toEqual([
      { path: '/0', kind: 'BOUND_TIGHTENED', message: '/0: maxLength lowered from 5 to 4' },
      { path: '/*', kind: 'TYPE_NARROWED', message: '/*: no value is allowed any more (the schema is false)' },
    ]);
  });

  it('follows #/$defs and #/definitions references on both sides', () => {
    const before: JsonObject = { $defs: { port: { type: 'integer', maximum: 65535 } }, properties: { a: { $ref: '#/$defs/port' }, b: { $ref: '#/$defs/port' } } };
    const after: JsonObject = { definitions: { p: { type: 'integer', maximum: 80 } }, properties: { a: { $ref: '#/definitions/p' }, b: { type: 'integer' } } };
    expect(compareSchemas(before, after)).toEqual([{ path: '/a', kind: 'BOUND_TIGHTENED', message: '/a: maximum lowered from 65535 to 80' }]);
  });

  it('stops at cycles of references (recursive schemas)', () => {
    const tree = (max: number): JsonObject => ({
      $defs: { node: { type: 'object', properties: { name: { maxLength: max }, children: { type: 'array', items: { $ref: '#/$defs/node' } } } } },
      $ref: '#/$defs/node',
    });
    expect(compareSchemas(tree(10), tree(5))).toEqual([
      { path: '/name', kind: 'BOUND_TIGHTENED', message: '/name: maxLength lowered from 10 to 5' },
      { path: '/children/*/name', kind: 'BOUND_TIGHTENED', message: '/children/*/name: maxLength lowered from 10 to 5' },
    ]);
  });

  it('compares allOf entries and additionalProperties schemas', () => {
    const before: JsonObject = { allOf: [{ required: ['a'] }], additionalProperties: { type: 'number' } };
    const after: JsonObject = { allOf: [{ required: ['a', 'b'] }], additionalProperties: { type: 'integer' } };
    expect(compareSchemas(before, after).map((c) => `${c.kind} ${c.path}`)).toEqual(['TYPE_NARROWED /*', 'REQUIRED_ADDED /b']);
  });
});
