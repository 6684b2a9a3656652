/**
 * Heartbeats turned into the samples a health check compares: one value per
 * heartbeat per metric, for the canary per instance, for the control group
 * pooled, and the baseline kept when a deployment starts.
 */
import { ERROR_RATE, LATENCY_P99 } from './health-policy.js';
import type { MetricsSample } from './health-snapshot.js';
import type { InstanceMetrics } from './instance.js';
import { subsample } from './statistics/subsample.js';

/** The value of heartbeat metric `name` (errorRate, latencyP99Ms or a custom one), when it is a finite number. */
export function metricValue(metrics: InstanceMetrics, name: string): number | null {
  let value: unknown;
  if (name === ERROR_RATE) value = metrics.errorRate;
  else if (name === LATENCY_P99) value = metrics.latencyP99Ms;
  else value = metrics.custom !== null && metrics.custom !== undefined && Object.hasOwn(metrics.custom, name) ? metrics.custom[name] : undefined;
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** Whether a heartbeat's metrics hold any finite number: an empty `{}` (a scrape that found nothing) is no evidence. */
export function carriesMetrics(metrics: InstanceMetrics): boolean {
  if ([metrics.errorRate, metrics.latencyP99Ms, metrics.requestCount].some((v) => typeof v === 'number' && Number.isFinite(v))) return true;
  return Object.values(metrics.custom ?? {}).some((v) => typeof v === 'number' && Number.isFinite(v));
}

/** The values of metric `name` in `samples` received at or after `since`. */
export function valuesOf(samples: readonly MetricsSample[], name: string, since: Date): number[] {
  const from = since.getTime();
  const values: number[] = [];
  for (const s of samples) {
    if (s.at.getTime() < from) continue;
    const v = metricValue(s.metrics, name);
    if (v !== null) values.push(v);
  }
  return values;
}

/** Every heartbeat metric named in `samples`: errorRate, latencyP99Ms and the custom ones. */
export function metricNames(histories: Iterable<readonly MetricsSample[]>): string[] {
  const names = new Set<string>();
  for (const samples of histories) {
    for (const { metrics } of samples) {
      if (metricValue(metrics, ERROR_RATE) !== null) names.add(ERROR_RATE);
      if (metricValue(metrics, LATENCY_P99) !== null) names.add(LATENCY_P99);
      for (const name of Object.keys(metrics.custom ?? {})) if (metricValue(metrics, name) !== null) names.add(name);
    }
  }
  return [...names].sort();
}

/** Baseline samples kept per metric, at most: 1,000 numbers (~20 KB of JSON) keep its quantiles to within 0.1 %. */
export const BASELINE_SAMPLES = 1000;

/**
 * The baseline to keep with a deployment: per metric, every instance's
 * heartbeats since `since`, pooled and capped at evenly spaced ranks
 * (subsample.ts), so a deployment row stays small at 10,000 instances.
 */
export function baselineSamples(histories: ReadonlyMap<string, readonly MetricsSample[]>, since: Date): Record<string, number[]> {
  const byName: Record<string, number[]> = {};
  for (const name of metricNames(histories.values())) {
    byName[name] = subsample([...histories.values()].flatMap((samples) => valuesOf(samples, name, since)), BASELINE_SAMPLES);
  }
  return byName;
}

/**
 * The control group of one metric: the instances not yet updated over the
 * canary's window when they sent `minSamples` of it, else the baseline kept
 * when the deployment started (the last phase has no instance left on the
 * previous version). `reference` is how it reads in a reason.
 */
export function controlOf(
  notUpdated: readonly number[],
  baseline: readonly number[] | undefined,
  minSamples: number,
): { control: readonly number[]; reference: string } {
  if (notUpdated.length >= minSamples || baseline === undefined) return { control: notUpdated, reference: 'control' };
  return { control: baseline, reference: 'baseline' };
}
