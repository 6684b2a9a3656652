/**
 * A deployment's health policy, and the checks it asks for: a rank test per
 * metric (error rate and p99 latency by default, plus every metric the policy
 * names, from heartbeats or a PromQL query) and the fixed limits HotSwap judged
 * by before, when the policy sets them.
 */
import { InconclusiveAction } from './enums.js';
import { DEFAULT_MIN_HEARTBEATS } from './health-evidence.js';
import { DEFAULT_CONFIDENCE, DEFAULT_ERROR_RATE_TOLERANCE, DEFAULT_MIN_SAMPLES } from './statistics/metric-comparison.js';
import type { FixedLimit } from './statistics/fixed-limit.js';
import type { MetricDirection, MetricSpec } from './statistics/metric-verdict.js';
import type { MetricUnit } from './statistics/format.js';
import { DEFAULT_MARGINAL_THRESHOLD, DEFAULT_PASS_THRESHOLD } from './statistics/score.js';

/** The heartbeat metrics every instance may report, by the names a policy uses for them. */
export const ERROR_RATE = 'errorRate';
export const LATENCY_P99 = 'latencyP99Ms';

/**
 * Tolerance of a metric that names no other, as a percent of the control's
 * median: 10 %. p99 latency may drift that far before a detected shift fails a
 * phase (20 ms on a 200 ms service); a tighter service sets its own.
 */
export const DEFAULT_TOLERANCE_PCT = 10;

/** Below this a control median counts as this for a percent tolerance, so 0 allows something (ms for latency). */
export const TOLERANCE_FLOOR = 1;

/** One metric the policy compares between the canary and the control group. */
export interface MetricPolicy {
  /** errorRate, latencyP99Ms, a custom heartbeat metric, or any name for a query. */
  name: string;
  /** PromQL evaluated for each group (metrics-source/); null: the instances' heartbeats. */
  query: string | null;
  unit: MetricUnit;
  direction: MetricDirection;
  critical: boolean;
  weight: number;
  /** How far the canary may be worse, in the metric's unit; null: `tolerancePct` of the control median. */
  tolerance: number | null;
  tolerancePct: number;
}

export interface HealthPolicy {
  /** Fixed limits, each checked besides the rank tests when set: error rate over the control in points (0.05 = 5). */
  maxErrorRateIncrease: number | null;
  /** p99 latency over the control in percent. */
  maxLatencyIncreasePct: number | null;
  /** Heartbeat custom metrics' upper bounds: { "queueDepth": 100 }. */
  customThresholds: Record<string, number> | null;
  autoRollback: boolean;
  /** Heartbeats with metrics an updated instance sends after applying before it counts as evidence (health-evidence.ts). */
  minHeartbeats: number;
  /** How long a phase keeps observing past its bake for evidence; null: the server's default (6 heartbeat intervals). */
  evidenceTimeoutSeconds: number | null;
  /** What a phase does when its verdict is still INCONCLUSIVE at that bound. */
  onInconclusive: InconclusiveAction;
  /** Confidence the canary is worse before a metric fails (statistics/metric-comparison.ts). */
  confidence: number;
  /** Samples each group needs before a metric is judged. */
  minSamples: number;
  passThreshold: number;
  marginalThreshold: number;
  /** Every metric compared, the defaults for errorRate and latencyP99Ms included. */
  metrics: MetricPolicy[];
}

/** The error rate and p99 latency entries a policy gets unless it names them itself. */
export const DEFAULT_METRICS: readonly MetricPolicy[] = Object.freeze([
  { name: ERROR_RATE, query: null, unit: 'share', direction: 'increase', critical: true, weight: 1, tolerance: DEFAULT_ERROR_RATE_TOLERANCE, tolerancePct: DEFAULT_TOLERANCE_PCT },
  { name: LATENCY_P99, query: null, unit: 'ms', direction: 'increase', critical: false, weight: 1, tolerance: null, tolerancePct: DEFAULT_TOLERANCE_PCT },
]);

/** The unit a metric of that name reads in when the policy does not say. */
export function defaultUnit(name: string): MetricUnit {
  if (name === ERROR_RATE) return 'share';
  if (name === LATENCY_P99) return 'ms';
  return 'plain';
}

/** How a metric reads in a reason: "error rate", "p99 latency", a custom metric's own name. */
export function metricLabel(name: string): string {
  if (name === ERROR_RATE) return 'error rate';
  if (name === LATENCY_P99) return 'p99 latency';
  return name;
}

