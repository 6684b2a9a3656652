import { describe, expect, it } from 'vitest';
import { mannWhitneyU, median, normalCdf } from '../../../../src/domain/statistics/mann-whitney.js';

/**
 * m x's and n y's with exactly `u` pairs x > y and no ties, for probing the
 * exact distribution: y = 2, 4, …, 2n; x_i = 2k_i + 1 (+ a hair to keep the
 * x's distinct) has k_i y's below it, and the k_i sum to u.
 */
function samplesWithU(m: number, n: number, u: number): { x: number[]; y: number[] } {
  const y = Array.from({ length: n }, (_, j) => 2 * (j + 1));
  let left = u;
  const x = Array.from({ length: m }, (_, i) => {
    const below = Math.min(n, left);
    left -= below;
    return 2 * below + 1 + i / (10 * m);
  });
  return { x, y };
}

describe('mannWhitneyU: exact distribution (no ties, both samples under 50)', () => {
  it('matches a case counted by hand: x = [3, 4] above y = [1, 2] is 1 of the 6 orderings', () => {
    // U takes 0, 1, 2, 2, 3, 4 over the C(4, 2) = 6 orderings.
    expect(mannWhitneyU([3, 4], [1, 2], 'greater')).toEqual({ u: 4, pValue: 1 / 6, shift: 2, method: 'exact' });
    expect(mannWhitneyU([3, 4], [1, 2], 'two-sided').pValue).toBeCloseTo(1 / 3, 15);
    expect(mannWhitneyU([3, 4], [1, 2], 'less').pValue).toBe(1);
  });

  it.each([
    // Published two-tailed α = 0.05 critical values of U (the standard Mann-Whitney table): U ≤ c is significant.
    [4, 4, 0],
    [5, 5, 2],
    [6, 6, 5],
    [8, 8, 13],
    [10, 10, 23],
    [20, 20, 127],
  ])('agrees with the published table: %i vs %i, critical U %i at two-tailed 0.05', (m, n, c) => {
    const atC = samplesWithU(m, n, c);
    const above = samplesWithU(m, n, c + 1);
    const result = mannWhitneyU(atC.x, atC.y, 'less');
    expect(result).toMatchObject({ u: c, method: 'exact' });
    expect(result.pValue).toBeLessThanOrEqual(0.025);
    expect(mannWhitneyU(above.x, above.y, 'less').pValue).toBeGreaterThan(0.025);
  });

  it('gives the tail probabilities counted independently (Python, integer counts of orderings)', () => {
    const { x, y } = samplesWithU(10, 10, 23);
    expect(mannWhitneyU(x, y, 'less').pValue).toBeCloseTo(0.02162852627248912, 14);
    const big = samplesWithU(20, 20, 127);
    expect(mannWhitneyU(big.x, big.y, 'less').pValue).toBeCloseTo(0.02454516259468622, 14);
  });

  it("reproduces R's wilcox.test example (Hollander & Wolfe 1973, p. 69): W = 35, p = 0.1272", () => {
    const term = [0.8, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46];
    const early = [1.15, 0.88, 0.9, 0.74, 1.21];
    const greater = mannWhitneyU(term, early, 'greater');
    expect(greater).toMatchObject({ u: 35, method: 'exact' });
    // SciPy 1.17 mannwhitneyu(method='exact') to full precision: 0.1272061272061272.
    expect(greater.pValue).toBeCloseTo(0.1272061272061272, 14);
    expect(mannWhitneyU(term, early, 'two-sided').pValue).toBeCloseTo(0.2544122544122544, 14);
    expect(mannWhitneyU(term, early, 'less').pValue).toBeCloseTo(0.8967698967698967, 14);
    // Median of the 50 differences, computed with NumPy.
    expect(greater.shift).toBeCloseTo(0.305, 12);
  });

  it("reproduces Wikipedia's tortoises and hares: U_H = 25, U_T = 36 − 25 = 11, not significant", () => {
    // Finishing positions of "T H H H H H T T T T T H": a larger position finishes later.
    const tortoises = [1, 7, 8, 9, 10, 11];
    const hares = [2, 3, 4, 5, 6, 12];
    const result = mannWhitneyU(tortoises, hares, 'two-sided');
    expect(result.u).toBe(25);
    expect(6 * 6 - result.u).toBe(11);
    expect(result.pValue).toBeCloseTo(0.30952380952380953, 14); // SciPy, exact
  });
});

