import { describe, expect, it } from 'vitest';
import {
  compareMetric,
  DEFAULT_ERROR_RATE_TOLERANCE,
  type RankComparison,
} from '../../../../src/domain/statistics/metric-comparison.js';
import { MetricCheck, MetricOutcome } from '../../../../src/domain/statistics/metric-verdict.js';

/** n values evenly spread from lo to hi. */
function spread(n: number, lo: number, hi: number): number[] {
  return Array.from({ length: n }, (_, i) => lo + ((hi - lo) * i) / Math.max(1, n - 1));
}

const ERROR_RATE: RankComparison = {
  name: 'error rate',
  unit: 'share',
  direction: 'increase',
  critical: true,
  weight: 1,
  tolerance: DEFAULT_ERROR_RATE_TOLERANCE,
};
/** 270 heartbeats of the control group, error rates evenly from 0 to 0.8 %: median 0.4 %. */
const CONTROL = spread(270, 0, 0.008);

describe('compareMetric', () => {
  it("fails a clear regression with the issue's sentence", () => {
    // 12 canary heartbeats as healthy as the control, 18 between 2 % and 3 %.
    const canary = [...spread(12, 0, 0.002), ...spread(18, 0.02, 0.03)];
    const verdict = compareMetric(ERROR_RATE, canary, CONTROL);
    expect(verdict.reason).toBe('error rate: canary median 2.1 % vs control 0.4 % (n=30/270), p=0.003, +1.7 points > tolerance 0.5: FAIL');
    expect(verdict).toMatchObject({
      name: 'error rate',
      verdict: MetricOutcome.FAIL,
      check: MetricCheck.MANN_WHITNEY,
      direction: 'increase',
      critical: true,
      weight: 1,
      canaryCount: 30,
      controlCount: 270,
      controlMedian: 0.004,
      tolerance: 0.005,
    });
    // The 15th and 16th values: the 3rd and 4th of 18 spread over 2 to 3 %.
    expect(verdict.canaryMedian).toBeCloseTo(0.02 + (0.01 * 2.5) / 17, 12);
    expect(verdict.effect).toBeCloseTo(0.017, 3);
    expect(verdict.pValue).toBeGreaterThan(0.003);
    expect(verdict.pValue).toBeLessThan(0.004);
  });

  it('passes a shift the test detects but the tolerance allows', () => {
    const verdict = compareMetric(ERROR_RATE, spread(30, 0.002, 0.01), CONTROL);
    expect(verdict.reason).toBe('error rate: canary median 0.6 % vs control 0.4 % (n=30/270), p<0.001, +0.2 points ≤ tolerance 0.5: PASS');
    expect(verdict.verdict).toBe(MetricOutcome.PASS);
  });

  it('passes a shift beyond the tolerance that the samples do not show with 98 % confidence', () => {
    const control = spread(20, 0, 0.1);
    const verdict = compareMetric(ERROR_RATE, spread(10, 0.01, 0.11), control);
    expect(verdict.reason).toBe('error rate: canary median 6 % vs control 5 % (n=10/20), p=0.223 ≥ 0.02, +1 point: PASS');
    expect(verdict.verdict).toBe(MetricOutcome.PASS);
  });

  it('passes identical samples, whose p-value is far from significant', () => {
    const verdict = compareMetric(ERROR_RATE, CONTROL.slice(0, 30), CONTROL.slice(0, 30));
    expect(verdict).toMatchObject({ verdict: MetricOutcome.PASS, effect: 0 });
    expect(verdict.pValue).toBeGreaterThan(0.5);
  });

  it('says NO_DATA below the minimum samples in either group, counting only finite samples', () => {
    const canary = [...spread(9, 0.02, 0.03), Number.NaN, Number.POSITIVE_INFINITY];
    const verdict = compareMetric(ERROR_RATE, canary, CONTROL);
    expect(verdict).toMatchObject({ verdict: MetricOutcome.NO_DATA, canaryCount: 9, effect: null, pValue: null });
    expect(verdict.reason).toBe('error rate: not enough samples (n=9/270, 10 needed in each group): NO_DATA');
    expect(compareMetric({ ...ERROR_RATE, minSamples: 300 }, spread(300, 0.02, 0.03), CONTROL).verdict).toBe(MetricOutcome.NO_DATA);
    expect(compareMetric(ERROR_RATE, [], []).reason).toBe('error rate: not enough samples (n=0/0, 10 needed in each group): NO_DATA');
  });

  it('judges a metric whose decrease is worse, in plain numbers', () => {
    const throughput: RankComparison = { name: 'orders per second', unit: 'plain', direction: 'decrease', critical: false, weight: 2, tolerance: 10 };
    const failed = compareMetric(throughput, spread(30, 60, 80), spread(100, 90, 110));
    expect(failed.reason).toBe('orders per second: canary median 70 vs control 100 (n=30/100), p<0.001, -30 < tolerance -10: FAIL');
    const passed = compareMetric(throughput, spread(30, 95, 115), spread(100, 90, 110));
    expect(passed.reason).toBe('orders per second: canary median 105 vs control 100 (n=30/100), p=0.999 ≥ 0.02, +5: PASS');
  });

  it('reads latency in ms, with the decimals it takes to tell the effect from the tolerance', () => {
    const latency: RankComparison = { name: 'p99 latency', unit: 'ms', direction: 'increase', critical: false, weight: 1, tolerance: 20 };
    const verdict = compareMetric(latency, spread(30, 220.04, 240.04), spread(30, 200, 220));
    expect(verdict.reason).toBe('p99 latency: canary median 230 ms vs control 210 ms (n=30/30), p<0.001, +20.04 ms > tolerance 20: FAIL');
  });

  it('passes an effect exactly at the tolerance', () => {
    const latency: RankComparison = { name: 'p99 latency', unit: 'ms', direction: 'increase', critical: false, weight: 1, tolerance: 20 };
    const verdict = compareMetric(latency, spread(30, 220, 240), spread(30, 200, 220));
    expect(verdict.reason).toBe('p99 latency: canary median 230 ms vs control 210 ms (n=30/30), p<0.001, +20 ms ≤ tolerance 20: PASS');
  });

  it('takes a confidence: at 99.9 % a p-value of 0.003 is not enough', () => {
    const canary = [...spread(12, 0, 0.002), ...spread(18, 0.02, 0.03)];
    const verdict = compareMetric({ ...ERROR_RATE, confidence: 0.999 }, canary, CONTROL);
    expect(verdict.reason).toBe('error rate: canary median 2.1 % vs control 0.4 % (n=30/270), p=0.003 ≥ 0.001, +1.7 points: PASS');
  });

  it('refuses a negative tolerance, a confidence outside (0, 1), a fractional minimum and a negative weight, naming each', () => {
    expect(() => compareMetric({ ...ERROR_RATE, tolerance: -1, confidence: 1, minSamples: 2.5, weight: -1 }, [], [])).toThrow(
      'metric error rate: invalid weight (≥ 0), tolerance (≥ 0), confidence (between 0 and 1), minSamples (a whole number ≥ 1)',
    );
  });
});
