import { describe, expect, it } from 'vitest';
import { HealthVerdict } from '../../../src/domain/enums.js';
import { evidenceOf } from '../../../src/domain/health-evidence.js';
import { type HealthPolicy, withDefaultMetrics, withPolicyDefaults } from '../../../src/domain/health-policy.js';
import { EMPTY_SNAPSHOT } from '../../../src/domain/health-snapshot.js';
import { judgeHealth, type SourceSamples } from '../../../src/domain/health.js';
import { MetricCheck, MetricOutcome } from '../../../src/domain/statistics/metric-verdict.js';

const NOW = new Date('2025-01-01T00:10:00Z');
const POLICY: HealthPolicy = withPolicyDefaults({ autoRollback: true });
const ENOUGH = evidenceOf([12, 12, 12], 2);

/** `n` values around `center`, spread by ±`spread` in a fixed pattern (no randomness, few ties). */
function around(n: number, center: number, spread: number): number[] {
  return Array.from({ length: n }, (_, i) => center + spread * (((i * 7919) % n) / n - 0.5) * 2);
}

function group(perInstance: Record<string, number[]>, control: number[], reference = 'control'): SourceSamples {
  return { canary: new Map(Object.entries(perInstance)), control, reference, error: null };
}

function judge(samples: Record<string, SourceSamples>, policy: Partial<HealthPolicy> = {}, evidence = ENOUGH) {
  return judgeHealth({ policy: { ...POLICY, ...policy }, samples: new Map(Object.entries(samples)), evidence, baseline: EMPTY_SNAPSHOT, current: EMPTY_SNAPSHOT, now: NOW });
}

const healthyErrors = () => group({ a: around(12, 0.004, 0.002), b: around(12, 0.004, 0.002), c: around(12, 0.004, 0.002) }, around(200, 0.004, 0.002));
const healthyLatency = () => group({ a: around(12, 100, 10), b: around(12, 100, 10), c: around(12, 100, 10) }, around(200, 100, 10));

