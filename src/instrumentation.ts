/**
 * Loaded with `node --import` before the service (see package.json `start`), so
 * the OpenTelemetry hooks are in place before http, graphql, pg and ioredis are
 * imported. Tracing is on only when OTEL_EXPORTER_OTLP_ENDPOINT is set.
 */
import { register } from 'node:module';
import { ConfigError, loadConfig } from './config.js';
import { INSTRUMENTED_MODULES, startTracing } from './telemetry/tracing-sdk.js';

let config: ReturnType<typeof loadConfig> | undefined;
try {
  config = loadConfig();
} catch (error) {
  // main.ts reports configuration errors; without a valid configuration there is nothing to trace.
  if (!(error instanceof ConfigError)) throw error;
}
if (config?.otlpEndpoint !== undefined) {
  // Only the modules instrumented in tracing-sdk.ts go through the ESM hook:
  // hooking every module breaks ESM wrappers over CommonJS (MikroORM's
  // index.mjs imports a default export that the hook's proxy does not have).
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url, { data: { include: [...INSTRUMENTED_MODULES] } });
  startTracing(config.otelServiceName);
}
