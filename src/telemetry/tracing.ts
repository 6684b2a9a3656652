import { type Context, context, propagation, ROOT_CONTEXT, type Span, type Tracer, trace } from '@opentelemetry/api';

/** Our spans' tracer; a no-op until an SDK is registered (src/instrumentation.ts, or a test's provider). */
export function tracer(): Tracer {
  return trace.getTracer('hotswap');
}

/** The W3C traceparent of `span`, or null when tracing is off (no propagator or a span that is not sampled). */
export function traceparentOf(span: Span): string | null {
  if (!span.isRecording()) return null;
  const carrier: Record<string, string> = {};
  propagation.inject(trace.setSpan(ROOT_CONTEXT, span), carrier);
  return carrier.traceparent ?? null;
}

/** A context whose parent is the span of `traceparent`; the active context when there is none. */
export function contextOf(traceparent: string | null | undefined): Context {
  if (!traceparent) return context.active();
  return propagation.extract(ROOT_CONTEXT, { traceparent });
}
