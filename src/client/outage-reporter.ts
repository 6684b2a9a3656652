import type { ClientLogger } from './types.js';

/** How the first warning of an outage ends, so a reader knows why the retries that follow are quiet. */
export const OUTAGE_NOTE = 'retrying in the background; further failures are logged at info until HotSwap is reachable again';

/**
 * Reports trouble reaching HotSwap once per outage rather than once per retry:
 * the first failure is a warning, later failures of the same outage go to
 * `info` (a retry loop warning every attempt buries everything else), and the
 * first success after it is a warning too, saying how long HotSwap was out of
 * reach, so whoever saw the first line sees the last.
 *
 * "Reachable" is any answer from HotSwap: a registration, an accepted
 * heartbeat, a websocket connection acknowledged.
 *
 * @example
 *   failed('could not register with HotSwap', { code: 'NETWORK' })  // warn, outage starts
 *   failed('heartbeat failed', { code: 'NETWORK' })                 // info
 *   reached()                                                       // warn "HotSwap is reachable again" { outageMs, failures: 2 }
 *   reached()                                                       // nothing: no outage
 */
export class OutageReporter {
  private since: number | undefined;
  private failures = 0;

  constructor(
    private readonly logger: ClientLogger,
    private readonly url: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** True between the first failure and the next success. */
  get inOutage(): boolean {
    return this.since !== undefined;
  }

  /** Something failed for a reason retrying may fix (network, HotSwap unavailable, the socket closed). */
  failed(message: string, details: Record<string, unknown> = {}): void {
    this.failures++;
    if (this.since !== undefined) {
      this.logger.info(message, details);
      return;
    }
    this.since = this.now();
    this.logger.warn(`${message} (${OUTAGE_NOTE})`, { url: this.url, ...details });
  }

  /** HotSwap answered: ends the outage, if there was one. */
  reached(): void {
    if (this.since === undefined) return;
    const outageMs = this.now() - this.since;
    this.logger.warn('HotSwap is reachable again', { url: this.url, outageMs, failures: this.failures });
    this.since = undefined;
    this.failures = 0;
  }
}
