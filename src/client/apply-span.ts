import { context, propagation, ROOT_CONTEXT, SpanStatusCode, trace } from '@opentelemetry/api';
import type { ConfigUpdate } from './types.js';

/**
 * Runs `apply` in a `hotswap.config.apply` span that continues the push's
 * trace (`update.traceparent`), when the service has an OpenTelemetry SDK;
 * a no-op otherwise. Returns the traceparent to send with the ack: the apply
 * span's, else the push's own, so HotSwap can still link the ack to the push.
 */
export async function inApplySpan<T extends { ok: boolean; error?: string }>(
  update: ConfigUpdate,
  apply: () => Promise<T>,
): Promise<{ outcome: T; traceparent: string | null }> {
  const parent = update.traceparent ? propagation.extract(ROOT_CONTEXT, { traceparent: update.traceparent }) : context.active();
  const span = trace.getTracer('hotswap-client').startSpan(
    'hotswap.config.apply',
    {
      attributes: {
        'hotswap.profile': update.profileName,
        'hotswap.version': update.version,
        ...(update.deploymentId !== null && { 'hotswap.deployment.id': update.deploymentId }),
      },
    },
    parent,
  );
  try {
    const outcome = await context.with(trace.setSpan(parent, span), apply);
    if (!outcome.ok) span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.error ?? 'onConfig failed' });
    const carrier: Record<string, string> = {};
    if (span.isRecording()) propagation.inject(trace.setSpan(ROOT_CONTEXT, span), carrier);
    return { outcome, traceparent: carrier.traceparent ?? update.traceparent };
  } finally {
    span.end();
  }
}
