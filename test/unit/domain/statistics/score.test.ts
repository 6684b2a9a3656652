import { describe, expect, it } from 'vitest';
import { HealthVerdict } from '../../../../src/domain/enums.js';
import { MetricCheck, MetricOutcome, type MetricVerdict } from '../../../../src/domain/statistics/metric-verdict.js';
import { healthVerdictOf, scorePhase, ScoreOutcome } from '../../../../src/domain/statistics/score.js';

/** A metric verdict with only what scoring looks at filled in for real. */
function metric(name: string, verdict: MetricOutcome, options: { critical?: boolean; weight?: number } = {}): MetricVerdict {
  return {
    name,
    verdict,
    check: MetricCheck.MANN_WHITNEY,
    unit: 'plain',
    direction: 'increase',
    critical: options.critical ?? false,
    weight: options.weight ?? 1,
    reference: 'control',
    canaryCount: 30,
    controlCount: 270,
    canaryMedian: 1,
    controlMedian: 1,
    effect: 0,
    pValue: 0.5,
    tolerance: 1,
    reason: `${name}: ${verdict}`,
  };
}

const { PASS, FAIL, NO_DATA } = MetricOutcome;

describe('scorePhase', () => {
  it('passes when every metric passes, and keeps the metrics in order', () => {
    const metrics = [metric('error rate', PASS, { critical: true }), metric('p99 latency', PASS)];
    const score = scorePhase(metrics);
    expect(score).toEqual({ verdict: ScoreOutcome.PASS, score: 1, metrics, reason: 'score 1 (2 of 2 metrics passed) ≥ pass 0.95: PASS' });
  });

  it('fails on a critical FAIL whatever the others say', () => {
    const metrics = [metric('error rate', FAIL, { critical: true }), ...Array.from({ length: 30 }, (_, i) => metric(`m${i}`, PASS))];
    expect(scorePhase(metrics)).toMatchObject({ verdict: ScoreOutcome.FAIL, score: null, reason: 'critical metric error rate failed: FAIL' });
    const two = scorePhase([metric('error rate', FAIL, { critical: true }), metric('p99 latency', FAIL, { critical: true })]);
    expect(two.reason).toBe('critical metrics error rate, p99 latency failed: FAIL');
  });

  it('cannot pass without data for a critical metric', () => {
    const score = scorePhase([metric('error rate', NO_DATA, { critical: true }), metric('p99 latency', PASS)]);
    expect(score).toMatchObject({ verdict: ScoreOutcome.NO_DATA, reason: 'critical metric error rate without enough data: NO_DATA' });
  });

  it('fails below the marginal threshold: one failure of two', () => {
    const score = scorePhase([metric('error rate', PASS, { critical: true }), metric('p99 latency', FAIL)]);
    expect(score).toMatchObject({ verdict: ScoreOutcome.FAIL, score: 0.5, reason: 'score 0.5 (1 of 2 metrics passed) < marginal 0.75: FAIL' });
  });

  it('is MARGINAL between the thresholds: one failure of four', () => {
    const metrics = [metric('a', PASS), metric('b', PASS), metric('c', PASS), metric('d', FAIL)];
    expect(scorePhase(metrics)).toMatchObject({
      verdict: ScoreOutcome.MARGINAL,
      score: 0.75,
      reason: 'score 0.75 (3 of 4 metrics passed) between marginal 0.75 and pass 0.95: MARGINAL',
    });
  });

  it('passes one failure among twenty equally weighted metrics (score 0.95)', () => {
    const metrics = [...Array.from({ length: 19 }, (_, i) => metric(`m${i}`, PASS)), metric('m19', FAIL)];
    expect(scorePhase(metrics)).toMatchObject({ verdict: ScoreOutcome.PASS, score: 0.95 });
  });

  it('weighs metrics, and says so', () => {
    const score = scorePhase([metric('error rate', PASS, { weight: 9 }), metric('queue depth', FAIL, { weight: 1 })]);
    expect(score).toMatchObject({ verdict: ScoreOutcome.MARGINAL, score: 0.9 });
    expect(score.reason).toBe('score 0.9 (1 of 2 metrics passed, by weight) between marginal 0.75 and pass 0.95: MARGINAL');
  });

  it('leaves out metrics without data and metrics of weight 0', () => {
    const score = scorePhase([metric('a', PASS), metric('b', NO_DATA), metric('c', FAIL, { weight: 0 })]);
    expect(score).toMatchObject({ verdict: ScoreOutcome.PASS, score: 1, reason: 'score 1 (1 of 1 metric passed) ≥ pass 0.95: PASS' });
  });

  it('says NO_DATA when no weighted metric has data', () => {
    expect(scorePhase([metric('a', NO_DATA), metric('b', PASS, { weight: 0 })])).toMatchObject({
      verdict: ScoreOutcome.NO_DATA,
      score: null,
      reason: 'no weighted metric has enough data: NO_DATA',
    });
    expect(scorePhase([]).verdict).toBe(ScoreOutcome.NO_DATA);
  });

  it('cuts the score it prints, so a score short of the pass threshold never reads as it', () => {
    const metrics = [...Array.from({ length: 18 }, (_, i) => metric(`m${i}`, PASS)), metric('x', FAIL, { weight: 0.95 })];
    const score = scorePhase(metrics);
    expect(score.score).toBeCloseTo(18 / 18.95, 12);
    expect(score.reason).toBe('score 0.94 (18 of 19 metrics passed, by weight) between marginal 0.75 and pass 0.95: MARGINAL');
  });

  it('takes thresholds, and refuses ones out of order', () => {
    const metrics = [metric('a', PASS), metric('b', FAIL)];
    expect(scorePhase(metrics, { pass: 0.5, marginal: 0.5 }).verdict).toBe(ScoreOutcome.PASS);
    expect(scorePhase(metrics, { pass: 0.6, marginal: 0.4 }).verdict).toBe(ScoreOutcome.MARGINAL);
    expect(() => scorePhase(metrics, { pass: 0.5, marginal: 0.6 })).toThrow(RangeError);
    expect(() => scorePhase(metrics, { pass: 1.5 })).toThrow('score thresholds need 0 ≤ marginal ≤ pass ≤ 1, got marginal 0.75, pass 1.5');
  });
});

describe('healthVerdictOf', () => {
  it('keeps PASS and FAIL, and makes MARGINAL and NO_DATA INCONCLUSIVE: the phase keeps observing', () => {
    expect(healthVerdictOf(ScoreOutcome.PASS)).toBe(HealthVerdict.PASS);
    expect(healthVerdictOf(ScoreOutcome.FAIL)).toBe(HealthVerdict.FAIL);
    expect(healthVerdictOf(ScoreOutcome.MARGINAL)).toBe(HealthVerdict.INCONCLUSIVE);
    expect(healthVerdictOf(ScoreOutcome.NO_DATA)).toBe(HealthVerdict.INCONCLUSIVE);
  });
});
