/**
 * Heartbeat metrics summed up for people: a group's error rate, p99 latency,
 * requests and custom metrics in one snapshot, shown beside a health verdict
 * (its baseline and current). The verdict itself is judged on the samples
 * (health.ts); the snapshots only describe them.
 */
import type { InstanceMetrics } from './instance.js';

/** One heartbeat's metrics and when they were received. */
export interface MetricsSample {
  at: Date;
  metrics: InstanceMetrics;
}

/** Aggregated metrics of a group of instances; null where nobody reported that metric. */
export interface HealthSnapshot {
  /** Share 0..1. */
  errorRate: number | null;
  latencyP99Ms: number | null;
  requestCount: number | null;
  custom: Record<string, number> | null;
  /** How many instances reported at least one metric in the window. */
  instances: number;
}

export const EMPTY_SNAPSHOT: Readonly<HealthSnapshot> = Object.freeze({
  errorRate: null,
  latencyP99Ms: null,
  requestCount: null,
  custom: null,
  instances: 0,
});

function finite(v: number | null | undefined): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

/**
 * Mean of `values`, weighted by `weights` when every weight is known and they
 * sum to more than 0; a plain mean otherwise; null for no values.
 */
function mean(values: ReadonlyArray<{ value: number; weight: number | null }>): number | null {
  if (values.length === 0) return null;
  const totalWeight = values.reduce((sum, v) => sum + (v.weight ?? 0), 0);
  if (values.every((v) => v.weight !== null) && totalWeight > 0) {
    return values.reduce((sum, v) => sum + v.value * v.weight!, 0) / totalWeight;
  }
  return values.reduce((sum, v) => sum + v.value, 0) / values.length;
}

function pushTo(map: Map<string, number[]>, name: string, value: number): void {
  const list = map.get(name);
  if (list === undefined) map.set(name, [value]);
  else list.push(value);
}

interface InstanceAggregate {
  errorRate: number | null;
  /** Requests behind errorRate, null unless every sample with an error rate had a request count. */
  errorWeight: number | null;
  latencyP99Ms: number | null;
  requestCount: number | null;
  custom: Map<string, number>;
}

function aggregateInstance(samples: readonly MetricsSample[]): InstanceAggregate | null {
  const errors: Array<{ value: number; weight: number | null }> = [];
  const latencies: number[] = [];
  const custom = new Map<string, number[]>();
  let requestCount: number | null = null;
  for (const { metrics: m } of samples) {
    const count = finite(m.requestCount) ? m.requestCount : null;
    if (count !== null) requestCount = (requestCount ?? 0) + count;
    if (finite(m.errorRate)) errors.push({ value: m.errorRate, weight: count });
    if (finite(m.latencyP99Ms)) latencies.push(m.latencyP99Ms);
    for (const [name, value] of Object.entries(m.custom ?? {})) {
      if (finite(value)) pushTo(custom, name, value);
    }
  }
  if (errors.length === 0 && latencies.length === 0 && requestCount === null && custom.size === 0) return null;
  const weights = errors.map((e) => e.weight);
  return {
    errorRate: mean(errors),
    errorWeight: errors.length > 0 && weights.every((w) => w !== null) ? weights.reduce((a, b) => a! + b!, 0) : null,
    latencyP99Ms: mean(latencies.map((value) => ({ value, weight: null }))),
    requestCount,
    custom: new Map([...custom].map(([name, values]) => [name, values.reduce((a, b) => a + b, 0) / values.length])),
  };
}

/**
 * Aggregates the heartbeats of a group of instances received at or after `since`.
 *
 * - errorRate: request-weighted mean (per sample, then per instance) when every
 *   sample carrying an error rate also carries a request count (and they are not
 *   all 0), else a plain mean (of samples per instance, then of instances).
 *   Request counts are taken as the requests each heartbeat covers.
 * - latencyP99Ms: the mean of the instances' p99 (each the mean of its samples).
 *   An approximation: percentiles do not average, but without histograms it is
 *   the best estimate and it moves the right way.
 * - requestCount: the sum.
 * - custom: each metric averaged per name (per instance, then over the instances that reported it).
 * - instances: how many instances reported at least one metric in the window.
 *
 * Non-finite values count as not reported. A metric nobody reported is null.
 */
export function aggregate(samplesByInstance: ReadonlyMap<string, readonly MetricsSample[]>, since: Date): HealthSnapshot {
  const from = since.getTime();
  const perInstance: InstanceAggregate[] = [];
  for (const samples of samplesByInstance.values()) {
    const agg = aggregateInstance(samples.filter((s) => s.at.getTime() >= from));
    if (agg !== null) perInstance.push(agg);
  }
  const errors = perInstance.flatMap((a) => (a.errorRate === null ? [] : [{ value: a.errorRate, weight: a.errorWeight }]));
  const latencies = perInstance.flatMap((a) => (a.latencyP99Ms === null ? [] : [{ value: a.latencyP99Ms, weight: null }]));
  const counts = perInstance.flatMap((a) => (a.requestCount === null ? [] : [a.requestCount]));
  const customValues = new Map<string, number[]>();
  for (const a of perInstance) {
    for (const [name, value] of a.custom) pushTo(customValues, name, value);
  }
  // fromEntries defines own properties, so a metric named "__proto__" stays a metric.
  const custom: Record<string, number> = Object.fromEntries(
    [...customValues]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, values]) => [name, values.reduce((x, y) => x + y, 0) / values.length]),
  );
  return {
    errorRate: mean(errors),
    latencyP99Ms: mean(latencies),
    requestCount: counts.length === 0 ? null : counts.reduce((a, b) => a + b, 0),
    custom: customValues.size === 0 ? null : custom,
    instances: perInstance.length,
  };
}
