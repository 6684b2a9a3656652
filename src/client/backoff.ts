/** How long to wait between attempts to reach HotSwap. */
export interface BackoffOptions {
  /** Delay before the first retry, in ms. @default 500 */
  initialDelayMs?: number;
  /** Longest delay between retries, in ms. @default 30000 */
  maxDelayMs?: number;
}

export const DEFAULT_BACKOFF: Required<BackoffOptions> = { initialDelayMs: 500, maxDelayMs: 30_000 };

/**
 * Exponential backoff with "equal jitter": the ceiling doubles with each
 * attempt (0, 1, 2 …) up to `maxDelayMs`, and the delay is drawn uniformly from
 * [ceiling / 2, ceiling], so a fleet that lost HotSwap at the same moment does
 * not come back at the same moment, and no retry is ever immediate.
 */
export function backoffDelay(attempt: number, options: BackoffOptions = {}, random: () => number = Math.random): number {
  const initial = Math.max(1, options.initialDelayMs ?? DEFAULT_BACKOFF.initialDelayMs);
  const max = Math.max(initial, options.maxDelayMs ?? DEFAULT_BACKOFF.maxDelayMs);
  const exponent = Math.min(Math.max(0, Math.floor(attempt)), 30);
  const ceiling = Math.min(max, initial * 2 ** exponent);
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** Resolves after `ms`, or at once when `signal` aborts (never rejects). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
