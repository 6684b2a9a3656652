import type { ClientLogger } from './types.js';

/**
 * The client's default logger: warnings and errors to stderr, one line each
 * (`hotswap-client warn: <message> <details as JSON>`); info is dropped. So a
 * service that passes no logger still hears that HotSwap is out of reach.
 * Replace it with `logger`, or silence it with `logger: false`.
 */
export function createStderrLogger(write: (line: string) => void = (line) => void process.stderr.write(line)): ClientLogger {
  const line = (level: string, message: string, details?: Record<string, unknown>) => {
    const extra = details !== undefined && Object.keys(details).length > 0 ? ` ${safeJson(details)}` : '';
    write(`hotswap-client ${level}: ${message}${extra}\n`);
  };
  return {
    info: () => {},
    warn: (message, details) => line('warn', message, details),
    error: (message, details) => line('error', message, details),
  };
}

export const SILENT_LOGGER: ClientLogger = { info: () => {}, warn: () => {}, error: () => {} };

function safeJson(details: Record<string, unknown>): string {
  try {
    return JSON.stringify(details);
  } catch {
    return '{}';
  }
}
