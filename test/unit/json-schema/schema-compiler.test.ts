import { describe, expect, it } from 'vitest';
import { contentHash } from '../../../src/domain/canonical-json.js';
import { BadInputError } from '../../../src/domain/errors.js';
import { SchemaCompiler } from '../../../src/json-schema/schema-compiler.js';

const compiler = (): SchemaCompiler => new SchemaCompiler({ maxSchemaBytes: 512 * 1024 });

describe('SchemaCompiler: drafts', () => {
  it('uses draft 2020-12 when $schema is absent', () => {
    const compiled = compiler().compile({ type: 'object' });
    expect(compiled.draft).toBe('2020-12');
  });

  it.each([
    ['https://json-schema.org/draft/2020-12/schema', '2020-12'],
    ['http://json-schema.org/draft-07/schema#', 'draft-07'],
    ['http://json-schema.org/draft-07/schema', 'draft-07'],
  ])('chooses the draft by $schema %s', (uri, draft) => {
    expect(compiler().compile({ $schema: uri, type: 'string' }).draft).toBe(draft);
  });

  it('draft-07: definitions + $ref, and tuple items with additionalItems', () => {
    const compiled = compiler().compile({
      $schema: 'http://json-schema.org/draft-07/schema#',
      definitions: { port: { type: 'integer', minimum: 1 } },
      type: 'object',
      properties: {
        port: { $ref: '#/definitions/port' },
        pair: { type: 'array', items: [{ type: 'string' }, { type: 'integer' }], additionalItems: false },
      },
    });
    expect(compiled.validate({ port: 80, pair: ['a', 1] })).toEqual([]);
    expect(compiled.validate({ port: 0, pair: ['a', 'b', 3] })).toEqual([
      { path: '/port', keyword: 'minimum', message: 'must be ≥ 1, got 0' },
      { path: '/pair', keyword: 'additionalItems', message: 'must NOT have more than 2 items' },
      { path: '/pair/1', keyword: 'type', message: 'must be integer, got string' },
    ]);
  });

  it('draft-07 ignores the 2020-12 keyword prefixItems', () => {
    const compiled = compiler().compile({ $schema: 'http://json-schema.org/draft-07/schema#', prefixItems: [{ type: 'string' }] });
    expect(compiled.validate([1])).toEqual([]);
  });

  it('2020-12: prefixItems and $defs', () => {
    const compiled = compiler().compile({
      $defs: { name: { type: 'string', minLength: 2 } },
      type: 'array',
      prefixItems: [{ $ref: '#/$defs/name' }, { type: 'boolean' }],
      items: false,
    });
    expect(compiled.validate(['ab', true])).toEqual([]);
    expect(compiled.validate(['a', 1, 'extra'])).toEqual([
      { path: '/0', keyword: 'minLength', message: 'must be at least 2 characters long, got 1' },
      { path: '/1', keyword: 'type', message: 'must be boolean, got integer' },
      { path: '', keyword: 'items', message: 'must NOT have more than 2 items' },
    ]);
  });

  it('2020-12 refuses the draft-07 tuple form of items, with ajv\'s message', () => {
    expect(() => compiler().compile({ items: [{ type: 'string' }] })).toThrow(/schema is invalid: \/items must be object,boolean/);
  });
});

