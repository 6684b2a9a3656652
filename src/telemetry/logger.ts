import { trace } from '@opentelemetry/api';
import { pino, type Logger } from 'pino';

/**
 * Structured JSON logs on stdout, each line with the trace and span id of the
 * span active when it was written (when tracing is on); tokens and config
 * bodies are never logged.
 */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'hotswap' },
    redact: { paths: ['req.headers.authorization', '*.authorization', '*.token', '*.data'], censor: '[redacted]' },
    mixin() {
      const span = trace.getActiveSpan()?.spanContext();
      return span && trace.isSpanContextValid(span) ? { trace_id: span.traceId, span_id: span.spanId } : {};
    },
  });
}
