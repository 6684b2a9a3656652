import { TargetState } from '../domain/deployment.js';
import { DeploymentStatus, InstanceStatus } from '../domain/enums.js';
import type { DeploymentRecord, TargetRecord } from '../domain/deployment-model.js';
import { type HealthReport, judgeHealth, type SourceSamples } from '../domain/health.js';
import { evidenceOf } from '../domain/health-evidence.js';
import { BadInputError } from '../domain/errors.js';
import { healthChecks, type HealthPolicy, type SampleSource, sourceKey, sourcesOf } from '../domain/health-policy.js';
import { baselineSamples, carriesMetrics, controlOf, valuesOf } from '../domain/health-samples.js';
import { aggregate, EMPTY_SNAPSHOT, type HealthSnapshot, type MetricsSample } from '../domain/health-snapshot.js';
import { type MetricSource, MetricQueryError, type QueryScope, type QueryWindow } from '../metrics-source/metric-source.js';
import { PLACEHOLDERS, unknownPlaceholders } from '../metrics-source/prometheus-source.js';
import { type InstanceRegistry, METRICS_HISTORY_LENGTH } from '../registry/instance-registry.js';

/** How far back heartbeats count: for the baseline, and for instances not yet updated. */
const WINDOW_MS = 10 * 60_000;

export interface HealthMonitorOptions {
  /** Seconds between two samples of a queried series (the query_range step). */
  queryStepSeconds: number;
  /** Told every judgement (metrics). */
  judged?: (d: DeploymentRecord, report: HealthReport) => void;
}

/** What a deployment keeps of its targets' health before it starts. */
export interface Baseline {
  snapshot: HealthSnapshot;
  samples: Record<string, number[]>;
}

/**
 * Gathers the samples a deployment's health is judged on, from the instances'
 * recent heartbeats (registry) and, for the metrics a policy queries, from the
 * metric source (Prometheus), and judges them with domain/health.ts.
 */
export class HealthMonitor {
  constructor(
    private readonly registry: InstanceRegistry,
    /** null when no PROMETHEUS_URL is set: a queried metric then has NO_DATA, saying so. */
    private readonly source: MetricSource | null,
    private readonly options: HealthMonitorOptions,
  ) {}

  /**
   * Refuses a policy whose queries cannot be answered here: a placeholder the
   * source does not know, or no source at all. Before anything is written.
   * @throws BadInputError naming the metric's query
   */
  assertAnswerable(policy: HealthPolicy): void {
    policy.metrics.forEach((m, i) => {
      if (m.query === null) return;
      const field = `health.metrics[${i}].query`;
      if (this.source === null) throw new BadInputError(`${field}: queries need PROMETHEUS_URL, which this server does not have`, { field });
      const unknown = unknownPlaceholders(m.query);
      if (unknown.length > 0) {
        throw new BadInputError(`${field}: unknown placeholder ${unknown.map((p) => `{{${p}}}`).join(', ')}; known: ${PLACEHOLDERS.map((p) => `{{${p}}}`).join(' ')}`, { field });
      }
    });
  }

  /** The targets' recent heartbeats, kept when a deployment starts: the control group once none is left on the previous version. */
  async baseline(instanceIds: readonly string[], now: Date): Promise<Baseline> {
    const histories = await this.registry.histories(instanceIds, METRICS_HISTORY_LENGTH);
    const since = new Date(now.getTime() - WINDOW_MS);
    return { snapshot: aggregate(histories, since), samples: baselineSamples(histories, since) };
  }

