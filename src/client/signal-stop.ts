import type { StopSignal } from './types.js';

/**
 * Stops (and deregisters) a client when the process is told to end, so a
 * restarted service's old instance leaves HotSwap at once instead of lingering
 * as a registered instance until it turns STALE.
 *
 * A listener on SIGTERM or SIGINT takes away Node's default of exiting: once
 * the client has stopped, the signal is raised again if nobody else listens to
 * it, so the process ends as it would have without the client. An application
 * with its own handler keeps control of when it exits.
 */
export function stopOnSignals(signals: readonly StopSignal[], stop: () => Promise<void>): () => void {
  const handlers = signals.map((signal) => {
    const handler = (): void => {
      process.removeListener(signal, handler);
      void stop().finally(() => {
        if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
      });
    };
    process.once(signal, handler);
    return { signal, handler };
  });
  return () => {
    for (const { signal, handler } of handlers) process.removeListener(signal, handler);
  };
}
