import { pino, type Logger } from 'pino';

/** Structured JSON logs on stdout; tokens and config bodies are never logged. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'hotswap' },
    redact: { paths: ['req.headers.authorization', '*.authorization', '*.token', '*.data'], censor: '[redacted]' },
  });
}
