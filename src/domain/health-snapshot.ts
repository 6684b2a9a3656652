/**
 * Health monitoring of progressive deployments as pure functions: aggregate
 * heartbeat metrics into snapshots, and judge the updated instances against the
 * baseline captured at the start and against the instances not yet updated.
 */
import type { HealthPolicy } from './deployment-model.js';
import { HealthVerdict } from './enums.js';
import { describeMissingEvidence, type Evidence, isEnough } from './health-evidence.js';
import type { InstanceMetrics } from './instance.js';

export type { HealthPolicy } from './deployment-model.js';

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

export interface HealthReport {
  verdict: HealthVerdict;
  /** verdict === PASS. */
  healthy: boolean;
  baseline: HealthSnapshot;
  /** The updated instances. */
  current: HealthSnapshot;
  /** Why it FAILed, or why it is INCONCLUSIVE, one readable sentence each; empty when it passed. */
  reasons: string[];
  checkedAt: Date;
  /** verdict === INCONCLUSIVE: too little evidence, or nothing the policy checks could be compared. */
  insufficientData: boolean;
  /** How much of the updated instances' reporting there was to judge. */
  evidence: Evidence;
}

/** Below this a p99 baseline (ms) is treated as this, so a 0 ms baseline never divides by zero. */
export const LATENCY_FLOOR_MS = 1;

/** Comparisons tolerate this much float noise: `0.16 - 0.01 > 0.15` is not a breach. */
const EPSILON = 1e-9;

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

/** A number with at most `decimals` decimals, no float noise, no trailing zeros: 140, 33.3. */
function num(n: number, decimals = 1): string {
  const rounded = Number(n.toFixed(decimals));
  return String(Object.is(rounded, -0) ? 0 : rounded);
}

/** A share as percent with one decimal ("7.0%"); small non-zero shares keep two significant digits ("0.04%"). */
function percent(share: number): string {
  const pct = share * 100;
  if (pct !== 0 && Math.abs(pct) < 0.05) return `${Number(pct.toPrecision(2))}%`;
  return `${pct.toFixed(1)}%`;
}

/** Percentage points with one decimal: 0.06 → "6.0"; tiny ones keep two significant digits. */
function points(share: number): string {
  return percent(share).slice(0, -1);
}

/** A custom metric value without float noise (12 significant digits). */
function plain(n: number): string {
  return String(Number(n.toPrecision(12)));
}

function errorRateReason(current: number, reference: number, label: string, max: number): string | null {
  const increase = current - reference;
  if (!(increase > max + EPSILON)) return null;
  return `error rate ${percent(current)} vs ${label} ${percent(reference)}: +${points(increase)} points > ${points(max)}`;
}

/**
 * p99 latency may grow by `maxPct` percent of the reference. A reference below
 * {@link LATENCY_FLOOR_MS} counts as the floor for the allowance, so a 0 ms
 * baseline allows `maxPct`% of 1 ms instead of dividing by zero.
 */
function latencyReason(current: number, reference: number, label: string, maxPct: number): string | null {
  const increase = current - reference;
  const base = Math.max(reference, LATENCY_FLOOR_MS);
  const allowed = (base * maxPct) / 100;
  if (!(increase > allowed + EPSILON * Math.max(1, base))) return null;
  const head = `p99 latency ${num(current)} ms vs ${label} ${num(reference)} ms`;
  if (reference >= LATENCY_FLOOR_MS) {
    return `${head}: +${num((increase / reference) * 100)}% > ${num(maxPct)}%`;
  }
  return `${head}: +${num(increase)} ms > ${num(allowed, 3)} ms allowed (${num(maxPct)}% of ${LATENCY_FLOOR_MS} ms, the floor for a baseline under ${LATENCY_FLOOR_MS} ms)`;
}

/**
 * Judges the updated instances under `policy`:
 * - error rate: increase in points over the baseline, and over the instances not
 *   yet updated when that group reported, above `maxErrorRateIncrease`;
 * - p99 latency: increase in percent over the same references above
 *   `maxLatencyIncreasePct` (see LATENCY_FLOOR_MS for a 0 ms baseline);
 * - each `customThresholds` metric whose updated value exceeds its maximum.
 *
 * A null policy field, or a metric missing on either side of a comparison, is
 * not checked. Increases exactly at the limit pass.
 *
 * The verdict is INCONCLUSIVE, never PASS, when the evidence is not enough
 * (domain/health-evidence.ts), or when the policy checks something but not one
 * of its checks could be made (no metric on both sides). FAIL when a check
 * breached, PASS otherwise. The caller decides how long it waits for evidence.
 */
export function evaluateHealth(input: {
  baseline: HealthSnapshot;
  updated: HealthSnapshot;
  notUpdated: HealthSnapshot | null;
  policy: HealthPolicy;
  evidence: Evidence;
  now: Date;
}): HealthReport {
  const { baseline, updated, policy, evidence } = input;
  const notUpdated = input.notUpdated !== null && input.notUpdated.instances > 0 ? input.notUpdated : null;
  const report = (verdict: HealthVerdict, reasons: string[]): HealthReport => ({
    verdict,
    healthy: verdict === HealthVerdict.PASS,
    baseline,
    current: updated,
    reasons,
    checkedAt: new Date(input.now.getTime()),
    insufficientData: verdict === HealthVerdict.INCONCLUSIVE,
    evidence,
  });
  if (!isEnough(evidence)) return report(HealthVerdict.INCONCLUSIVE, [describeMissingEvidence(evidence)]);

  const references: Array<{ label: string; snapshot: HealthSnapshot }> = [{ label: 'baseline', snapshot: baseline }];
  if (notUpdated !== null) references.push({ label: 'instances not yet updated', snapshot: notUpdated });

  const reasons: string[] = [];
  let compared = 0;
  if (policy.maxErrorRateIncrease !== null && updated.errorRate !== null) {
    for (const { label, snapshot } of references) {
      if (snapshot.errorRate === null) continue;
      compared += 1;
      const r = errorRateReason(updated.errorRate, snapshot.errorRate, label, policy.maxErrorRateIncrease);
      if (r !== null) reasons.push(r);
    }
  }
  if (policy.maxLatencyIncreasePct !== null && updated.latencyP99Ms !== null) {
    for (const { label, snapshot } of references) {
      if (snapshot.latencyP99Ms === null) continue;
      compared += 1;
      const r = latencyReason(updated.latencyP99Ms, snapshot.latencyP99Ms, label, policy.maxLatencyIncreasePct);
      if (r !== null) reasons.push(r);
    }
  }
  const thresholds = Object.entries(policy.customThresholds ?? {});
  for (const [name, max] of thresholds) {
    const value = updated.custom !== null && Object.hasOwn(updated.custom, name) ? updated.custom[name] : undefined;
    if (!finite(value) || !finite(max)) continue;
    compared += 1;
    if (value > max + EPSILON * Math.max(1, Math.abs(max))) reasons.push(`custom metric ${name} ${plain(value)} > ${plain(max)}`);
  }
  if (reasons.length > 0) return report(HealthVerdict.FAIL, reasons);
  const checks = (policy.maxErrorRateIncrease !== null ? 1 : 0) + (policy.maxLatencyIncreasePct !== null ? 1 : 0) + thresholds.length;
  if (checks > 0 && compared === 0) {
    return report(HealthVerdict.INCONCLUSIVE, [
      'nothing to compare: no metric the policy checks was reported both by the updated instances and by the baseline or the instances not yet updated',
    ]);
  }
  return report(HealthVerdict.PASS, []);
}
