import { type Context, context, propagation, ROOT_CONTEXT, type Span, type Tracer, trace } from '@opentelemetry/api';

/** Our spans' tracer; a no-op until an SDK is registered (src/instrumentation.ts, or a test's provider). */
export function tracer(): Tracer {
  return trace.getTracer('hotswap');
}

/**
 * The W3C traceparent of `span`, or null when tracing is off. An unsampled
 * span keeps its context (flags 00), so the caller's choice not to sample
 * carries through every later step instead of starting new traces.
 */
export function traceparentOf(span: Span): string | null {
  if (!trace.isSpanContextValid(span.spanContext())) return null;
  const carrier: Record<string, string> = {};
  propagation.inject(trace.setSpan(ROOT_CONTEXT, span), carrier);
  return carrier.traceparent ?? null;
}

/** A context whose parent is the span of `traceparent`; the active context when there is none. */
export function contextOf(traceparent: string | null | undefined): Context {
  if (!traceparent) return context.active();
  return propagation.extract(ROOT_CONTEXT, { traceparent });
}
