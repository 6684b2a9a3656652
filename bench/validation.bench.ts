/**
 * `npx tsx bench/validation.bench.ts`: in-process validation throughput of a
 * realistic ~50 KB config against a ~200-line schema (SchemaCompiler: ajv with
 * allErrors, ajv-formats, patterns on RE2). For comparison, the same schema on
 * ajv with JavaScript's own RegExp (what RE2 costs). Env: BENCH_SECONDS (per scenario, default 3).
 */
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { canonicalJson } from '../src/domain/canonical-json.js';
import type { JsonObject } from '../src/domain/json.js';
import { SchemaCompiler } from '../src/validation/schema-compiler.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);

const str = (extra: JsonObject = {}): JsonObject => ({ type: 'string', ...extra });
const int = (minimum: number, maximum: number): JsonObject => ({ type: 'integer', minimum, maximum });
const obj = (properties: JsonObject, required: string[] = []): JsonObject => ({
  type: 'object',
  additionalProperties: false,
  required,
  properties,
});

/** A service platform's config schema: services with endpoints, resources, health checks and feature flags. */
function buildSchema(): JsonObject {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'Platform config',
    $defs: {
      name: str({ pattern: '^[a-z][a-z0-9-]{1,62}$' }),
      duration: str({ pattern: '^[0-9]+(ms|s|m|h)$' }),
      endpoint: obj({
        path: str({ pattern: '^/[A-Za-z0-9/_{}.-]*$' }),
        method: { enum: ['GET', 'POST', 'PUT', 'DELETE'] },
        upstream: str({ format: 'uri' }),
        timeout: { $ref: '#/$defs/duration' },
        retries: int(0, 10),
        auth: { enum: ['none', 'jwt', 'mtls'] },
      }, ['path', 'method', 'upstream']),
      feature: obj({
        key: { $ref: '#/$defs/name' },
        enabled: { type: 'boolean' },
        rollout: { type: 'number', minimum: 0, maximum: 1 },
      }, ['key', 'enabled']),
      service: obj({
        name: { $ref: '#/$defs/name' },
        owner: str({ format: 'email' }),
        image: str({ pattern: '^[a-z0-9./-]+:[A-Za-z0-9._-]+$' }),
        replicas: int(1, 500),
        createdAt: str({ format: 'date-time' }),
        resources: obj({ cpu: { type: 'number', exclusiveMinimum: 0, maximum: 64 }, memoryMb: int(64, 262144) }, ['cpu', 'memoryMb']),
        endpoints: { type: 'array', items: { $ref: '#/$defs/endpoint' }, maxItems: 100 },
        env: { type: 'object', propertyNames: { pattern: '^[A-Z][A-Z0-9_]*$' }, additionalProperties: str({ maxLength: 4096 }) },
        healthCheck: obj({ path: str({ pattern: '^/' }), interval: { $ref: '#/$defs/duration' }, failureThreshold: int(1, 20) }, ['path']),
        features: { type: 'array', items: { $ref: '#/$defs/feature' } },
      }, ['name', 'owner', 'image', 'replicas', 'resources', 'endpoints']),
    },
    ...obj({
      version: str({ pattern: '^[0-9]+\\.[0-9]+\\.[0-9]+$' }),
      environment: { enum: ['development', 'staging', 'production'] },
      updatedAt: str({ format: 'date-time' }),
      services: { type: 'array', items: { $ref: '#/$defs/service' }, minItems: 1, maxItems: 1000 },
    }, ['version', 'environment', 'services']),
  };
}