describe('mannWhitneyU: normal approximation (ties, or 50 values and more)', () => {
  // ClickHouse's mannWhitneyUTest test (tests/queries/0_stateless/01560_mann_whitney.sql), 20 vs 20 with ties.
  const left = [310, 195, 530, 155, 530, 245, 385, 450, 465, 545, 170, 180, 125, 180, 230, 75, 430, 480, 495, 295];
  const right = [116, 171, 176, 421, 111, 326, 481, 111, 346, 441, 261, 411, 206, 521, 456, 446, 296, 51, 426, 261];

  it('gives U = 223 and p = 0.5426959774289482 with ties, as ClickHouse and SciPy do', () => {
    const result = mannWhitneyU(left, right, 'two-sided');
    expect(result).toMatchObject({ u: 223, method: 'normal', shift: 24 });
    expect(result.pValue).toBeCloseTo(0.5426959774289482, 13);
    // SciPy 1.17, method='asymptotic', use_continuity=True.
    expect(mannWhitneyU(left, right, 'greater').pValue).toBeCloseTo(0.2713479887144741, 13);
    expect(mannWhitneyU(left, right, 'less').pValue).toBeCloseTo(0.737545429642209, 13);
  });

  it('makes the two-sided p-value twice the smaller one-sided one', () => {
    const greater = mannWhitneyU(left, right, 'greater').pValue;
    const less = mannWhitneyU(left, right, 'less').pValue;
    expect(mannWhitneyU(left, right, 'two-sided').pValue).toBeCloseTo(2 * Math.min(greater, less), 14);
    expect(mannWhitneyU(right, left, 'less').pValue).toBeCloseTo(greater, 14);
  });

  it('approximates from 50 values on, within 0.001 of the exact p-value here (SciPy: 0.1785 normal, 0.1792 exact)', () => {
    const x = Array.from({ length: 60 }, (_, i) => i * 2 + 1.3);
    const y = Array.from({ length: 55 }, (_, i) => i * 2);
    const result = mannWhitneyU(x, y, 'greater');
    expect(result).toMatchObject({ u: 1815, method: 'normal' });
    expect(result.pValue).toBeCloseTo(0.1785191623958044, 13);
  });

  it('gives p = 1 for identical samples, and for samples of one repeated value', () => {
    const sample = [5, 1, 4, 1, 3, 9, 2, 6];
    expect(mannWhitneyU(sample, [...sample].reverse(), 'two-sided')).toEqual({ u: 32, pValue: 1, shift: 0, method: 'normal' });
    for (const alternative of ['two-sided', 'greater', 'less'] as const) {
      expect(mannWhitneyU([7, 7, 7], [7, 7], alternative).pValue).toBe(1);
    }
  });

  it('refuses an empty sample and non-finite values', () => {
    expect(() => mannWhitneyU([], [1])).toThrow(RangeError);
    expect(() => mannWhitneyU([1, Number.NaN], [1])).toThrow(RangeError);
  });
});

describe('median and normalCdf', () => {
  it('takes the middle value, or the mean of the two middle ones', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNull();
  });

  it('agrees with sorting on 5,000 arrays of 1 to 40 values, many tied, and leaves its input alone', () => {
    let seed = 7;
    const next = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let t = 0; t < 5000; t += 1) {
      const values = Array.from({ length: 1 + Math.floor(next() * 40) }, () => (next() < 0.4 ? Math.floor(next() * 3) : next()));
      const sorted = [...values].sort((x, y) => x - y);
      const mid = sorted.length >> 1;
      const expected = sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1]! + sorted[mid]!) / 2;
      const before = [...values];
      expect(median(values)).toBe(expected);
      expect(values).toEqual(before);
    }
  });

  it('matches SciPy norm.cdf to 1e-15', () => {
    expect(normalCdf(1.96)).toBeCloseTo(0.9750021048517795, 15);
    expect(normalCdf(0.5)).toBeCloseTo(0.6914624612740131, 15);
    expect(1 - normalCdf(3)).toBeCloseTo(0.0013498980316300933, 15);
    expect(normalCdf(-9)).toBe(0);
    expect(normalCdf(9)).toBe(1);
  });
});