/** The policy's metrics with the defaults in front, replaced where the policy names errorRate or latencyP99Ms itself. */
export function withDefaultMetrics(named: readonly MetricPolicy[]): MetricPolicy[] {
  const own = new Set(named.map((m) => m.name));
  return [...DEFAULT_METRICS.filter((m) => !own.has(m.name)), ...named];
}

/** A policy as stored by an earlier release, with the defaults of the fields it lacks. */
export function withPolicyDefaults(stored: Partial<HealthPolicy> & Pick<HealthPolicy, 'autoRollback'>): HealthPolicy {
  return {
    maxErrorRateIncrease: stored.maxErrorRateIncrease ?? null,
    maxLatencyIncreasePct: stored.maxLatencyIncreasePct ?? null,
    customThresholds: stored.customThresholds ?? null,
    autoRollback: stored.autoRollback,
    minHeartbeats: stored.minHeartbeats ?? DEFAULT_MIN_HEARTBEATS,
    evidenceTimeoutSeconds: stored.evidenceTimeoutSeconds ?? null,
    onInconclusive: stored.onInconclusive ?? InconclusiveAction.PAUSE,
    confidence: stored.confidence ?? DEFAULT_CONFIDENCE,
    minSamples: stored.minSamples ?? DEFAULT_MIN_SAMPLES,
    passThreshold: stored.passThreshold ?? DEFAULT_PASS_THRESHOLD,
    marginalThreshold: stored.marginalThreshold ?? DEFAULT_MARGINAL_THRESHOLD,
    metrics: stored.metrics ?? withDefaultMetrics([]),
  };
}

/** Where a check's samples come from: a heartbeat metric, or a query. */
export type SampleSource = { kind: 'heartbeat'; name: string } | { kind: 'query'; name: string; query: string };

/** One check of a phase: a rank test with a tolerance, or a fixed limit. */
export type HealthCheck =
  | { kind: 'rank'; source: SampleSource; spec: MetricSpec; tolerance: number | null; tolerancePct: number }
  | { kind: 'limit'; source: SampleSource; spec: MetricSpec; limit: FixedLimit };

function specOf(m: Pick<MetricPolicy, 'name' | 'unit' | 'direction' | 'critical' | 'weight'>): MetricSpec {
  return { name: m.name, label: metricLabel(m.name), unit: m.unit, direction: m.direction, critical: m.critical, weight: m.weight };
}

/**
 * The checks `policy` asks for, in the order they are reported: a rank test
 * per metric, then the fixed limits it sets. A fixed limit is critical: a
 * breach fails the phase, as it always has.
 */
export function healthChecks(policy: HealthPolicy): HealthCheck[] {
  const checks: HealthCheck[] = policy.metrics.map((m) => ({
    kind: 'rank',
    source: m.query === null ? { kind: 'heartbeat', name: m.name } : { kind: 'query', name: m.name, query: m.query },
    spec: specOf(m),
    tolerance: m.tolerance,
    tolerancePct: m.tolerancePct,
  }));
  const limit = (name: string, fixed: FixedLimit): HealthCheck => ({
    kind: 'limit',
    source: { kind: 'heartbeat', name },
    spec: specOf({ name, unit: defaultUnit(name), direction: 'increase', critical: true, weight: 1 }),
    limit: fixed,
  });
  if (policy.maxErrorRateIncrease !== null) checks.push(limit(ERROR_RATE, { kind: 'delta', max: policy.maxErrorRateIncrease }));
  if (policy.maxLatencyIncreasePct !== null) {
    checks.push(limit(LATENCY_P99, { kind: 'percent', max: policy.maxLatencyIncreasePct, floor: TOLERANCE_FLOOR }));
  }
  for (const [name, value] of Object.entries(policy.customThresholds ?? {})) checks.push(limit(name, { kind: 'bound', value }));
  return checks;
}

/** Sources the checks read, each once: several checks of one metric share its samples. */
export function sourcesOf(checks: readonly HealthCheck[]): SampleSource[] {
  const seen = new Map<string, SampleSource>();
  for (const { source } of checks) seen.set(sourceKey(source), source);
  return [...seen.values()];
}

export function sourceKey(source: SampleSource): string {
  return source.kind === 'heartbeat' ? `heartbeat:${source.name}` : `query:${source.name}:${source.query}`;
}
