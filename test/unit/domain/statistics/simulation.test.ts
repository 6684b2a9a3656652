/**
 * Simulated phases, to show what the defaults do with noisy error rates.
 *
 * Each phase: 30 heartbeats of the canary against 270 of the control (10 %
 * canary), each heartbeat's error rate drawn from Normal(0.4 %, 1 point) and
 * floored at 0, so about a third are exactly 0: heavy ties, as real error rates
 * have. 1,000 phases per question, seeded: the counts below are exact for
 * these seeds, the bounds asserted leave room for other seeds.
 *
 * Bounds: a test at 98 % confidence fails a null phase with probability 0.02;
 * over 1,000 phases the count is Binomial(1000, 0.02), mean 20, standard
 * deviation 4.4, so 20 ± 3 sd = 7..33. Five other seeds gave 13 to 24 failures
 * for the test alone, 0 or 1 with the default tolerance, and caught the +1
 * point shift 934 to 956 times: 92 % is about 3 sd of Binomial(1000, 0.945)
 * below what they average.
 */
import { describe, expect, it } from 'vitest';
import { compareMetric, DEFAULT_ERROR_RATE_TOLERANCE, type RankComparison } from '../../../../src/domain/statistics/metric-comparison.js';
import { MetricOutcome } from '../../../../src/domain/statistics/metric-verdict.js';
import { normal, uniform } from './random.js';

const PHASES = 1000;
const CONTROL_MEAN = 0.004;
const SD = 0.01;

const ERROR_RATE: RankComparison = {
  name: 'error rate',
  unit: 'share',
  direction: 'increase',
  critical: true,
  weight: 1,
  tolerance: DEFAULT_ERROR_RATE_TOLERANCE,
};

/** How many of PHASES phases FAIL, the canary's mean error rate `shift` above the control's. */
function failures(seed: number, shift: number, tolerance: number): number {
  const next = uniform(seed);
  const heartbeats = (n: number, mean: number) => Array.from({ length: n }, () => Math.max(0, normal(next, mean, SD)));
  let failed = 0;
  for (let phase = 0; phase < PHASES; phase += 1) {
    const control = heartbeats(270, CONTROL_MEAN);
    const canary = heartbeats(30, CONTROL_MEAN + shift);
    if (compareMetric({ ...ERROR_RATE, tolerance }, canary, control).verdict === MetricOutcome.FAIL) failed += 1;
  }
  return failed;
}

describe('1,000 simulated phases, 30 canary vs 270 control heartbeats of error rate ~ Normal(0.4 %, 1 point) floored at 0', () => {
  it('same distribution, the test alone (tolerance 0): 16 of 1,000 fail (1.6 %), as 98 % confidence implies (2 %, 7..33)', () => {
    const failed = failures(0x16a, 0, 0);
    expect(failed).toBeGreaterThanOrEqual(7);
    expect(failed).toBeLessThanOrEqual(33);
  });

  it('same distribution, default tolerance 0.5 points: 0 of 1,000 fail (bound 33, the 2 % the confidence allows)', () => {
    expect(failures(0x16b, 0, DEFAULT_ERROR_RATE_TOLERANCE)).toBeLessThanOrEqual(33);
  });

  it('canary +1 point, default tolerance 0.5 points: 941 of 1,000 fail (94.1 %; asserted at least 92 %)', () => {
    expect(failures(0x16c, 0.01, DEFAULT_ERROR_RATE_TOLERANCE)).toBeGreaterThanOrEqual(920);
  });
});
