import type { Logger } from 'pino';
import { InstanceStatus } from '../domain/enums.js';
import { RECOVERY_HEARTBEATS, recoveryOf } from '../domain/recovery.js';
import { type InstanceRecord, type InstanceRegistry, METRICS_HISTORY_LENGTH } from '../registry/instance-registry.js';
import type { ScheduledJob } from './scheduler.js';

/** HEALTHY peers whose samples a run reads per service and environment, at most: their median is as good at 100 as at 10,000. */
export const MAX_RECOVERY_PEERS = 100;

export interface InstanceRecoveryOptions {
  /** How often it looks: every heartbeat interval, as a new sample can come no faster. */
  intervalMs: number;
  /** Told of each instance set HEALTHY again, with the reason. */
  logger?: Pick<Logger, 'info'>;
}

/**
 * Sets DEGRADED instances HEALTHY again once their metrics recovered (the rule
 * and its reasons: domain/recovery.ts). Each run lists the DEGRADED instances
 * (one set read in Redis), and per service and environment reads their
 * histories and the recent samples of the HEALTHY peers. Nothing to do costs
 * one read. Safe on every replica at once: `registry.recover` changes an
 * instance only while it is still DEGRADED by the verdict the decision was
 * made on, so a newer verdict or a STALE mark in between wins.
 */
export class InstanceRecovery {
  constructor(
    private readonly registry: InstanceRegistry,
    private readonly options: InstanceRecoveryOptions,
  ) {
    if (!(options.intervalMs > 0)) throw new RangeError(`instance recovery needs intervalMs > 0, got ${options.intervalMs}`);
  }

  job(): ScheduledJob {
    return { name: 'instance-recovery', intervalMs: this.options.intervalMs, run: (signal) => this.runOnce(signal).then(() => undefined) };
  }

  /** One pass; returns the ids this call set HEALTHY. */
  async runOnce(signal?: AbortSignal): Promise<string[]> {
    const degraded = await this.registry.list({ status: InstanceStatus.DEGRADED });
    const recovered: string[] = [];
    for (const group of groupByService(degraded)) {
      if (signal?.aborted) break;
      recovered.push(...(await this.recoverGroup(group)));
    }
    return recovered;
  }

  private async recoverGroup(group: InstanceRecord[]): Promise<string[]> {
    const { service, environment } = group[0]!;
    const peers = spread(await this.registry.list({ service, environment, status: InstanceStatus.HEALTHY }), MAX_RECOVERY_PEERS);
    const [own, peerHistories] = await Promise.all([
      this.registry.histories(group.map((r) => r.id), METRICS_HISTORY_LENGTH),
      this.registry.histories(peers.map((r) => r.id), RECOVERY_HEARTBEATS),
    ]);
    const recovered: string[] = [];
    for (const r of group) {
      // setStatus writes it with every DEGRADED: a record without one is no verdict's, and nothing to compare-and-set on.
      const degradedAt = r.degradedAt;
      if (degradedAt === null) continue;
      const decision = recoveryOf({ degradedAt, own: own.get(r.id) ?? [], peers: [...peerHistories.values()] });
      if (!decision.recovered || !(await this.registry.recover(r.id, degradedAt))) continue;
      recovered.push(r.id);
      this.options.logger?.info({ instanceId: r.id, service, environment, reason: decision.reason }, 'instance HEALTHY again');
    }
    return recovered;
  }
}

/** The records by service and environment, each group non-empty. */
function groupByService(records: readonly InstanceRecord[]): InstanceRecord[][] {
  const groups = new Map<string, InstanceRecord[]>();
  for (const r of records) {
    const key = `${r.environment}\u0000${r.service}`;
    const group = groups.get(key);
    if (group) group.push(r);
    else groups.set(key, [r]);
  }
  return [...groups.values()];
}

/** `items` when at most `max`, else `max` of them at evenly spaced positions (first and last included). */
function spread<T>(items: readonly T[], max: number): T[] {
  if (items.length <= max) return [...items];
  const step = (items.length - 1) / (max - 1);
  return Array.from({ length: max }, (_, i) => items[Math.round(i * step)]!);
}
