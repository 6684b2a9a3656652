/**
 * The parts of `hotswap agent` (the sidecar that is one service instance
 * towards HotSwap) and what they promise each other. agent.ts composes them.
 */
import type { ConfigUpdate, InstanceMetricsReport } from '../client/types.js';

/** A config the agent delivered to the service, as the local HTTP endpoint serves it. */
export interface DeliveredConfig {
  profileName: string;
  version: number;
  /** sha256 hex of the canonical JSON: the ETag. */
  hash: string;
  data: Record<string, unknown>;
  /** Where it was written, when the agent writes files. */
  file: string | null;
  deliveredAt: Date;
}

/** The configs delivered so far, per profile, and a way to wait for the next one. */
export interface ConfigView {
  get(profileName: string): DeliveredConfig | undefined;
  profiles(): string[];
  /**
   * Resolves with the profile's config once its hash differs from `hash`
   * (at once if it already does), or undefined when `signal` aborts first.
   */
  changed(profileName: string, hash: string | null, signal: AbortSignal): Promise<DeliveredConfig | undefined>;
}

/** How a step of delivering a config went: its outcome becomes the ack. */
export interface StepResult {
  ok: boolean;
  durationMs: number;
  /** Why it failed, in one line (a hook's stderr tail, a write error). */
  error?: string;
}

/** Writes one profile's config where the service reads it; never leaves a half-written file. */
export interface FileSink {
  /** @returns the path written */
  write(update: ConfigUpdate): Promise<string>;
}

/** Tells the service a config changed (a command, or a signal) and reports whether it took it. */
export interface ReloadHook {
  run(context: { profileName: string; version: number; file: string | null }): Promise<StepResult>;
}

/** The service's own health numbers, from its Prometheus endpoint: rates over the last interval; null when there is no data. */
export interface ServiceMetrics {
  sample(): Promise<InstanceMetricsReport | null>;
  /** Why the last scrape gave nothing (unreachable, timed out, unparsable); null after a good one. */
  readonly lastError: string | null;
}
