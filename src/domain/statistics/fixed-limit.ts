/**
 * Fixed limits, the checks HotSwap judged by before the rank test ("+5 points
 * of error rate over the baseline", "+50 % p99", "queue depth ≤ 100"), on the
 * groups' medians and reported in the same form as a rank test, with no p-value.
 */
import { decimalsToTell, formatAmount, formatDifference, formatValue } from './format.js';
import { median } from './mann-whitney.js';
import { DEFAULT_MIN_SAMPLES } from './metric-comparison.js';
import { assertSpec, finiteOnly, isBeyond, MetricCheck, MetricOutcome, type MetricSpec, type MetricVerdict, verdictsOf } from './metric-verdict.js';

export type FixedLimit =
  /** The canary median may be worse than the control median by `max`, in the metric's unit (error rate: 0.05 = 5 points). */
  | { kind: 'delta'; max: number }
  /**
   * The canary median may be worse by `max` percent of the control median; a
   * control median under `floor` counts as `floor`, so a 0 ms control allows
   * `max` % of the floor rather than nothing (health.ts's LATENCY_FLOOR_MS).
   */
  | { kind: 'percent'; max: number; floor: number }
  /** The canary median may not be beyond `value` in the worse direction; the control is not looked at. */
  | { kind: 'bound'; value: number };

export interface LimitCheck extends MetricSpec {
  limit: FixedLimit;
  /** @default DEFAULT_MIN_SAMPLES (10), in each group the limit looks at */
  minSamples?: number;
}

function limitProblems(limit: FixedLimit): Record<string, boolean> {
  if (limit.kind === 'bound') return { 'limit value (finite)': Number.isFinite(limit.value) };
  const ok = { 'limit max (≥ 0)': Number.isFinite(limit.max) && limit.max >= 0 };
  return limit.kind === 'percent' ? { ...ok, 'limit floor (> 0)': Number.isFinite(limit.floor) && limit.floor > 0 } : ok;
}

/**
 * Judges one metric against a fixed limit. Non-finite samples count as not
 * reported; NO_DATA when a group the limit looks at has fewer than
 * `minSamples`. A median exactly at the limit passes.
 *
 * @example checkFixedLimit({ name: 'p99 latency', unit: 'ms', direction: 'increase', critical: false,
 *   weight: 1, limit: { kind: 'percent', max: 50, floor: 1 } }, canary, control)
 *   → reason "p99 latency: canary median 320 ms vs control 200 ms (n=30/270), +60 % > limit 50 %: FAIL"
 * @throws RangeError when the limit, minimum or weight is out of range
 */
export function checkFixedLimit(check: LimitCheck, canarySamples: readonly number[], controlSamples: readonly number[]): MetricVerdict {
  const { name, unit, direction, limit } = check;
  const label = check.label ?? name;
  const reference = check.reference ?? 'control';
  const minSamples = check.minSamples ?? DEFAULT_MIN_SAMPLES;
  assertSpec(check, { ...limitProblems(limit), 'minSamples (a whole number ≥ 1)': Number.isInteger(minSamples) && minSamples >= 1 });
  const canary = finiteOnly(canarySamples);
  const control = limit.kind === 'bound' ? [] : finiteOnly(controlSamples);
  const canaryMedian = median(canary);
  const controlMedian = median(control);
  const of = verdictsOf(check, MetricCheck.FIXED_LIMIT, { canaryCount: canary.length, controlCount: control.length, canaryMedian, controlMedian });
  const verdict = (outcome: MetricOutcome, effect: number | null, tolerance: number | null, reason: string): MetricVerdict => of(outcome, { effect, pValue: null, tolerance }, reason);
  const worse = (beyond: boolean): string => (direction === 'increase' ? (beyond ? '>' : '≤') : beyond ? '<' : '≥');

  if (limit.kind === 'bound') {
    if (canaryMedian === null || canary.length < minSamples) {
      return verdict(MetricOutcome.NO_DATA, null, 0, `${label}: not enough samples (n=${canary.length}, ${minSamples} needed)`);
    }
    const effect = canaryMedian - limit.value;
    const beyond = isBeyond(effect, 0, direction);
    const decimals = decimalsToTell(unit, canaryMedian, limit.value);
    const reason = `${label}: canary median ${formatValue(unit, canaryMedian, decimals)} (n=${canary.length}) ${worse(beyond)} limit ${formatValue(unit, limit.value, decimals)}`;
    return verdict(beyond ? MetricOutcome.FAIL : MetricOutcome.PASS, effect, 0, reason);
  }

  const counts = `n=${canary.length}/${control.length}`;
  if (canaryMedian === null || controlMedian === null || canary.length < minSamples || control.length < minSamples) {
    const tolerance = limit.kind === 'delta' ? limit.max : null;
    return verdict(MetricOutcome.NO_DATA, null, tolerance, `${label}: not enough samples (${counts}, ${minSamples} needed in each group)`);
  }
  const effect = canaryMedian - controlMedian;
  const head = `${label}: canary median ${formatValue(unit, canaryMedian)} vs ${reference} ${formatValue(unit, controlMedian)} (${counts})`;
  const sign = direction === 'increase' ? 1 : -1;
  if (limit.kind === 'delta') {
    const beyond = isBeyond(effect, limit.max, direction);
    const decimals = decimalsToTell(unit, effect, sign * limit.max);
    const reason = `${head}, ${formatDifference(unit, effect, decimals)} ${worse(beyond)} limit ${formatAmount(unit, sign * limit.max, decimals)}`;
    return verdict(beyond ? MetricOutcome.FAIL : MetricOutcome.PASS, effect, limit.max, reason);
  }
  const base = Math.max(Math.abs(controlMedian), limit.floor);
  const tolerance = (base * limit.max) / 100;
  const beyond = isBeyond(effect, tolerance, direction);
  if (Math.abs(controlMedian) >= limit.floor) {
    const percent = (effect / base) * 100;
    const decimals = decimalsToTell('plain', percent, sign * limit.max);
    const reason = `${head}, ${formatDifference('plain', percent, decimals)} % ${worse(beyond)} limit ${formatAmount('plain', sign * limit.max, decimals)} %`;
    return verdict(beyond ? MetricOutcome.FAIL : MetricOutcome.PASS, effect, tolerance, reason);
  }
  const decimals = decimalsToTell(unit, effect, sign * tolerance);
  const floor = `${formatAmount('plain', limit.max)} % of the ${formatValue(unit, limit.floor)} floor`;
  const reason = `${head}, ${formatDifference(unit, effect, decimals)} ${worse(beyond)} limit ${formatAmount(unit, sign * tolerance, decimals)} (${floor})`;
  return verdict(beyond ? MetricOutcome.FAIL : MetricOutcome.PASS, effect, tolerance, reason);
}
