import { pino, type Logger } from 'pino';

/** A parsed log line: pino's numeric `level` (10 trace … 60 fatal), `msg`, and the line's fields. */
export type LogLine = Record<string, unknown> & { level: number; msg?: string };

/** pino's level numbers, for assertions on what was written. */
export const LogLevel = { debug: 20, info: 30, warn: 40, error: 50 } as const;

/** A logger that keeps its lines in memory, for tests that assert what the server logs. */
export interface LogCapture {
  logger: Logger;
  readonly lines: LogLine[];
  /** The lines at `level` or above. */
  atLeast(level: number): LogLine[];
  clear(): void;
}

/** Captures every line from `level` up (debug by default: a refusal demoted to debug is still seen). */
export function captureLogs(level: keyof typeof LogLevel = 'debug'): LogCapture {
  const lines: LogLine[] = [];
  const logger = pino({ level }, { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) });
  return {
    logger,
    lines,
    atLeast: (min) => lines.filter((l) => l.level >= min),
    clear: () => void (lines.length = 0),
  };
}