function buildConfig(services: number): JsonObject {
  return {
    version: '4.12.0',
    environment: 'production',
    updatedAt: '2025-03-14T09:26:53Z',
    services: Array.from({ length: services }, (_, s) => ({
      name: `svc-${s}`,
      owner: `team-${s % 7}@example.com`,
      image: `registry.example.com/svc-${s}:1.${s}.0`,
      replicas: 3 + (s % 5),
      createdAt: `2024-0${1 + (s % 9)}-1${s % 10}T12:00:00.000Z`,
      resources: { cpu: 0.5 + (s % 4), memoryMb: 512 * (1 + (s % 4)) },
      endpoints: Array.from({ length: 4 }, (_, e) => ({
        path: `/api/v${e}/svc-${s}/{id}`,
        method: ['GET', 'POST', 'PUT', 'DELETE'][e]!,
        upstream: `http://svc-${s}.internal:80${e}0/v${e}`,
        timeout: `${250 * (e + 1)}ms`,
        retries: e,
        auth: e === 0 ? 'none' : 'jwt',
      })),
      env: { LOG_LEVEL: 'info', REGION: 'eu-west-1', FEATURE_SET: `set-${s % 3}`, DB_POOL_SIZE: String(10 + s) },
      healthCheck: { path: '/healthz', interval: '10s', failureThreshold: 3 },
      features: Array.from({ length: 3 }, (_, f) => ({ key: `flag-${s}-${f}`, enabled: f % 2 === 0, rollout: f / 3 })),
    })),
  };
}

/** The config with `n` distinct problems spread over its services. */
function breakConfig(config: JsonObject, n: number): JsonObject {
  const broken = structuredClone(config) as { services: Array<Record<string, unknown>> };
  for (let i = 0; i < n; i++) {
    const svc = broken.services[(i * 3) % broken.services.length]!;
    if (i % 3 === 0) svc.replicas = 0;
    else if (i % 3 === 1) svc.owner = 'not-an-email';
    else svc.image = 'Bad Image';
  }
  return broken as unknown as JsonObject;
}

function measure(run: () => unknown): { perSecond: number; meanUs: number } {
  for (let i = 0; i < 50; i++) run(); // warm-up
  let n = 0;
  const started = performance.now();
  const until = started + SECONDS * 1000;
  while (performance.now() < until) {
    for (let i = 0; i < 20; i++) run();
    n += 20;
  }
  const elapsedMs = performance.now() - started;
  return { perSecond: Math.round((n / elapsedMs) * 1000), meanUs: Math.round((elapsedMs / n) * 1000 * 10) / 10 };
}

const schema = buildSchema();
let services = 1;
while (Buffer.byteLength(canonicalJson(buildConfig(services + 1))) <= 50 * 1024) services++;
const config = buildConfig(services);
const invalid = breakConfig(config, 10);

const compiler = new SchemaCompiler({ maxSchemaBytes: 512 * 1024 });
let started = performance.now();
const compiled = compiler.compile(schema);
const compileMs = performance.now() - started;
started = performance.now();
for (let i = 0; i < 100; i++) compiler.compile(structuredClone(schema));
const cachedCompileUs = ((performance.now() - started) / 100) * 1000;

const valid = compiled.validate(config);
if (valid.length > 0) throw new Error(`the benchmark config should be valid: ${JSON.stringify(valid.slice(0, 3))}`);
const issues = compiled.validate(invalid);

const nativeAjv = new Ajv2020.default({ allErrors: true, strict: false, verbose: true });
addFormats.default(nativeAjv);
const native = nativeAjv.compile(schema);

console.log(`config: ${Buffer.byteLength(JSON.stringify(config)).toLocaleString('en-US')} bytes of JSON (${services} services); ` +
  `schema: ${JSON.stringify(schema, null, 2).split('\n').length} lines pretty-printed, ${Buffer.byteLength(JSON.stringify(schema))} bytes`);
console.log(`compile (first): ${compileMs.toFixed(1)} ms; compile of an equal schema (cache hit, hash included): ${cachedCompileUs.toFixed(0)} µs; ajv compilations: ${compiler.compiledCount}`);
console.log(`invalid config: ${issues.length} issues, e.g. ${JSON.stringify(issues[0])}`);
console.log(`measuring ${SECONDS} s per scenario…`);

const rows = {
  'valid 50 KB config (RE2)': measure(() => compiled.validate(config)),
  [`invalid config, ${issues.length} issues (RE2)`]: measure(() => compiled.validate(invalid)),
  'cache lookup + validate (RE2)': measure(() => compiler.compile(schema).validate(config)),
  'valid config, native RegExp (comparison only)': measure(() => native(config)),
};
console.table(Object.fromEntries(Object.entries(rows).map(([k, v]) => [k, { 'validations/s': v.perSecond, 'mean µs': v.meanUs }])));
