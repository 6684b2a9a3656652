import { describe, expect, it } from 'vitest';
import { BadInputError } from '../../../src/domain/errors.js';
import { SchemaCompiler } from '../../../src/json-schema/schema-compiler.js';

const compiler = (): SchemaCompiler => new SchemaCompiler({ maxSchemaBytes: 512 * 1024 });

/** The BadInputError `compile(schema)` throws; fails the test when it does not throw one. */
function refusal(schema: unknown, c: SchemaCompiler = compiler()): BadInputError {
  try {
    c.compile(schema);
  } catch (err) {
    expect(err).toBeInstanceOf(BadInputError);
    const e = err as BadInputError;
    expect(e.details.field).toBe('schema');
    return e;
  }
  throw new Error('expected the schema to be refused');
}

function nested(levels: number): Record<string, unknown> {
  let schema: Record<string, unknown> = { type: 'string' };
  for (let i = 1; i < levels; i++) schema = { not: schema };
  return schema;
}

describe('SchemaCompiler refuses', () => {
  it.each([
    [[], 'array'],
    [null, 'null'],
    ['{"type":"object"}', 'string'],
    [42, 'number'],
    [true, 'boolean'],
  ])('a schema that is not a JSON object: %j', (schema, type) => {
    expect(refusal(schema).message).toBe(`schema must be a JSON object, got ${type}`);
  });

  it('a schema holding values that are not JSON', () => {
    const e = refusal({ type: 'object', default: undefined });
    expect(e.message).toMatch(/^schema: the value at "\/default" is a value of type undefined, which is not JSON/);
  });

  it('a schema larger than maxSchemaBytes, naming both sizes', () => {
    const c = new SchemaCompiler({ maxSchemaBytes: 100 });
    const e = refusal({ type: 'object', description: 'x'.repeat(200) }, c);
    expect(e.message).toBe('schema is 234 bytes (canonical JSON); the limit is 100 bytes');
    expect(e.details).toMatchObject({ bytes: 234, limit: 100 });
  });

  it('a 5 MB schema, before ajv sees it', () => {
    const properties: Record<string, unknown> = {};
    for (let i = 0; i < 25_000; i++) properties[`property_${i}`] = { type: 'string', description: 'd'.repeat(180) };
    const c = compiler();
    const e = refusal({ type: 'object', properties }, c);
    expect(e.message).toMatch(/^schema is 5,\d{3},\d{3} bytes \(canonical JSON\); the limit is 524,288 bytes$/);
    expect(c.compiledCount).toBe(0);
  });

  it('nesting deeper than 64 levels, and accepts 64', () => {
    expect(refusal(nested(65)).message).toBe('schema nests objects and arrays deeper than 64 levels');
    expect(compiler().compile(nested(64)).validate(1)).toHaveLength(0);
  });

  it.each([
    'http://json-schema.org/draft-04/schema#',
    'https://json-schema.org/draft/2019-09/schema',
    'https://json-schema.org/draft-07/schema#',
  ])('$schema %s', (uri) => {
    expect(refusal({ $schema: uri }).message).toContain(
      'is not supported: use "https://json-schema.org/draft/2020-12/schema" (the default when $schema is absent) or "http://json-schema.org/draft-07/schema#"',
    );
  });

  it('a $schema that is not a string', () => {
    expect(refusal({ $schema: 7 }).message).toMatch(/^\$schema number is not supported/);
  });

  it.each([
    [{ properties: { a: { $ref: 'https://example.com/common.json#/$defs/port' } } }, '/properties/a/$ref'],
    [{ items: { $ref: 'common.json' } }, '/items/$ref'],
    [{ $id: 'https://example.com/a.json', allOf: [{ $ref: 'b.json' }] }, '/allOf/0/$ref'],
    [{ $defs: { x: { $dynamicRef: 'https://example.com/x' } } }, '/$defs/x/$dynamicRef'],
  ])('a remote reference %j', (schema, path) => {
    const e = refusal(schema);
    expect(e.message).toMatch(/^remote \$(dynamic)?[rR]ef ".*" at ".*" is not fetched: inline the schema or use a local #\/\$defs reference/);
    expect(e.details.path).toBe(path);
  });

  it('$async schemas (their validators return promises)', () => {
    expect(refusal({ $async: true, type: 'object' }).message).toMatch(/^\$async schemas are not supported/);
  });

  it('a schema ajv cannot compile, with ajv\'s message', () => {
    expect(refusal({ properties: { a: { type: 'strng' } } }).message).toMatch(
      /^schema is invalid: \/properties\/a\/type must be equal to one of the allowed values/,
    );
    expect(refusal({ properties: { a: { $ref: '#/$defs/missing' } } }).message).toBe(
      "schema does not compile: can't resolve reference #/$defs/missing from the root schema",
    );
    expect(refusal({ properties: { a: { $ref: '#/properties/a' } } }).message).toMatch(/^schema does not compile: /);
    expect(refusal({ pattern: '[' }).message).toMatch(/RE2 says: .*missing closing \]/);
  });

  it.each([
    ['a backreference', '(a)\\1'],
    ['lookahead', '^(?=.*\\d).+$'],
    ['negative lookbehind', '(?<!x)y'],
  ])('a pattern RE2 cannot compile: %s', (_what, pattern) => {
    expect(refusal({ properties: { a: { type: 'string', pattern } } }).message).toMatch(/is not supported: patterns must be RE2 syntax/);
    expect(refusal({ patternProperties: { [pattern]: { type: 'string' } } }).message).toMatch(/patterns must be RE2 syntax/);
  });
});

describe('SchemaCompiler accepts local references', () => {
  it.each([
    ['#/$defs', { $defs: { p: { type: 'integer' } }, properties: { a: { $ref: '#/$defs/p' } } }],
    ['the root', { type: 'object', properties: { child: { $ref: '#' } } }],
    ['an anchor', { $defs: { p: { $anchor: 'port', type: 'integer' } }, properties: { a: { $ref: '#port' } } }],
    ['its own absolute $id', { $id: 'https://example.com/c.json', $defs: { p: { type: 'integer' } }, properties: { a: { $ref: 'https://example.com/c.json#/$defs/p' } } }],
    ['an $id inside the schema', { $id: 'https://example.com/c.json', $defs: { p: { $id: 'port.json', type: 'integer' } }, properties: { a: { $ref: 'port.json' } } }],
  ])('%s', (_what, schema) => {
    const compiled = compiler().compile(schema);
    expect(compiled.validate({ a: 'x' }).map((i) => i.path)).toEqual(_what === 'the root' ? [] : ['/a']);
  });

  it('does not take data for references: "$ref" in const, enum, default or as a property name', () => {
    const compiled = compiler().compile({
      properties: { $ref: { type: 'string' }, link: { const: { $ref: 'https://example.com/x' } } },
      default: { $ref: 'https://example.com/y' },
      enum: [{ $ref: 'other.json' }, { link: { $ref: 'https://example.com/x' } }],
    });
    expect(compiled.validate({ link: { $ref: 'https://example.com/x' } })).toEqual([]);
  });
});
