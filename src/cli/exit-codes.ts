/** The exit codes CI pipelines can rely on (README "Use in CI"). */
export const ExitCode = {
  OK: 0,
  /** The deployment ended ROLLED_BACK. */
  ROLLED_BACK: 2,
  /** The deployment ended FAILED. */
  FAILED: 3,
  /** HotSwap refused: validation, authentication, authorization, bad input, not found, conflict. */
  REFUSED: 4,
  /** HotSwap could not be reached (or could not answer). */
  UNREACHABLE: 5,
  /** Stopped by Ctrl-C. */
  INTERRUPTED: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** An error the CLI reports as a few plain lines (never a stack trace) and ends with `exitCode`. */
export class CliError extends Error {
  constructor(
    readonly lines: readonly string[],
    readonly exitCode: ExitCode,
  ) {
    super(lines.join('\n'));
  }
}
