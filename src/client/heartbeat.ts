import { describeError, GraphQLRequestError } from './graphql-http.js';
import type { Identity, InstanceApi } from './operations.js';
import type { OutageReporter } from './outage-reporter.js';
import type { ClientLogger, InstanceMetricsReport } from './types.js';

/** Heartbeat answers meaning the registration is gone or its token no longer valid. */
const LOST_CODES = new Set(['NOT_FOUND', 'UNAUTHENTICATED', 'FORBIDDEN']);

export interface HeartbeatOptions {
  intervalMs: number;
  api: InstanceApi;
  metrics: (() => InstanceMetricsReport | Promise<InstanceMetricsReport>) | undefined;
  logger: ClientLogger;
  /** Where failures retrying may fix (network, HotSwap unavailable) go, and successes end them. */
  outage: OutageReporter;
  /** HotSwap accepted a heartbeat of this identity. */
  onAccepted(identity: Identity): void;
  /** HotSwap no longer knows this identity (NOT_FOUND) or refuses its token; the heartbeat has stopped. */
  onLost(identity: Identity, error: GraphQLRequestError): void;
}

/**
 * Heartbeats with the metrics callback's numbers: one at once, then one per
 * interval after the previous one finished (runs never overlap). Metrics the
 * server refuses are logged and the heartbeat is sent without them, so a bad
 * metric never makes the instance look dead.
 */
export class Heartbeat {
  private timer: NodeJS.Timeout | undefined;
  /** Bumped by start() and stop(), so a beat of an older run does nothing. */
  private generation = 0;

  constructor(private readonly o: HeartbeatOptions) {}

  start(identity: Identity): void {
    this.stop();
    const generation = this.generation;
    void this.beat(identity, generation);
  }

  /** Idempotent. */
  stop(): void {
    this.generation++;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async beat(identity: Identity, generation: number): Promise<void> {
    try {
      await this.send(identity);
      if (generation !== this.generation) return;
      this.o.outage.reached();
      this.o.onAccepted(identity);
    } catch (error) {
      if (generation !== this.generation) return;
      if (error instanceof GraphQLRequestError && LOST_CODES.has(error.code)) {
        this.stop();
        this.o.onLost(identity, error);
        return;
      }
      const details = { instanceId: identity.instanceId, ...describeError(error) };
      if (error instanceof GraphQLRequestError && error.transient) this.o.outage.failed('heartbeat failed; will try again', details);
      else this.o.logger.warn('heartbeat failed; will try again', details);
    }
    if (generation !== this.generation) return;
    this.timer = setTimeout(() => void this.beat(identity, generation), this.o.intervalMs);
  }

  private async send(identity: Identity): Promise<void> {
    let metrics: InstanceMetricsReport | null = null;
    try {
      metrics = this.o.metrics ? await this.o.metrics() : null;
    } catch (error) {
      this.o.logger.warn('the metrics callback threw; heartbeat sent without metrics', describeError(error));
    }
    try {
      await this.o.api.heartbeat(identity, metrics);
    } catch (error) {
      if (metrics === null || !(error instanceof GraphQLRequestError) || error.code !== 'BAD_USER_INPUT') throw error;
      this.o.logger.warn('HotSwap refused the metrics; heartbeat sent without them', { error: error.message });
      await this.o.api.heartbeat(identity, null);
    }
  }
}
