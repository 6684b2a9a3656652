import { TargetState } from '../domain/deployment.js';
import type { DeploymentRecord, TargetRecord } from '../domain/deployment-model.js';
import { aggregate, evaluateHealth, type HealthReport, type HealthSnapshot, type MetricsSample } from '../domain/health.js';
import { evidenceOf } from '../domain/health-evidence.js';
import { type InstanceRegistry, METRICS_HISTORY_LENGTH } from '../registry/instance-registry.js';

/** How far back heartbeats count: for the baseline, and for instances not yet updated. */
const WINDOW_MS = 10 * 60_000;

/**
 * Reads the instances' recent heartbeats from the registry and judges a
 * deployment's updated instances with the pure rules of domain/health.ts.
 */
export class HealthMonitor {
  constructor(private readonly registry: InstanceRegistry) {}

  /** The instances' health over the recent heartbeats, captured when a deployment starts. */
  async baseline(instanceIds: readonly string[], now: Date): Promise<HealthSnapshot> {
    const histories = await this.registry.histories(instanceIds, METRICS_HISTORY_LENGTH);
    return aggregate(histories, new Date(now.getTime() - WINDOW_MS));
  }

  /**
   * Judges the targets that applied the new version (their heartbeats since
   * their ack) against the baseline and against the targets not pushed yet.
   */
  async check(d: DeploymentRecord, targets: readonly TargetRecord[], now: Date): Promise<HealthReport> {
    const updated = targets.filter((t) => t.state === TargetState.APPLIED && t.version === d.version);
    const waiting = targets.filter((t) => t.state === TargetState.PENDING);
    const histories = await this.registry.histories([...updated, ...waiting].map((t) => t.instanceId), METRICS_HISTORY_LENGTH);
    const recent = new Date(Math.max(d.createdAt.getTime(), now.getTime() - WINDOW_MS));
    const since = (t: TargetRecord) => (t.state === TargetState.APPLIED && t.ackedAt !== null ? t.ackedAt : recent);
    const samplesOf = (group: readonly TargetRecord[]) => {
      const samples = new Map<string, MetricsSample[]>();
      for (const t of group) {
        const from = since(t).getTime();
        samples.set(t.instanceId, (histories.get(t.instanceId) ?? []).filter((s) => s.at.getTime() >= from));
      }
      return samples;
    };
    const snapshot = (group: readonly TargetRecord[]) => aggregate(samplesOf(group), new Date(0));
    const sinceApply = samplesOf(updated);
    return evaluateHealth({
      baseline: d.state.baseline ?? snapshot([]),
      updated: aggregate(sinceApply, new Date(0)),
      notUpdated: waiting.length > 0 ? snapshot(waiting) : null,
      policy: d.healthPolicy,
      evidence: evidenceOf([...sinceApply.values()].map((samples) => samples.length), d.healthPolicy.minHeartbeats),
      now,
    });
  }
}
