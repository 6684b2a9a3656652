import { type Environment, InstanceStatus } from '../domain/enums.js';
import { BadInputError } from '../domain/errors.js';
import type { InstanceMetrics } from '../domain/instance.js';
import {
  type InstanceFilter,
  type InstanceRecord,
  type InstanceRegistry,
  type LiveInstance,
  METRICS_HISTORY_LENGTH,
  type MetricsSample,
  type NewInstance,
  type Presence,
  type ServiceCount,
} from './instance-registry.js';

/**
 * The in-process registry of the embedded default (one replica, nothing to
 * share). Every record and sample handed out is a deep copy, so callers cannot
 * change what is stored.
 */
export class MemoryInstanceRegistry implements InstanceRegistry {
  private readonly instances = new Map<string, InstanceRecord>();
  /** Newest first, at most METRICS_HISTORY_LENGTH per instance. */
  private readonly samples = new Map<string, MetricsSample[]>();
  private readonly presences = new Map<string, Presence>();

  /** Registering an id that is already there replaces it and drops its history. */
  register(instance: NewInstance): Promise<InstanceRecord> {
    const record: InstanceRecord = {
      id: instance.id,
      service: instance.service,
      environment: instance.environment,
      host: instance.host,
      color: instance.color,
      metadata: instance.metadata === null ? null : structuredClone(instance.metadata),
      status: InstanceStatus.HEALTHY,
      registeredAt: new Date(instance.registeredAt.getTime()),
      lastHeartbeatAt: new Date(instance.registeredAt.getTime()),
      metrics: null,
      staleSince: null,
      degradedAt: null,
    };
    this.instances.set(record.id, record);
    this.samples.delete(record.id);
    return Promise.resolve(structuredClone(record));
  }

  restore(instance: NewInstance): Promise<InstanceRecord> {
    const stored = this.copyOf(instance.id);
    return stored ? Promise.resolve(stored) : this.register(instance);
  }

  get(id: string): Promise<InstanceRecord | null> {
    return Promise.resolve(this.copyOf(id));
  }

  list(filter: InstanceFilter): Promise<InstanceRecord[]> {
    const found = [...this.instances.values()]
      .filter((r) => matchesFilter(r, filter))
      .sort(byRegistration)
      .map((r) => structuredClone(r));
    return Promise.resolve(found);
  }

  liveInstances(service: string, environment: Environment): Promise<LiveInstance[]> {
    const live = [...this.instances.values()]
      .filter((r) => r.service === service && r.environment === environment && r.status !== InstanceStatus.STALE)
      .filter((r) => (this.presences.get(r.id)?.connections ?? 0) > 0)
      .sort(byRegistration)
      .map((r) => ({ id: r.id, color: r.color }));
    return Promise.resolve(live);
  }

  heartbeat(id: string, at: Date, metrics: InstanceMetrics | null): Promise<InstanceRecord | null> {
    const record = this.instances.get(id);
    if (!record) return Promise.resolve(null);
    record.lastHeartbeatAt = new Date(at.getTime());
    if (metrics !== null) {
      record.metrics = structuredClone(metrics);
      const history = [{ at: new Date(at.getTime()), metrics: structuredClone(metrics) }, ...(this.samples.get(id) ?? [])];
      this.samples.set(id, history.slice(0, METRICS_HISTORY_LENGTH));
    }
    if (record.status === InstanceStatus.STALE) {
      record.status = record.degradedAt === null ? InstanceStatus.HEALTHY : InstanceStatus.DEGRADED;
      record.staleSince = null;
    }
    return Promise.resolve(this.copyOf(id));
  }

  history(id: string, limit: number): Promise<MetricsSample[]> {
    const samples = this.samples.get(id) ?? [];
    return Promise.resolve(limit > 0 ? structuredClone(samples.slice(0, limit)) : []);
  }

  async histories(ids: readonly string[], limit: number): Promise<Map<string, MetricsSample[]>> {
    const out = new Map<string, MetricsSample[]>();
    for (const id of ids) out.set(id, await this.history(id, limit));
    return out;
  }

  /**
   * Leaving STALE this way clears `staleSince`; the reaper marks the instance
   * again if it stays silent.
   *
   * @throws BadInputError for STALE: only markStale sets it (it needs `now`)
   */
  setStatus(id: string, status: InstanceStatus, at: Date = new Date()): Promise<InstanceRecord | null> {
    if (status === InstanceStatus.STALE) return Promise.reject(staleNotSettable());
    const record = this.instances.get(id);
    if (!record) return Promise.resolve(null);
    record.status = status;
    record.staleSince = null;
    record.degradedAt = status === InstanceStatus.DEGRADED ? new Date(at.getTime()) : null;
    return Promise.resolve(this.copyOf(id));
  }

