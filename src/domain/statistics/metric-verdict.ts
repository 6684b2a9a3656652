/**
 * The per-metric result of a phase's health judgement, whichever check made
 * it: the rank test of metric-comparison.ts or a fixed limit of fixed-limit.ts.
 */
import type { MetricUnit } from './format.js';

/** What one metric says about a phase. */
export enum MetricOutcome {
  PASS = 'PASS',
  FAIL = 'FAIL',
  /** Too few samples in a group to judge (see DEFAULT_MIN_SAMPLES): never counted as a PASS. */
  NO_DATA = 'NO_DATA',
}

/** Which check judged a metric. */
export enum MetricCheck {
  /** Mann-Whitney U test of the canary's samples against the control's, with an effect tolerance. */
  MANN_WHITNEY = 'MANN_WHITNEY',
  /** A fixed limit on the canary's median, over the control's or absolute; no p-value. */
  FIXED_LIMIT = 'FIXED_LIMIT',
}

/** The direction of change that counts as worse: 'increase' for error rate and latency. */
export type MetricDirection = 'increase' | 'decrease';

/** What every check of a metric is told about it. */
export interface MetricSpec {
  /** The policy's name for it: errorRate, latencyP99Ms, a custom metric's name. */
  name: string;
  /** As it reads in a reason ("error rate", "p99 latency"); the name when absent. */
  label?: string;
  /** What the control group is, as it reads in a reason: "control" (the default), "baseline". */
  reference?: string;
  unit: MetricUnit;
  /** The direction that counts as worse. */
  direction: MetricDirection;
  /** Its FAIL fails the phase whatever the other metrics say; without data, the phase cannot pass. */
  critical: boolean;
  /** Its share of the phase score (score.ts); 0 reports the metric without scoring it. */
  weight: number;
}

export interface MetricVerdict {
  name: string;
  verdict: MetricOutcome;
  check: MetricCheck;
  unit: MetricUnit;
  direction: MetricDirection;
  critical: boolean;
  weight: number;
  /** What the control group was: "control" (instances not yet updated), "baseline" (before the deployment). */
  reference: string;
  /** Finite samples of the updated instances since they applied. */
  canaryCount: number;
  /** Finite samples of the control group over the same window (0 for a bound, which has no control). */
  controlCount: number;
  /** null when the group has no sample. */
  canaryMedian: number | null;
  controlMedian: number | null;
  /**
   * How far the canary sits from its reference, in the metric's unit: the
   * Hodges-Lehmann shift over the control (MANN_WHITNEY), the difference of the
   * medians (a delta or percent limit), or the canary median minus the bound.
   * null when it could not be computed (NO_DATA).
   */
  effect: number | null;
  /** One-sided, in the worse direction; null for a fixed limit or NO_DATA. */
  pValue: number | null;
  /**
   * How far the effect may go in the worse direction before the metric fails,
   * in the metric's unit (≥ 0): the rank test's tolerance, or a limit's
   * allowance (a percent limit converted with the control median; 0 for a
   * bound). null when it could not be computed (a percent limit without control).
   */
  tolerance: number | null;
  /** One sentence ending in the verdict: "error rate: canary median 2.1 % vs control 0.4 % (n=30/270), p=0.003, +1.7 points > tolerance 0.5: FAIL". */
  reason: string;
}

/** A check's result: how far the canary sits, its p-value, and the tolerance it was held to. */
export interface CheckResult {
  effect: number | null;
  pValue: number | null;
  tolerance: number | null;
}

/**
 * The verdicts a check of `spec` can give on these groups: the fields they
 * share, filled in once, and a function for the outcome, the result and the
 * reason (": <outcome>" is appended).
 */
export function verdictsOf(
  spec: MetricSpec,
  check: MetricCheck,
  groups: { canaryCount: number; controlCount: number; canaryMedian: number | null; controlMedian: number | null },
): (outcome: MetricOutcome, result: CheckResult, reason: string) => MetricVerdict {
  const { name, unit, direction, critical, weight } = spec;
  return (outcome, result, reason) => ({
    name,
    verdict: outcome,
    check,
    unit,
    direction,
    critical,
    weight,
    reference: spec.reference ?? 'control',
    ...groups,
    ...result,
    reason: `${reason}: ${outcome}`,
  });
}

/** Comparisons tolerate this much float noise (relative to the tolerance, at least absolute): an effect at the limit passes. */
const EPSILON = 1e-9;

/** True when `effect` goes further than `tolerance` in the worse `direction`. */
export function isBeyond(effect: number, tolerance: number, direction: MetricDirection): boolean {
  const worse = direction === 'increase' ? effect : -effect;
  return worse > tolerance + EPSILON * Math.max(1, tolerance);
}

/** The finite values: like health.ts, a non-finite value counts as not reported. */
export function finiteOnly(values: readonly number[]): number[] {
  return values.filter(Number.isFinite);
}

/** Throws a RangeError naming each field of `spec` that no check can work with. */
export function assertSpec(spec: MetricSpec, extra: Record<string, boolean> = {}): void {
  const problems = Object.entries({ 'weight (≥ 0)': Number.isFinite(spec.weight) && spec.weight >= 0, ...extra })
    .filter(([, ok]) => !ok)
    .map(([field]) => field);
  if (problems.length > 0) throw new RangeError(`metric ${spec.name}: invalid ${problems.join(', ')}`);
}
