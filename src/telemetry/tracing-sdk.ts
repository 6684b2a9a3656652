import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { GraphQLInstrumentation } from '@opentelemetry/instrumentation-graphql';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { NodeSDK } from '@opentelemetry/sdk-node';

let sdk: NodeSDK | undefined;

/** The modules the instrumentations below patch: the only ones the ESM loader hook may wrap. */
export const INSTRUMENTED_MODULES = ['http', 'https', 'graphql', 'pg', 'ioredis'] as const;

/**
 * Starts the OpenTelemetry SDK: spans exported over OTLP/HTTP to
 * OTEL_EXPORTER_OTLP_ENDPOINT (the SDK reads the other OTEL_* variables:
 * headers, batch delays), W3C trace context, and instrumentation of
 * HTTP, GraphQL, PostgreSQL and ioredis. Health and metrics endpoints are not traced.
 */
export function startTracing(serviceName: string): void {
  if (sdk) return;
  sdk = new NodeSDK({
    serviceName,
    traceExporter: new OTLPTraceExporter(),
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (req) => ['/healthz', '/readyz', '/metrics'].includes((req.url ?? '').split('?')[0] ?? ''),
      }),
      new GraphQLInstrumentation({ mergeItems: true, ignoreTrivialResolveSpans: true }),
      new PgInstrumentation(),
      new IORedisInstrumentation(),
    ],
  });
  sdk.start();
}

/** Flushes and stops the SDK (a no-op when tracing is off). */
export async function stopTracing(): Promise<void> {
  const running = sdk;
  sdk = undefined;
  await running?.shutdown();
}