describe('SchemaCompiler: every failure with its path', () => {
  const schema = {
    type: 'object',
    required: ['server', 'a/b'],
    additionalProperties: false,
    properties: {
      server: {
        type: 'object',
        required: ['port'],
        additionalProperties: false,
        properties: { port: { type: 'integer', maximum: 10 }, mode: { enum: ['a', 'b'] } },
      },
      'a/b': { type: 'object', properties: { 'c~d': { type: 'string', pattern: '^[a-z]+$' } } },
      list: { type: 'array', items: { type: 'object', properties: { n: { type: 'number', minimum: 0 } } } },
    },
  };

  it('reports nested, array and escaped paths in one validation', () => {
    const issues = compiler().compile(schema).validate({
      server: { mode: 'c', x: 1 },
      'a/b': { 'c~d': 'ABC' },
      list: [{ n: 1 }, { n: -1 }, { n: 'q' }],
      extra: true,
    });
    expect(issues).toEqual([
      { path: '/extra', keyword: 'additionalProperties', message: 'unknown property "extra" is not allowed' },
      { path: '/server/port', keyword: 'required', message: '"port" is required' },
      { path: '/server/x', keyword: 'additionalProperties', message: 'unknown property "x" is not allowed' },
      { path: '/server/mode', keyword: 'enum', message: 'must be one of "a", "b", got "c"' },
      { path: '/a~1b/c~0d', keyword: 'pattern', message: 'must match the pattern ^[a-z]+$' },
      { path: '/list/1/n', keyword: 'minimum', message: 'must be ≥ 0, got -1' },
      { path: '/list/2/n', keyword: 'type', message: 'must be number, got string' },
    ]);
  });

  it('reports missing required properties whose names need escaping', () => {
    expect(compiler().compile(schema).validate({ server: { port: 12 } })).toEqual([
      { path: '/a~1b', keyword: 'required', message: '"a/b" is required' },
      { path: '/server/port', keyword: 'maximum', message: 'must be ≤ 10, got 12' },
    ]);
  });

  it('returns [] for a valid config', () => {
    expect(compiler().compile(schema).validate({ server: { port: 8 }, 'a/b': {} })).toEqual([]);
  });

  it('points propertyNames failures at the key, once per key', () => {
    const compiled = compiler().compile({ type: 'object', propertyNames: { pattern: '^[a-z]+$' } });
    expect(compiled.validate({ ok: 1, 'Bad/Key': 2 })).toEqual([
      { path: '/Bad~1Key', keyword: 'pattern', message: 'property name "Bad/Key" must match the pattern ^[a-z]+$' },
    ]);
  });

  it('points dependentRequired at the missing property', () => {
    const compiled = compiler().compile({ dependentRequired: { tls: ['cert'] } });
    expect(compiled.validate({ tls: true })).toEqual([
      { path: '/cert', keyword: 'dependentRequired', message: '"cert" is required when "tls" is present' },
    ]);
  });

  it.each([
    [{ type: 'integer' }, 1.5, 'type', 'must be integer, got number'],
    [{ type: ['string', 'null'] }, 3, 'type', 'must be string or null, got integer'],
    [{ const: 'x' }, 'y', 'const', 'must be "x", got "y"'],
    [{ exclusiveMaximum: 10 }, 10, 'exclusiveMaximum', 'must be < 10, got 10'],
    [{ maxLength: 3 }, 'abcd', 'maxLength', 'must be at most 3 characters long, got 4'],
    [{ minItems: 2 }, [1], 'minItems', 'must have at least 2 items, got 1'],
    [{ maxProperties: 1 }, { a: 1, b: 2 }, 'maxProperties', 'must have at most 1 property, got 2'],
    [{ multipleOf: 5 }, 12, 'multipleOf', 'must be a multiple of 5, got 12'],
    [{ uniqueItems: true }, [1, 2, 1], 'uniqueItems', 'must not contain duplicates: items 0 and 2 are equal'],
    [{ format: 'email' }, 'not-an-email', 'format', 'must be a valid email'],
  ])('message for %j against %j', (sch, data, keyword, message) => {
    expect(compiler().compile(sch).validate(data)).toEqual([{ path: '', keyword, message }]);
  });

  it('falls back to ajv\'s message for other keywords', () => {
    const compiled = compiler().compile({ oneOf: [{ type: 'string' }, { type: 'string', minLength: 1 }] });
    expect(compiled.validate('x')).toContainEqual({ path: '', keyword: 'oneOf', message: 'must match exactly one schema in oneOf' });
  });

  it('reports at most 100 issues and says how many more there were', () => {
    const compiled = compiler().compile({ type: 'array', items: { type: 'string' } });
    const issues = compiled.validate(Array.from({ length: 150 }, (_, i) => i));
    expect(issues).toHaveLength(100);
    expect(issues[0]).toEqual({ path: '/0', keyword: 'type', message: 'must be string, got integer' });
    expect(issues[99]!.path).toBe('/99');
    expect(issues[99]!.message).toBe('must be string, got integer … and 50 more');
  });
});

describe('SchemaCompiler: formats', () => {
  const compiled = compiler().compile({
    type: 'object',
    properties: { email: { format: 'email' }, at: { format: 'date-time' }, url: { format: 'uri' } },
  });

  it('accepts valid email, date-time and uri', () => {
    expect(compiled.validate({ email: 'ops@example.com', at: '2024-05-01T12:30:00Z', url: 'https://example.com/a?b=c' })).toEqual([]);
  });

  it('reports each invalid format', () => {
    expect(compiled.validate({ email: 'ops@', at: '2024-13-01', url: 'not a uri' })).toEqual([
      { path: '/email', keyword: 'format', message: 'must be a valid email' },
      { path: '/at', keyword: 'format', message: 'must be a valid date-time' },
      { path: '/url', keyword: 'format', message: 'must be a valid uri' },
    ]);
  });
});

describe('SchemaCompiler: cache', () => {
  it('compiles an equal schema once (key order does not matter) and returns the same validator', () => {
    const c = compiler();
    const a = c.compile({ type: 'object', properties: { x: { type: 'string' } } });
    const b = c.compile({ properties: { x: { type: 'string' } }, type: 'object' });
    expect(b).toBe(a);
    expect(c.compiledCount).toBe(1);
    expect(a.hash).toBe(contentHash({ type: 'object', properties: { x: { type: 'string' } } }));
  });

  it('evicts the least recently used validator beyond cacheSize', () => {
    const c = new SchemaCompiler({ maxSchemaBytes: 1024, cacheSize: 2 });
    const [a, b, d] = [{ minimum: 1 }, { minimum: 2 }, { minimum: 3 }];
    c.compile(a);
    c.compile(b);
    c.compile(a); // a is now the most recently used
    c.compile(d); // evicts b
    expect(c.compiledCount).toBe(3);
    expect(c.cachedCount).toBe(2);
    c.compile(a);
    expect(c.compiledCount).toBe(3);
    c.compile(b);
    expect(c.compiledCount).toBe(4);
  });

  it('keeps working past many distinct schemas (ajv instances are rotated)', () => {
    const c = new SchemaCompiler({ maxSchemaBytes: 1024, cacheSize: 10 });
    for (let i = 0; i < 450; i++) {
      const compiled = c.compile({ $id: 'https://example.com/s.json', type: 'object', properties: { [`p${i}`]: { type: 'string', pattern: `^v${i}$` } } });
      expect(compiled.validate({ [`p${i}`]: `v${i}` })).toEqual([]);
    }
    expect(c.compiledCount).toBe(450);
    expect(c.cachedCount).toBe(10);
  });

  it('does not cache refusals', () => {
    const c = compiler();
    expect(() => c.compile({ type: 'strng' })).toThrow(BadInputError);
    expect(() => c.compile({ type: 'strng' })).toThrow(BadInputError);
    expect(c.cachedCount).toBe(0);
  });
});
