import { describe, expect, it } from 'vitest';
import { BadInputError } from '../../../src/domain/errors.js';
import { compileRe2, re2Engine } from '../../../src/json-schema/re2-engine.js';
import { SchemaCompiler } from '../../../src/json-schema/schema-compiler.js';

describe('patterns run on RE2 (linear time)', () => {
  it('validates a catastrophic pattern against a long input without hanging', () => {
    const compiled = new SchemaCompiler({ maxSchemaBytes: 512 * 1024 }).compile({
      type: 'object',
      properties: { s: { type: 'string', pattern: '^(a+)+$' } },
    });
    const started = performance.now();
    const issues = compiled.validate({ s: `${'a'.repeat(100_000)}!` });
    const elapsed = performance.now() - started;
    expect(issues).toEqual([{ path: '/s', keyword: 'pattern', message: 'must match the pattern ^(a+)+$' }]);
    // With JavaScript's backtracking RegExp this would not finish in our lifetime.
    expect(elapsed).toBeLessThan(1000);
  });

  it('applies RE2 to patternProperties and propertyNames too', () => {
    const compiled = new SchemaCompiler({ maxSchemaBytes: 512 * 1024 }).compile({
      patternProperties: { '^(x+)+y$': { type: 'integer' } },
      propertyNames: { pattern: '^(x+)+y?$' },
    });
    const long = `${'x'.repeat(50_000)}!`;
    expect(compiled.validate({ [long]: 1, xxy: 'no' }).map((i) => [i.path, i.keyword])).toEqual([
      [`/${long}`, 'pattern'],
      ['/xxy', 'type'],
    ]);
  });

  it('keeps JSON Schema pattern semantics: unanchored, unicode escapes, classes', () => {
    expect(compileRe2('b', 'u').test('abc')).toBe(true);
    expect(compileRe2('^\\u0041\\d{2}$', 'u').test('A12')).toBe(true);
    expect(compileRe2('^\\p{L}+$', 'u').test('héllo')).toBe(true);
    expect(compileRe2('^[a-z]+$', 'u').test('abc1')).toBe(false);
  });

  it('has the shape of ajv\'s RegExpEngine and a distinct toString per pattern', () => {
    expect(typeof re2Engine.code).toBe('string');
    expect(re2Engine('^a$', 'u').toString()).toBe('/^a$/u');
    expect(() => compileRe2('a', 'g')).toThrow(BadInputError);
  });
});

describe('one schema, many configs', () => {
  it('10,000 validations reuse one compiled validator', () => {
    const c = new SchemaCompiler({ maxSchemaBytes: 512 * 1024 });
    const schema = {
      type: 'object',
      required: ['name', 'port'],
      properties: { name: { type: 'string', pattern: '^[a-z-]+$' }, port: { type: 'integer', minimum: 1, maximum: 65535 } },
    };
    let invalid = 0;
    for (let i = 0; i < 10_000; i++) {
      // Each request brings its own copy of the schema: found in the cache by content hash.
      const compiled = c.compile(structuredClone(schema));
      if (compiled.validate({ name: 'svc', port: i }).length > 0) invalid++;
    }
    expect(invalid).toBe(1); // port 0
    expect(c.compiledCount).toBe(1);
    expect(c.cachedCount).toBe(1);
  });
});
