/**
 * Compares one metric of the updated instances (the canary) with the control
 * group's over the same window, as Netflix's Kayenta judge does: a Mann-Whitney
 * U test says whether the canary is worse at all, an effect tolerance says
 * whether it is worse by enough to matter. A statistically detectable but tiny
 * shift (a large fleet detects 0.05 points of error rate) does not fail a phase.
 */
import { decimalsToTell, formatAmount, formatDifference, formatPValue, formatValue } from './format.js';
import { mannWhitneyU, median } from './mann-whitney.js';
import { subsample } from './subsample.js';
import { assertSpec, finiteOnly, isBeyond, MetricCheck, MetricOutcome, type MetricSpec, type MetricVerdict, verdictsOf } from './metric-verdict.js';

/**
 * Confidence that the canary is worse before a metric may fail: 98 %, the level
 * of Kayenta's NetflixACAJudge (which checks a two-sided 98 % interval of the
 * shift against its tolerance). Here the test is one-sided in the worse
 * direction, so when nothing changed a metric fails at most 2 % of the time on
 * the test alone, and far less once the tolerance applies.
 */
export const DEFAULT_CONFIDENCE = 0.98;

/**
 * Samples each group needs before the test may judge: 10. Below it a verdict
 * is mostly noise: at 5 vs 5 a shift of 1.5 standard deviations is caught 42 %
 * of the time at the default confidence and one outlier is a fifth of a group;
 * at 10 vs 10 it is caught 83 % of the time (simulated, normal data), and past
 * 50 samples, where the p-value comes from the normal approximation, a group of
 * 10 keeps it within 0.002 of the exact one. At the default 10 s heartbeat it
 * is 100 s of one updated instance, or 20 s of five.
 */
export const DEFAULT_MIN_SAMPLES = 10;

/**
 * Error rate tolerance by default: 0.5 points (0.005 as a share). A tenth of
 * the fixed "+5 points over baseline" limit HotSwap judged by before, and half
 * the +1 point regression the rank test must catch, leaving room for the
 * estimate's noise with a 30-sample canary (see the simulation in
 * test/unit/domain/statistics/simulation.test.ts).
 */
export const DEFAULT_ERROR_RATE_TOLERANCE = 0.005;

export interface RankComparison extends MetricSpec {
  /** How far the canary may be shifted in the worse direction, in the metric's unit (error rate: a share, 0.005 = 0.5 points). */
  tolerance: number;
  /** @default DEFAULT_CONFIDENCE (0.98) */
  confidence?: number;
  /** @default DEFAULT_MIN_SAMPLES (10) */
  minSamples?: number;
}

/** The level the p-value must be under, for display: 0.98 → "0.02", not 0.020000000000000018. */
function levelOf(confidence: number): number {
  return Number((1 - confidence).toPrecision(6));
}

/**
 * Judges one metric. Non-finite samples count as not reported. NO_DATA when
 * either group has fewer than `minSamples`; FAIL when the one-sided p-value in
 * the worse direction is under 1 − confidence and the Hodges-Lehmann shift goes
 * beyond the tolerance in that direction (an effect exactly at it passes);
 * PASS otherwise.
 *
 * @example compareMetric({ name: 'error rate', unit: 'share', direction: 'increase',
 *   critical: true, weight: 1, tolerance: 0.005 }, canary, control)
 *   → { verdict: FAIL, reason: "error rate: canary median 2.1 % vs control 0.4 % (n=30/270), p<0.001, +1.7 points > tolerance 0.5: FAIL", … }
 * @throws RangeError when the tolerance, confidence, minimum or weight is out of range
 */
export function compareMetric(comparison: RankComparison, canarySamples: readonly number[], controlSamples: readonly number[]): MetricVerdict {
  const { name, unit, direction, tolerance } = comparison;
  const label = comparison.label ?? name;
  const reference = comparison.reference ?? 'control';
  const confidence = comparison.confidence ?? DEFAULT_CONFIDENCE;
  const minSamples = comparison.minSamples ?? DEFAULT_MIN_SAMPLES;
  assertSpec(comparison, {
    'tolerance (≥ 0)': Number.isFinite(tolerance) && tolerance >= 0,
    'confidence (between 0 and 1)': confidence > 0 && confidence < 1,
    'minSamples (a whole number ≥ 1)': Number.isInteger(minSamples) && minSamples >= 1,
  });
  const canary = finiteOnly(canarySamples);
  const control = finiteOnly(controlSamples);
  const canaryMedian = median(canary);
  const controlMedian = median(control);
  const counts = `n=${canary.length}/${control.length}`;
  const of = verdictsOf(comparison, MetricCheck.MANN_WHITNEY, { canaryCount: canary.length, controlCount: control.length, canaryMedian, controlMedian });
  const verdict = (outcome: MetricOutcome, effect: number | null, pValue: number | null, reason: string): MetricVerdict => of(outcome, { effect, pValue, tolerance }, reason);

  if (canaryMedian === null || controlMedian === null || canary.length < minSamples || control.length < minSamples) {
    return verdict(MetricOutcome.NO_DATA, null, null, `${label}: not enough samples (${counts}, ${minSamples} needed in each group)`);
  }
  // The test looks at each group's quantiles when a group is large (subsample.ts): the counts and medians above are of every sample.
  const test = mannWhitneyU(subsample(canary), subsample(control), direction === 'increase' ? 'greater' : 'less');
  const effect = test.shift;
  const level = levelOf(confidence);
  const head = `${label}: canary median ${formatValue(unit, canaryMedian)} vs ${reference} ${formatValue(unit, controlMedian)} (${counts}), ${formatPValue(test.pValue)}`;
  if (!(test.pValue < level)) {
    return verdict(MetricOutcome.PASS, effect, test.pValue, `${head} ≥ ${level}, ${formatDifference(unit, effect)}`);
  }
  const bound = direction === 'increase' ? tolerance : -tolerance;
  const decimals = decimalsToTell(unit, effect, bound);
  const shown = formatDifference(unit, effect, decimals);
  const allowed = `tolerance ${formatAmount(unit, bound, decimals)}`;
  if (isBeyond(effect, tolerance, direction)) {
    return verdict(MetricOutcome.FAIL, effect, test.pValue, `${head}, ${shown} ${direction === 'increase' ? '>' : '<'} ${allowed}`);
  }
  return verdict(MetricOutcome.PASS, effect, test.pValue, `${head}, ${shown} ${direction === 'increase' ? '≤' : '≥'} ${allowed}`);
}
