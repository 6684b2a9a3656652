import type { Color, Environment, InstanceStatus } from '../domain/enums.js';
import type { InstanceMetrics } from '../domain/instance.js';
import type { JsonObject } from '../domain/json.js';

/** A registered service instance as the registry keeps it. */
export interface InstanceRecord {
  id: string;
  service: string;
  environment: Environment;
  host: string;
  color: Color | null;
  metadata: JsonObject | null;
  status: InstanceStatus;
  registeredAt: Date;
  lastHeartbeatAt: Date | null;
  /** The metrics of the last heartbeat that carried any. */
  metrics: InstanceMetrics | null;
  /** When the reaper marked it STALE; null while it heartbeats. */
  staleSince: Date | null;
  /**
   * When a health verdict last named it an outlier: set while DEGRADED, and
   * kept while a DEGRADED instance is STALE (it comes back DEGRADED); null
   * otherwise. Recovery counts only the heartbeats after it (domain/recovery.ts).
   */
  degradedAt: Date | null;
}

/** An instance to store: HEALTHY, with its registration as its first heartbeat. */
export type NewInstance = Omit<InstanceRecord, 'status' | 'lastHeartbeatAt' | 'metrics' | 'staleSince' | 'degradedAt'>;

/** An instance a deployment may target. */
export interface LiveInstance {
  id: string;
  color: Color | null;
}

/** Whether an instance holds a config subscription on some replica. */
export interface Presence {
  /** Open configUpdates subscriptions, over all replicas. */
  connections: number;
  /** When the last one closed; null while one is open. */
  disconnectedAt: Date | null;
}

export interface InstanceFilter {
  service?: string;
  environment?: Environment;
  status?: InstanceStatus;
}

export interface ServiceCount {
  service: string;
  environment: Environment;
  status: InstanceStatus;
  count: number;
}

/** One heartbeat's metrics, kept in a short per-instance history for health evaluation. */
export interface MetricsSample {
  at: Date;
  metrics: InstanceMetrics;
}

/**
 * Where live instances are kept: Redis in production (shared by replicas), in
 * process for the embedded default. Both pass test/integration/registry.contract.test.ts.
 */
export interface InstanceRegistry {
  /** Stores a new instance, HEALTHY, with `lastHeartbeatAt = registeredAt`. */
  register(instance: NewInstance): Promise<InstanceRecord>;
  /**
   * Stores the instance as `register` does when the id is not there (a record
   * the registry lost, restored from the instance's token); when it is there,
   * changes nothing. Returns the stored record either way, in one atomic step,
   * so two restores at once keep one record.
   */
  restore(instance: NewInstance): Promise<InstanceRecord>;
  get(id: string): Promise<InstanceRecord | null>;
  /** Instances matching every given filter field, oldest registration first. */
  list(filter: InstanceFilter): Promise<InstanceRecord[]>;
  /**
   * The instances of a service and environment that are not STALE and hold a
   * config subscription (see connected), as a deployment targets them: id and
   * color, oldest registration first, in one round trip (a deployment's start
   * reads no more than it plans with).
   */
  liveInstances(service: string, environment: Environment): Promise<LiveInstance[]>;
  /**
   * Records a heartbeat: `lastHeartbeatAt = at`, metrics (when given) become the
   * current ones and join the history, a STALE instance gets back the status it
   * had (DEGRADED when `degradedAt` is set, HEALTHY otherwise: going silent
   * does not clear a verdict). Returns null, changing nothing, when the
   * instance is unknown.
   */
  heartbeat(id: string, at: Date, metrics: InstanceMetrics | null): Promise<InstanceRecord | null>;
  /** The last `limit` metrics samples, newest first (at most 20 are kept). */
  history(id: string, limit: number): Promise<MetricsSample[]>;
  /** The last `limit` samples of each instance, newest first, in one round trip; unknown ids get an empty list. */
  histories(ids: readonly string[], limit: number): Promise<Map<string, MetricsSample[]>>;
  /**
   * Sets HEALTHY or DEGRADED (health evaluation); null when unknown. DEGRADED
   * sets `degradedAt = at` (every verdict that names the instance moves it on),
   * HEALTHY clears it.
   * @param at - when the verdict was made @default now
   */
  setStatus(id: string, status: InstanceStatus, at?: Date): Promise<InstanceRecord | null>;
  /**
   * Sets a DEGRADED instance HEALTHY again (its metrics recovered), in one
   * atomic step and only while it is still DEGRADED by the verdict of
   * `degradedAt`: a newer verdict, a STALE mark or a removal since the caller
   * read it wins. True when this call changed it.
   */
  recover(id: string, degradedAt: Date): Promise<boolean>;
  /** The status of each id the registry holds (others are absent from the map), in one round trip. */
  statuses(ids: readonly string[]): Promise<Map<string, InstanceStatus>>;
  /**
   * A configUpdates subscription of the instance opened on this replica.
   * Kept apart from the record; the subscriptions of a replica that died stop
   * counting once it no longer keeps its presence (see keepPresence).
   */
  connected(id: string): Promise<void>;
  /** One of its subscriptions closed at `at`; when it was the last, `disconnectedAt = at`. */
  disconnected(id: string, at: Date): Promise<void>;
  /** The presence of each id that ever subscribed (others are absent from the map), in one round trip. */
  presence(ids: readonly string[]): Promise<Map<string, Presence>>;
  /**
   * Tells a shared store that this replica is alive, so its subscriptions keep
   * counting, and writes them again if the store forgot them (an emptied
   * Redis). Run every PRESENCE_KEEP_MS; a no-op in process.
   */
  keepPresence(): Promise<void>;
  /** Removes the instance and its history; false when it was not there. */
  deregister(id: string): Promise<boolean>;
  /** Marks STALE (staleSince = now) every non-STALE instance whose last heartbeat is before `cutoff`; returns their ids. */
  markStale(cutoff: Date, now: Date): Promise<string[]>;
  /** Removes every instance STALE since before `cutoff`; returns their ids. */
  removeStale(cutoff: Date): Promise<string[]>;
  /** Counts by status. */
  countByStatus(): Promise<Record<InstanceStatus, number>>;
  /** Counts by service, environment and status (only the non-zero ones), for metrics. */
  countByService(): Promise<ServiceCount[]>;
  /** Releases connections (a no-op in process). */
  close(): Promise<void>;
}

/** How many metrics samples an instance keeps. */
export const METRICS_HISTORY_LENGTH = 20;