  /**
   * Judges the targets that applied the new version (their heartbeats since
   * their ack) against the targets not pushed yet over the same window, or
   * against the baseline when those have too few samples.
   *
   * `canary: 'phase'` judges only the current phase's targets, as the end of a
   * phase does: pooled with the earlier phases' instances (judged at their own
   * phase's end, with more samples since they applied), a regression of the
   * new instances would be outvoted by them. The periodic check ('all') keeps
   * watching every updated instance.
   */
  async check(d: DeploymentRecord, targets: readonly TargetRecord[], now: Date, canary: 'phase' | 'all' = 'all'): Promise<HealthReport> {
    const updated = targets.filter((t) => t.state === TargetState.APPLIED && t.version === d.version && (canary === 'all' || t.phase === d.phase));
    const waiting = targets.filter((t) => t.state === TargetState.PENDING);
    const histories = await this.registry.histories([...updated, ...waiting].map((t) => t.instanceId), METRICS_HISTORY_LENGTH);
    const acked = updated.map((t) => (t.ackedAt ?? now).getTime());
    const windowStart = new Date(Math.max(d.createdAt.getTime(), now.getTime() - WINDOW_MS, Math.min(now.getTime(), ...acked)));
    const sinceApply = new Map<string, MetricsSample[]>();
    for (const t of updated) {
      const from = (t.ackedAt ?? now).getTime();
      sinceApply.set(t.instanceId, (histories.get(t.instanceId) ?? []).filter((s) => s.at.getTime() >= from));
    }
    const waitingHistories = waiting.map((t) => histories.get(t.instanceId) ?? []);

    const samples = new Map<string, SourceSamples>();
    for (const source of sourcesOf(healthChecks(d.healthPolicy))) {
      samples.set(
        sourceKey(source),
        source.kind === 'heartbeat'
          ? this.heartbeatSamples(d, source.name, sinceApply, waitingHistories, windowStart)
          : await this.querySamples(d, source, updated, waiting, targets, { from: windowStart, to: now, stepSeconds: this.options.queryStepSeconds }),
      );
    }
    const report = judgeHealth({
      policy: d.healthPolicy,
      samples,
      evidence: evidenceOf([...sinceApply.values()].map((s) => s.filter((x) => carriesMetrics(x.metrics)).length), d.healthPolicy.minHeartbeats),
      baseline: d.state.baseline ?? EMPTY_SNAPSHOT,
      current: aggregate(sinceApply, new Date(0)),
      now,
    });
    // A paused deployment's periodic checks judge the same samples since the apply again: re-marking would undo a recovery.
    if (d.status !== DeploymentStatus.PAUSED) await this.markDegraded(report.outliers, now);
    this.options.judged?.(d, report);
    return report;
  }

  /** The instances a failed verdict names are DEGRADED in the registry (instances, metrics) until their metrics recover. */
  private async markDegraded(ids: readonly string[], at: Date): Promise<void> {
    await Promise.all(ids.map((id) => this.registry.setStatus(id, InstanceStatus.DEGRADED, at)));
  }

  private heartbeatSamples(
    d: DeploymentRecord,
    name: string,
    sinceApply: ReadonlyMap<string, readonly MetricsSample[]>,
    waiting: ReadonlyArray<readonly MetricsSample[]>,
    windowStart: Date,
  ): SourceSamples {
    const canary = new Map([...sinceApply].map(([id, s]) => [id, valuesOf(s, name, new Date(0))]));
    const notUpdated = waiting.flatMap((s) => valuesOf(s, name, windowStart));
    const baseline = d.state.baselineSamples?.[name];
    return { canary, ...controlOf(notUpdated, baseline, d.healthPolicy.minSamples), error: null };
  }

  /**
   * A queried metric: the canary's series over the window, and the instances
   * not yet updated over the same window, or, when none is left, all the
   * targets on the previous version before the deployment started.
   */
  private async querySamples(
    d: DeploymentRecord,
    source: Extract<SampleSource, { kind: 'query' }>,
    updated: readonly TargetRecord[],
    waiting: readonly TargetRecord[],
    targets: readonly TargetRecord[],
    window: QueryWindow,
  ): Promise<SourceSamples> {
    const reference = waiting.length > 0 ? 'control' : 'baseline';
    const fail = (error: string): SourceSamples => ({ canary: new Map(), control: [], reference, error });
    if (this.source === null) return fail('queries need PROMETHEUS_URL, which this server does not have');
    const scope = { service: d.service, environment: d.environment };
    const canaryScope: QueryScope = { ...scope, version: d.version, instanceIds: updated.map((t) => t.instanceId), group: 'canary' };
    const controlScope: QueryScope = {
      ...scope,
      version: d.previousVersion ?? d.version,
      instanceIds: (waiting.length > 0 ? waiting : targets).map((t) => t.instanceId),
      group: 'control',
    };
    const controlWindow = waiting.length > 0 ? window : { ...window, from: new Date(d.createdAt.getTime() - WINDOW_MS), to: d.createdAt };
    try {
      const [canary, control] = await Promise.all([
        updated.length > 0 ? this.source.samples(source.query, canaryScope, window) : Promise.resolve([]),
        this.source.samples(source.query, controlScope, controlWindow),
      ]);
      return { canary: new Map([['', canary]]), control, reference, error: null };
    } catch (error) {
      if (error instanceof MetricQueryError) return fail(`query failed: ${error.message}`);
      throw error;
    }
  }
}