describe('judgeHealth', () => {
  it('passes when the canary looks like the control, with a verdict per default metric and no reasons', () => {
    const r = judge({ 'heartbeat:errorRate': healthyErrors(), 'heartbeat:latencyP99Ms': healthyLatency() });
    expect(r).toMatchObject({ verdict: HealthVerdict.PASS, healthy: true, reasons: [], outliers: [], score: 1, insufficientData: false });
    expect(r.metrics.map((m) => [m.name, m.check, m.verdict, m.canaryCount, m.controlCount, m.critical])).toEqual([
      ['errorRate', MetricCheck.MANN_WHITNEY, MetricOutcome.PASS, 36, 200, true],
      ['latencyP99Ms', MetricCheck.MANN_WHITNEY, MetricOutcome.PASS, 36, 200, false],
    ]);
  });

  it('fails a +1 point error rate with the p-value in the reason, and names the instances beyond the tolerance', () => {
    const errors = group({ a: around(12, 0.034, 0.002), b: around(12, 0.014, 0.002), c: around(12, 0.006, 0.002) }, around(200, 0.004, 0.002));
    const withShift = judge({ 'heartbeat:errorRate': errors, 'heartbeat:latencyP99Ms': healthyLatency() });
    expect(withShift.verdict).toBe(HealthVerdict.FAIL);
    expect(withShift.reasons).toHaveLength(1);
    expect(withShift.reasons[0]).toMatch(/^error rate: canary median [\d.]+ % vs control 0\.4 % \(n=36\/200\), p[=<][\d.]+, \+[\d.]+ points? > tolerance 0\.5: FAIL$/);
    expect(withShift.metrics[0]!.pValue).toBeLessThan(0.02);
    expect(withShift.outliers).toEqual(['a', 'b']);
  });

  it('is INCONCLUSIVE while too few instances report, whatever their samples say', () => {
    const bad = group({ a: around(12, 0.3, 0.01) }, around(200, 0.004, 0.002));
    const r = judge({ 'heartbeat:errorRate': bad }, {}, evidenceOf([12, 0, 0], 2));
    expect(r).toMatchObject({ verdict: HealthVerdict.INCONCLUSIVE, healthy: false, outliers: [] });
    expect(r.reasons).toEqual(['not enough evidence: 1 of 3 updated instances sent 2 heartbeats with metrics since applying (2 needed)']);
    expect(r.metrics[0]!.verdict).toBe(MetricOutcome.FAIL);
  });

  it('is INCONCLUSIVE, never a pass, when the critical error rate has too few samples', () => {
    const few = group({ a: [0.01, 0.01, 0.01] }, around(200, 0.01, 0.002));
    const r = judge({ 'heartbeat:errorRate': few, 'heartbeat:latencyP99Ms': healthyLatency() });
    expect(r.verdict).toBe(HealthVerdict.INCONCLUSIVE);
    expect(r.reasons).toEqual(['error rate: not enough samples (n=3/200, 10 needed in each group): NO_DATA']);
  });

  it('fails on the score when a non-critical metric fails, saying so', () => {
    const slow = group({ a: around(12, 160, 10), b: around(12, 160, 10), c: around(12, 160, 10) }, around(200, 100, 10));
    const r = judge({ 'heartbeat:errorRate': healthyErrors(), 'heartbeat:latencyP99Ms': slow });
    expect(r.verdict).toBe(HealthVerdict.FAIL);
    expect(r.score).toBe(0.5);
    expect(r.reasons[0]).toMatch(/^p99 latency: canary median 1[56][\d.]+ ms vs control 100 ms \(n=36\/200\), p<0\.001, \+[\d.]+ ms > tolerance 10: FAIL$/);
    expect(r.reasons[1]).toBe('score 0.5 (1 of 2 metrics passed) < marginal 0.75: FAIL');
    expect(r.outliers).toEqual(['a', 'b', 'c']);
  });

  it('tolerates a detected shift inside the tolerance: +5 % latency against 10 % of the control median', () => {
    const slightly = group({ a: around(60, 105, 2), b: around(60, 105, 2) }, around(400, 100, 2));
    const r = judge({ 'heartbeat:errorRate': healthyErrors(), 'heartbeat:latencyP99Ms': slightly });
    const latency = r.metrics[1]!;
    expect(latency.pValue).toBeLessThan(0.001);
    expect(latency.verdict).toBe(MetricOutcome.PASS);
    expect(latency.reason).toMatch(/\+5 ms ≤ tolerance 10: PASS$/);
    expect(r.verdict).toBe(HealthVerdict.PASS);
  });

  it('says when the control is the baseline', () => {
    const r = judge({ 'heartbeat:errorRate': group({ a: around(30, 0.3, 0.01) }, around(200, 0.01, 0.002), 'baseline') });
    expect(r.reasons[0]).toMatch(/^error rate: canary median 30 % vs baseline 1 % \(n=30\/200\)/);
    expect(r.metrics[0]!.reference).toBe('baseline');
  });

  it('reports the fixed limits a policy sets in the same form, without p-value, and fails on a breach', () => {
    const r = judge(
      { 'heartbeat:errorRate': healthyErrors(), 'heartbeat:latencyP99Ms': healthyLatency(), 'heartbeat:queueDepth': group({ a: around(12, 150, 5) }, []) },
      { maxErrorRateIncrease: 0.05, customThresholds: { queueDepth: 100 } },
    );
    expect(r.metrics.map((m) => [m.name, m.check, m.verdict, m.pValue])).toEqual([
      ['errorRate', MetricCheck.MANN_WHITNEY, MetricOutcome.PASS, expect.any(Number)],
      ['latencyP99Ms', MetricCheck.MANN_WHITNEY, MetricOutcome.PASS, expect.any(Number)],
      ['errorRate', MetricCheck.FIXED_LIMIT, MetricOutcome.PASS, null],
      ['queueDepth', MetricCheck.FIXED_LIMIT, MetricOutcome.FAIL, null],
    ]);
    expect(r.verdict).toBe(HealthVerdict.FAIL);
    expect(r.reasons).toEqual([expect.stringMatching(/^queueDepth: canary median 1[45]\d\.?\d* \(n=12\) > limit 100: FAIL$/)]);
    expect(r.outliers).toEqual(['a']);
  });

  it('gives a metric whose query failed NO_DATA with the failure, never a pass', () => {
    const metrics = withDefaultMetrics([{ name: 'p99', query: 'q', unit: 'ms', direction: 'increase', critical: true, weight: 1, tolerance: null, tolerancePct: 10 }]);
    const failed: SourceSamples = { canary: new Map(), control: [], reference: 'control', error: 'query failed: connection refused' };
    const r = judge({ 'heartbeat:errorRate': healthyErrors(), 'heartbeat:latencyP99Ms': healthyLatency(), 'query:p99:q': failed }, { metrics });
    expect(r.verdict).toBe(HealthVerdict.INCONCLUSIVE);
    expect(r.reasons).toEqual(['p99: query failed: connection refused: NO_DATA']);
  });

  it('leaves a metric with weight 0 out of the score but reports it', () => {
    const metrics = withDefaultMetrics([{ name: 'latencyP99Ms', query: null, unit: 'ms', direction: 'increase', critical: false, weight: 0, tolerance: null, tolerancePct: 10 }]);
    const slow = group({ a: around(12, 300, 10), b: around(12, 300, 10) }, around(200, 100, 10));
    const r = judge({ 'heartbeat:errorRate': healthyErrors(), 'heartbeat:latencyP99Ms': slow }, { metrics });
    expect(r.metrics[1]!.verdict).toBe(MetricOutcome.FAIL);
    expect(r.verdict).toBe(HealthVerdict.PASS);
  });

  it('does not keep a reference to the caller’s now', () => {
    const now = new Date(NOW.getTime());
    const r = judgeHealth({ policy: POLICY, samples: new Map(), evidence: ENOUGH, baseline: EMPTY_SNAPSHOT, current: EMPTY_SNAPSHOT, now });
    now.setTime(0);
    expect(r.checkedAt.getTime()).toBe(NOW.getTime());
  });
});

describe('judgeHealth of a policy on queries alone', () => {
  const queried = withDefaultMetrics(
    ['errorRate', 'latencyP99Ms'].map((name) => ({ name, query: `q_${name}`, unit: 'plain' as const, direction: 'increase' as const, critical: name === 'errorRate', weight: 1, tolerance: null, tolerancePct: 10 })),
  );

  it('needs no heartbeats with metrics: the queries\' samples are the evidence', () => {
    const fine = group({ '': around(30, 100, 5) }, around(30, 100, 5));
    const r = judge({ 'query:errorRate:q_errorRate': fine, 'query:latencyP99Ms:q_latencyP99Ms': fine }, { metrics: queried }, evidenceOf([0, 0], 2));
    expect(r.verdict).toBe(HealthVerdict.PASS);
  });

  it('is still INCONCLUSIVE when the queries return too few samples', () => {
    const few = group({ '': [100, 100] }, around(30, 100, 5));
    const r = judge({ 'query:errorRate:q_errorRate': few, 'query:latencyP99Ms:q_latencyP99Ms': few }, { metrics: queried }, evidenceOf([0, 0], 2));
    expect(r.verdict).toBe(HealthVerdict.INCONCLUSIVE);
  });
});
