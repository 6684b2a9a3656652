import { describe, expect, it } from 'vitest';
import { checkFixedLimit, type LimitCheck } from '../../../../src/domain/statistics/fixed-limit.js';
import { MetricCheck, MetricOutcome } from '../../../../src/domain/statistics/metric-verdict.js';

/** `n` copies of `value`, with a spread of ±`jitter` around it that keeps the median. */
function around(n: number, value: number, jitter = 0): number[] {
  return Array.from({ length: n }, (_, i) => value + (n === 1 ? 0 : jitter * ((2 * i) / (n - 1) - 1)));
}

const ERROR_RATE: LimitCheck = {
  name: 'error rate',
  unit: 'share',
  direction: 'increase',
  critical: true,
  weight: 1,
  limit: { kind: 'delta', max: 0.05 },
};
const LATENCY: LimitCheck = {
  name: 'p99 latency',
  unit: 'ms',
  direction: 'increase',
  critical: false,
  weight: 1,
  limit: { kind: 'percent', max: 50, floor: 1 },
};

describe('checkFixedLimit', () => {
  it('fails an error rate more than 5 points over the control, in the form of a rank test without p-value', () => {
    const verdict = checkFixedLimit(ERROR_RATE, around(30, 0.07, 0.01), around(270, 0.01, 0.005));
    expect(verdict).toEqual({
      name: 'error rate',
      verdict: MetricOutcome.FAIL,
      check: MetricCheck.FIXED_LIMIT,
      unit: 'share',
      direction: 'increase',
      critical: true,
      weight: 1,
      reference: 'control',
      canaryCount: 30,
      controlCount: 270,
      canaryMedian: expect.closeTo(0.07, 12),
      controlMedian: expect.closeTo(0.01, 12),
      effect: expect.closeTo(0.06, 12),
      pValue: null,
      tolerance: 0.05,
      reason: 'error rate: canary median 7 % vs control 1 % (n=30/270), +6 points > limit 5: FAIL',
    });
  });

  it('passes an increase exactly at the limit (float noise included)', () => {
    // 0.16 - 0.01 is 0.15000000000000002.
    const verdict = checkFixedLimit({ ...ERROR_RATE, limit: { kind: 'delta', max: 0.15 } }, around(10, 0.16), around(10, 0.01));
    expect(verdict.reason).toBe('error rate: canary median 16 % vs control 1 % (n=10/10), +15 points ≤ limit 15: PASS');
  });

  it('fails p99 latency more than 50 % over the control median', () => {
    const verdict = checkFixedLimit(LATENCY, around(30, 320, 40), around(270, 200, 30));
    expect(verdict.reason).toBe('p99 latency: canary median 320 ms vs control 200 ms (n=30/270), +60 % > limit 50 %: FAIL');
    expect(verdict).toMatchObject({ effect: 120, tolerance: 100 });
  });

  it('holds a control median under the floor to the floor', () => {
    const verdict = checkFixedLimit(LATENCY, around(10, 0.6), around(10, 0));
    expect(verdict.reason).toBe('p99 latency: canary median 0.6 ms vs control 0 ms (n=10/10), +0.6 ms > limit 0.5 (50 % of the 1 ms floor): FAIL');
    expect(verdict.tolerance).toBe(0.5);
  });

  it('holds a custom metric to a bound without looking at the control', () => {
    const queue: LimitCheck = { name: 'queue depth', unit: 'plain', direction: 'increase', critical: false, weight: 1, limit: { kind: 'bound', value: 100 } };
    const failed = checkFixedLimit(queue, around(30, 120, 10), []);
    expect(failed).toMatchObject({ verdict: MetricOutcome.FAIL, controlCount: 0, controlMedian: null, effect: 20, tolerance: 0 });
    expect(failed.reason).toBe('queue depth: canary median 120 (n=30) > limit 100: FAIL');
    expect(checkFixedLimit(queue, around(30, 100, 10), around(30, 0)).reason).toBe('queue depth: canary median 100 (n=30) ≤ limit 100: PASS');
  });

  it('judges a bound whose decrease is worse', () => {
    const hitRate: LimitCheck = { name: 'cache hit rate', unit: 'share', direction: 'decrease', critical: false, weight: 1, limit: { kind: 'bound', value: 0.9 } };
    expect(checkFixedLimit(hitRate, around(10, 0.85), []).reason).toBe('cache hit rate: canary median 85 % (n=10) < limit 90 %: FAIL');
    expect(checkFixedLimit(hitRate, around(10, 0.95), []).reason).toBe('cache hit rate: canary median 95 % (n=10) ≥ limit 90 %: PASS');
  });

  it('judges a delta whose decrease is worse', () => {
    const throughput: LimitCheck = { name: 'orders per second', unit: 'plain', direction: 'decrease', critical: false, weight: 1, limit: { kind: 'delta', max: 10 } };
    expect(checkFixedLimit(throughput, around(10, 85), around(10, 100)).reason).toBe('orders per second: canary median 85 vs control 100 (n=10/10), -15 < limit -10: FAIL');
    expect(checkFixedLimit(throughput, around(10, 95), around(10, 100)).reason).toBe('orders per second: canary median 95 vs control 100 (n=10/10), -5 ≥ limit -10: PASS');
  });

  it('says NO_DATA below the minimum samples in a group it looks at', () => {
    expect(checkFixedLimit(ERROR_RATE, around(30, 0.07), around(9, 0.01)).reason).toBe(
      'error rate: not enough samples (n=30/9, 10 needed in each group): NO_DATA',
    );
    const percent = checkFixedLimit(LATENCY, [], around(30, 200));
    expect(percent).toMatchObject({ verdict: MetricOutcome.NO_DATA, effect: null, tolerance: null });
    const queue: LimitCheck = { name: 'queue depth', unit: 'plain', direction: 'increase', critical: false, weight: 1, limit: { kind: 'bound', value: 100 }, minSamples: 3 };
    expect(checkFixedLimit(queue, [200, 200], []).reason).toBe('queue depth: not enough samples (n=2, 3 needed): NO_DATA');
  });

  it('refuses a limit it cannot apply, naming it', () => {
    expect(() => checkFixedLimit({ ...LATENCY, limit: { kind: 'percent', max: -1, floor: 0 } }, [], [])).toThrow(
      'metric p99 latency: invalid limit max (≥ 0), limit floor (> 0)',
    );
    expect(() => checkFixedLimit({ ...ERROR_RATE, limit: { kind: 'bound', value: Number.NaN } }, [], [])).toThrow('limit value (finite)');
  });
});
