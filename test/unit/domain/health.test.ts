import { describe, expect, it } from 'vitest';
import { type HealthPolicy, withPolicyDefaults } from '../../../src/domain/deployment-model.js';
import { HealthVerdict } from '../../../src/domain/enums.js';
import { evidenceOf } from '../../../src/domain/health-evidence.js';
import {
  aggregate,
  EMPTY_SNAPSHOT,
  evaluateHealth,
  type HealthSnapshot,
  type MetricsSample,
} from '../../../src/domain/health.js';
import type { InstanceMetrics } from '../../../src/domain/instance.js';

const T0 = new Date('2025-01-01T00:00:00Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
const NOW = at(600);

function samples(entries: Record<string, Array<[number, InstanceMetrics]>>): Map<string, MetricsSample[]> {
  return new Map(Object.entries(entries).map(([id, list]) => [id, list.map(([s, metrics]) => ({ at: at(s), metrics }))]));
}

function snap(partial: Partial<HealthSnapshot>): HealthSnapshot {
  return { errorRate: null, latencyP99Ms: null, requestCount: null, custom: null, instances: 3, ...partial };
}

const POLICY: HealthPolicy = withPolicyDefaults({
  maxErrorRateIncrease: 0.05,
  maxLatencyIncreasePct: 50,
  customThresholds: null,
  autoRollback: true,
});
/** Three updated instances, all with two heartbeats since applying: enough to judge. */
const ENOUGH = evidenceOf([2, 2, 2], 2);

const BASELINE = snap({ errorRate: 0.01, latencyP99Ms: 200, requestCount: 1000 });

function check(updated: Partial<HealthSnapshot>, opts: { notUpdated?: HealthSnapshot | null; policy?: Partial<HealthPolicy>; baseline?: HealthSnapshot } = {}) {
  return evaluateHealth({
    baseline: opts.baseline ?? BASELINE,
    updated: snap(updated),
    notUpdated: opts.notUpdated ?? null,
    policy: { ...POLICY, ...opts.policy },
    evidence: ENOUGH,
    now: NOW,
  });
}

describe('aggregate', () => {
  it('weights the error rate by request count', () => {
    const s = aggregate(
      samples({ a: [[10, { errorRate: 0.1, requestCount: 900 }]], b: [[10, { errorRate: 0.01, requestCount: 100 }]] }),
      T0,
    );
    expect(s.errorRate).toBeCloseTo((0.1 * 900 + 0.01 * 100) / 1000, 12);
    expect(s.requestCount).toBe(1000);
    expect(s.instances).toBe(2);
  });

  it('weights within an instance, then across instances', () => {
    const s = aggregate(
      samples({
        a: [
          [10, { errorRate: 0.2, requestCount: 10 }],
          [20, { errorRate: 0, requestCount: 30 }],
        ],
        b: [[10, { errorRate: 0.1, requestCount: 60 }]],
      }),
      T0,
    );
    // (0.2·10 + 0·30 + 0.1·60) / 100
    expect(s.errorRate).toBeCloseTo(0.08, 12);
    expect(s.requestCount).toBe(100);
  });

  it('falls back to a plain mean when a request count is missing or all are 0', () => {
    expect(aggregate(samples({ a: [[1, { errorRate: 0.1, requestCount: 900 }]], b: [[1, { errorRate: 0.3 }]] }), T0).errorRate).toBeCloseTo(0.2, 12);
    expect(
      aggregate(samples({ a: [[1, { errorRate: 0.1, requestCount: 0 }]], b: [[1, { errorRate: 0.3, requestCount: 0 }]] }), T0).errorRate,
    ).toBeCloseTo(0.2, 12);
  });

  it('averages p99 latency over instances (each instance the mean of its samples)', () => {
    const s = aggregate(
      samples({
        a: [
          [1, { latencyP99Ms: 100 }],
          [2, { latencyP99Ms: 300 }],
        ],
        b: [[1, { latencyP99Ms: 400 }]],
      }),
      T0,
    );
    expect(s.latencyP99Ms).toBe(300); // mean(200, 400)
  });

  it('only uses samples at or after since', () => {
    const s = aggregate(
      samples({
        a: [
          [59, { errorRate: 0.9, latencyP99Ms: 9000 }],
          [60, { errorRate: 0.1, latencyP99Ms: 100 }],
        ],
        b: [[30, { errorRate: 0.5 }]],
      }),
      at(60),
    );
    expect(s).toEqual({ errorRate: 0.1, latencyP99Ms: 100, requestCount: null, custom: null, instances: 1 });
  });

  it('averages custom metrics per name over the instances that reported them', () => {
    const s = aggregate(
      samples({
        a: [
          [1, { custom: { queueDepth: 10, gcPauses: 2 } }],
          [2, { custom: { queueDepth: 30 } }],
        ],
        b: [[1, { custom: { queueDepth: 40 } }]],
      }),
      T0,
    );
    expect(s.custom).toEqual({ gcPauses: 2, queueDepth: 30 }); // mean(mean(10, 30), 40)
  });

  it('gives nulls for metrics nobody reported and counts only instances that reported something', () => {
    expect(aggregate(new Map(), T0)).toEqual(EMPTY_SNAPSHOT);
    const s = aggregate(samples({ a: [[1, {}]], b: [[1, { errorRate: null, custom: {} }]], c: [[1, { requestCount: 5 }]] }), T0);
    expect(s).toEqual({ errorRate: null, latencyP99Ms: null, requestCount: 5, custom: null, instances: 1 });
  });

  it('ignores non-finite values', () => {
    const s = aggregate(samples({ a: [[1, { errorRate: Number.NaN, latencyP99Ms: Number.POSITIVE_INFINITY }]] }), T0);
    expect(s.instances).toBe(0);
  });

  it('keeps a custom metric named __proto__ as an own property', () => {
    const s = aggregate(samples({ a: [[1, { custom: JSON.parse('{"__proto__": 3}') as Record<string, number> }]] }), T0);
    expect(Object.hasOwn(s.custom!, '__proto__')).toBe(true);
    expect(s.custom!['__proto__']).toBe(3);
  });
});

describe('evaluateHealth', () => {
  it('is healthy within limits, with no reasons', () => {
    const r = check({ errorRate: 0.03, latencyP99Ms: 290 });
    expect(r).toEqual({
      verdict: HealthVerdict.PASS,
      healthy: true,
      baseline: BASELINE,
      current: snap({ errorRate: 0.03, latencyP99Ms: 290 }),
      reasons: [],
      checkedAt: NOW,
      insufficientData: false,
      evidence: ENOUGH,
    });
  });

  it('is healthy exactly at the limits (float noise included)', () => {
    expect(check({ errorRate: 0.06, latencyP99Ms: 300 }).healthy).toBe(true);
    expect(check({ errorRate: 0.16 }, { baseline: snap({ errorRate: 0.01 }), policy: { maxErrorRateIncrease: 0.15 } }).healthy).toBe(true);
  });

  it('reports an error rate increase over the baseline', () => {
    const r = check({ errorRate: 0.07 });
    expect(r.healthy).toBe(false);
    expect(r.reasons).toEqual(['error rate 7.0% vs baseline 1.0%: +6.0 points > 5.0']);
  });

  it('reports a p99 latency increase over the baseline', () => {
    expect(check({ latencyP99Ms: 480 }).reasons).toEqual(['p99 latency 480 ms vs baseline 200 ms: +140% > 50%']);
  });

  it('formats fractional latencies and percentages without float noise', () => {
    expect(check({ latencyP99Ms: 0.1 + 0.2 + 299.7 }, { baseline: snap({ latencyP99Ms: 150.15 }) }).reasons).toEqual([
      'p99 latency 300 ms vs baseline 150.2 ms: +99.8% > 50%',
    ]);
    expect(check({ errorRate: 0.1 + 0.2 }, { baseline: snap({ errorRate: 0.0004 }) }).reasons).toEqual([
      'error rate 30.0% vs baseline 0.04%: +30.0 points > 5.0',
    ]);
  });

  it('compares with the instances not yet updated when they reported', () => {
    const notUpdated = snap({ errorRate: 0.002, latencyP99Ms: 100 });
    const r = check({ errorRate: 0.055, latencyP99Ms: 290 }, { notUpdated });
    expect(r.reasons).toEqual([
      'error rate 5.5% vs instances not yet updated 0.2%: +5.3 points > 5.0',
      'p99 latency 290 ms vs instances not yet updated 100 ms: +190% > 50%',
    ]);
  });

  it('reports both comparisons when both are breached, baseline first', () => {
    const r = check({ errorRate: 0.2 }, { notUpdated: snap({ errorRate: 0.02 }) });
    expect(r.reasons).toEqual([
      'error rate 20.0% vs baseline 1.0%: +19.0 points > 5.0',
      'error rate 20.0% vs instances not yet updated 2.0%: +18.0 points > 5.0',
    ]);
  });

  it('skips the not-updated comparison when that group did not report', () => {
    const silent = { ...EMPTY_SNAPSHOT, errorRate: 0 };
    expect(check({ errorRate: 0.055 }, { notUpdated: silent }).healthy).toBe(true);
    expect(check({ errorRate: 0.055 }, { notUpdated: null }).healthy).toBe(true);
    // reported, but not this metric
    expect(check({ latencyP99Ms: 290 }, { notUpdated: snap({ errorRate: 0.01 }) }).healthy).toBe(true);
  });

  it('reports custom metrics above their maximum', () => {
    const r = check(
      { custom: { queueDepth: 120, cacheMisses: 3 } },
      { policy: { customThresholds: { queueDepth: 100, cacheMisses: 5, notReported: 1 } } },
    );
    expect(r.reasons).toEqual(['custom metric queueDepth 120 > 100']);
  });

  it('formats custom values without float noise and treats equal as within limits', () => {
    const r = check({ custom: { ratio: 0.1 + 0.2, exact: 7 } }, { policy: { customThresholds: { ratio: 0.25, exact: 7 } } });
    expect(r.reasons).toEqual(['custom metric ratio 0.3 > 0.25']);
  });

  it('ignores null policy fields', () => {
    const r = check(
      { errorRate: 0.9, latencyP99Ms: 10_000, custom: { queueDepth: 1e6 } },
      { policy: { maxErrorRateIncrease: null, maxLatencyIncreasePct: null, customThresholds: null }, notUpdated: snap({ errorRate: 0 }) },
    );
    expect(r).toMatchObject({ healthy: true, reasons: [], insufficientData: false });
  });

  it('checks only the fields that are set', () => {
    const r = check({ errorRate: 0.9, latencyP99Ms: 10_000 }, { policy: { maxErrorRateIncrease: null } });
    expect(r.reasons).toEqual(['p99 latency 10000 ms vs baseline 200 ms: +4900% > 50%']);
  });

  it('skips a comparison when the baseline lacks the metric, and compares with what there is', () => {
    const r = check({ errorRate: 0.9, latencyP99Ms: 9000 }, { baseline: snap({ latencyP99Ms: 200 }) });
    expect(r.reasons).toEqual(['p99 latency 9000 ms vs baseline 200 ms: +4400% > 50%']);
    expect(r.verdict).toBe(HealthVerdict.FAIL);
  });

  it('is INCONCLUSIVE, never healthy, when nothing the policy checks could be compared', () => {
    const r = check({ errorRate: 0.9, latencyP99Ms: 9000 }, { baseline: EMPTY_SNAPSHOT });
    expect(r).toMatchObject({ verdict: HealthVerdict.INCONCLUSIVE, healthy: false, insufficientData: true });
    expect(r.reasons).toEqual([
      'nothing to compare: no metric the policy checks was reported both by the updated instances and by the baseline or the instances not yet updated',
    ]);
  });

  it('passes when the policy checks nothing at all (every limit switched off)', () => {
    const r = check({ errorRate: 0.9 }, { baseline: EMPTY_SNAPSHOT, policy: { maxErrorRateIncrease: null, maxLatencyIncreasePct: null } });
    expect(r).toMatchObject({ verdict: HealthVerdict.PASS, healthy: true, reasons: [] });
  });

  it('is INCONCLUSIVE, not healthy, when no updated instance reported: the old "counted healthy" is gone', () => {
    const evidence = evidenceOf([0, 0, 0], 2);
    const r = evaluateHealth({ baseline: BASELINE, updated: EMPTY_SNAPSHOT, notUpdated: null, policy: POLICY, evidence, now: NOW });
    expect(r).toEqual({
      verdict: HealthVerdict.INCONCLUSIVE,
      healthy: false,
      baseline: BASELINE,
      current: EMPTY_SNAPSHOT,
      reasons: ['not enough evidence: 0 of 3 updated instances sent 2 heartbeats with metrics since applying (2 needed)'],
      checkedAt: NOW,
      insufficientData: true,
      evidence,
    });
  });

  it('waits for evidence even when the metrics it has look bad: one heartbeat is not a judgement', () => {
    const updated = snap({ errorRate: 0.5, instances: 3 });
    const base = { baseline: BASELINE, updated, notUpdated: null, policy: POLICY, now: NOW };
    expect(evaluateHealth({ ...base, evidence: evidenceOf([1, 1, 2], 2) })).toMatchObject({ verdict: HealthVerdict.INCONCLUSIVE, healthy: false });
    expect(evaluateHealth({ ...base, evidence: evidenceOf([1, 2, 2], 2) })).toMatchObject({ verdict: HealthVerdict.FAIL, healthy: false });
  });

  it('handles a zero error rate baseline (points, no division)', () => {
    expect(check({ errorRate: 0.051 }, { baseline: snap({ errorRate: 0 }) }).reasons).toEqual([
      'error rate 5.1% vs baseline 0.0%: +5.1 points > 5.0',
    ]);
    expect(check({ errorRate: 0.05 }, { baseline: snap({ errorRate: 0 }) }).healthy).toBe(true);
  });

  it('handles a 0 ms latency baseline with a 1 ms floor instead of dividing by zero', () => {
    const zero = snap({ latencyP99Ms: 0 });
    expect(check({ latencyP99Ms: 0.5 }, { baseline: zero }).healthy).toBe(true);
    expect(check({ latencyP99Ms: 0 }, { baseline: zero }).healthy).toBe(true);
    const r = check({ latencyP99Ms: 3 }, { baseline: zero });
    expect(r.reasons).toEqual(['p99 latency 3 ms vs baseline 0 ms: +3 ms > 0.5 ms allowed (50% of 1 ms, the floor for a baseline under 1 ms)']);
    expect(r.reasons.join()).not.toMatch(/Infinity|NaN/);
  });

  it('with maxLatencyIncreasePct 0 any increase is a breach, and no increase is fine', () => {
    expect(check({ latencyP99Ms: 200 }, { policy: { maxLatencyIncreasePct: 0 } }).healthy).toBe(true);
    expect(check({ latencyP99Ms: 201 }, { policy: { maxLatencyIncreasePct: 0 } }).reasons).toEqual([
      'p99 latency 201 ms vs baseline 200 ms: +0.5% > 0%',
    ]);
  });

  it('lists every breach: error rate, latency and custom', () => {
    const r = check({ errorRate: 0.07, latencyP99Ms: 480, custom: { queueDepth: 120 } }, { policy: { customThresholds: { queueDepth: 100 } } });
    expect(r.reasons).toEqual([
      'error rate 7.0% vs baseline 1.0%: +6.0 points > 5.0',
      'p99 latency 480 ms vs baseline 200 ms: +140% > 50%',
      'custom metric queueDepth 120 > 100',
    ]);
    expect(r.healthy).toBe(false);
  });

  it('does not keep a reference to the caller’s now', () => {
    const now = new Date(NOW.getTime());
    const r = evaluateHealth({ baseline: BASELINE, updated: snap({ errorRate: 0.01 }), notUpdated: null, policy: POLICY, evidence: ENOUGH, now });
    now.setTime(0);
    expect(r.checkedAt).toEqual(NOW);
  });

  it('works end to end from heartbeats', () => {
    const phaseStart = at(100);
    const baseline = aggregate(samples({ a: [[50, { errorRate: 0.01, latencyP99Ms: 200, requestCount: 100 }]], b: [[50, { errorRate: 0.01, latencyP99Ms: 200, requestCount: 100 }]] }), T0);
    const updated = aggregate(samples({ a: [[50, { errorRate: 0 }], [120, { errorRate: 0.07, latencyP99Ms: 480, requestCount: 100 }]] }), phaseStart);
    const notUpdated = aggregate(samples({ b: [[130, { errorRate: 0.01, latencyP99Ms: 200, requestCount: 100 }]] }), phaseStart);
    const r = evaluateHealth({ baseline, updated, notUpdated, policy: POLICY, evidence: ENOUGH, now: NOW });
    expect(r.reasons).toEqual([
      'error rate 7.0% vs baseline 1.0%: +6.0 points > 5.0',
      'error rate 7.0% vs instances not yet updated 1.0%: +6.0 points > 5.0',
      'p99 latency 480 ms vs baseline 200 ms: +140% > 50%',
      'p99 latency 480 ms vs instances not yet updated 200 ms: +140% > 50%',
    ]);
  });
});