  recover(id: string, degradedAt: Date): Promise<boolean> {
    const record = this.instances.get(id);
    if (record?.status !== InstanceStatus.DEGRADED || record.degradedAt?.getTime() !== degradedAt.getTime()) return Promise.resolve(false);
    record.status = InstanceStatus.HEALTHY;
    record.degradedAt = null;
    return Promise.resolve(true);
  }

  statuses(ids: readonly string[]): Promise<Map<string, InstanceStatus>> {
    const out = new Map<string, InstanceStatus>();
    for (const id of ids) {
      const status = this.instances.get(id)?.status;
      if (status !== undefined) out.set(id, status);
    }
    return Promise.resolve(out);
  }

  connected(id: string): Promise<void> {
    const p = this.presences.get(id);
    this.presences.set(id, { connections: (p?.connections ?? 0) + 1, disconnectedAt: null });
    return Promise.resolve();
  }

  disconnected(id: string, at: Date): Promise<void> {
    const connections = Math.max(0, (this.presences.get(id)?.connections ?? 0) - 1);
    // Nothing to remember of a deregistered instance once its last subscription closed.
    if (connections === 0 && !this.instances.has(id)) this.presences.delete(id);
    else this.presences.set(id, { connections, disconnectedAt: connections === 0 ? new Date(at.getTime()) : null });
    return Promise.resolve();
  }

  presence(ids: readonly string[]): Promise<Map<string, Presence>> {
    const out = new Map<string, Presence>();
    for (const id of ids) {
      const p = this.presences.get(id);
      if (p) out.set(id, { connections: p.connections, disconnectedAt: p.disconnectedAt && new Date(p.disconnectedAt.getTime()) });
    }
    return Promise.resolve(out);
  }

  /** One process: nothing to keep alive or to write again. */
  keepPresence(): Promise<void> {
    return Promise.resolve();
  }

  deregister(id: string): Promise<boolean> {
    this.samples.delete(id);
    if (this.presences.get(id)?.connections === 0) this.presences.delete(id);
    return Promise.resolve(this.instances.delete(id));
  }

  markStale(cutoff: Date, now: Date): Promise<string[]> {
    const marked: string[] = [];
    for (const record of [...this.instances.values()].sort(byRegistration)) {
      if (record.status === InstanceStatus.STALE) continue;
      // Written so a missing or invalid heartbeat counts as old.
      if (record.lastHeartbeatAt !== null && !(record.lastHeartbeatAt.getTime() < cutoff.getTime())) continue;
      record.status = InstanceStatus.STALE;
      record.staleSince = new Date(now.getTime());
      marked.push(record.id);
    }
    return Promise.resolve(marked);
  }

  removeStale(cutoff: Date): Promise<string[]> {
    const removed: string[] = [];
    for (const record of [...this.instances.values()].sort(byRegistration)) {
      if (record.status !== InstanceStatus.STALE || record.staleSince === null) continue;
      if (!(record.staleSince.getTime() < cutoff.getTime())) continue;
      this.instances.delete(record.id);
      this.samples.delete(record.id);
      if (this.presences.get(record.id)?.connections === 0) this.presences.delete(record.id);
      removed.push(record.id);
    }
    return Promise.resolve(removed);
  }

  countByStatus(): Promise<Record<InstanceStatus, number>> {
    const counts = emptyCounts();
    for (const record of this.instances.values()) counts[record.status] += 1;
    return Promise.resolve(counts);
  }

  countByService(): Promise<ServiceCount[]> {
    const counts = new Map<string, ServiceCount>();
    for (const r of this.instances.values()) {
      const key = `${r.environment}\u0000${r.service}\u0000${r.status}`;
      const c = counts.get(key) ?? { service: r.service, environment: r.environment, status: r.status, count: 0 };
      c.count += 1;
      counts.set(key, c);
    }
    return Promise.resolve([...counts.values()]);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  private copyOf(id: string): InstanceRecord | null {
    const record = this.instances.get(id);
    return record ? structuredClone(record) : null;
  }
}

/** True when the record matches every field the filter sets. */
export function matchesFilter(r: InstanceRecord, f: InstanceFilter): boolean {
  return (
    (f.service === undefined || r.service === f.service) &&
    (f.environment === undefined || r.environment === f.environment) &&
    (f.status === undefined || r.status === f.status)
  );
}

/** Oldest registration first, then by id: the order `list` promises. */
export function byRegistration(a: InstanceRecord, b: InstanceRecord): number {
  const diff = a.registeredAt.getTime() - b.registeredAt.getTime();
  if (diff !== 0) return diff;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

export function emptyCounts(): Record<InstanceStatus, number> {
  return { [InstanceStatus.HEALTHY]: 0, [InstanceStatus.DEGRADED]: 0, [InstanceStatus.STALE]: 0 };
}

export function staleNotSettable(): BadInputError {
  return new BadInputError('setStatus sets HEALTHY or DEGRADED; STALE is set by markStale', { field: 'status' });
}
