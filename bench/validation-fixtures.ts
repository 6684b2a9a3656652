/** The realistic config and schema of the validation benchmarks (bench/validation.bench.ts, bench/http.bench.ts). */
import type { JsonObject } from '../src/domain/json.js';

const str = (extra: JsonObject = {}): JsonObject => ({ type: 'string', ...extra });
const int = (minimum: number, maximum: number): JsonObject => ({ type: 'integer', minimum, maximum });
const obj = (properties: JsonObject, required: string[] = []): JsonObject => ({
  type: 'object',
  additionalProperties: false,
  required,
  properties,
});

/** A service platform's config schema: services with endpoints, resources, health checks and feature flags. */
export function buildSchema(): JsonObject {
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

export function buildConfig(services: number): JsonObject {
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
export function breakConfig(config: JsonObject, n: number): JsonObject {
  const broken = structuredClone(config) as { services: Array<Record<string, unknown>> };
  for (let i = 0; i < n; i++) {
    const svc = broken.services[(i * 3) % broken.services.length]!;
    if (i % 3 === 0) svc.replicas = 0;
    else if (i % 3 === 1) svc.owner = 'not-an-email';
    else svc.image = 'Bad Image';
  }
  return broken as unknown as JsonObject;
}

