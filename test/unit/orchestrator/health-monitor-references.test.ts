import { beforeEach, describe, expect, it } from 'vitest';
import { HealthVerdict } from '../../../src/domain/enums.js';
import { BadInputError } from '../../../src/domain/errors.js';
import { withDefaultMetrics } from '../../../src/domain/health-policy.js';
import { HealthMonitor } from '../../../src/orchestrator/health-monitor.js';
import { type MetricSource, MetricQueryError, type QueryScope, type QueryWindow } from '../../../src/metrics-source/metric-source.js';
import { MemoryInstanceRegistry } from '../../../src/registry/memory-registry.js';
import { applied, CREATED, deployment, heartbeatsFrom, minutes, NOW, pending, POLICY } from '../../support/health-monitor.js';

/** check: which control group, over which window, and metrics from a query source. */
describe('HealthMonitor', () => {
  let registry: MemoryInstanceRegistry;
  let monitor: HealthMonitor;

  beforeEach(() => {
    registry = new MemoryInstanceRegistry();
    monitor = new HealthMonitor(registry, null, { queryStepSeconds: 10 });
  });

  const beats = (from: Date, count: number, metricsById: Parameters<typeof heartbeatsFrom>[3]) => heartbeatsFrom(registry, from, count, metricsById);
  const baselineOf = (errorRate: number) => ({ errorRate: Array(20).fill(errorRate) });

  describe('check', () => {
    it('compares with the instances not yet updated over the same window, before the baseline', async () => {
      await beats(minutes(59.1), 5, { u1: { errorRate: 0.3 }, p1: { errorRate: 0.29 }, p2: { errorRate: 0.31 } });
      const d = deployment({ state: { ...deployment().state, baselineSamples: baselineOf(0.01) } });
      const report = await monitor.check(d, [applied('u1'), pending('p1'), pending('p2')], NOW);
      expect(report.metrics[0]).toMatchObject({ reference: 'control', canaryCount: 5, controlCount: 10 });
      expect(report.verdict).toBe(HealthVerdict.PASS);
    });

    it('falls back to the baseline when the instances not yet updated sent too few samples', async () => {
      await beats(minutes(59.1), 5, { u1: { errorRate: 0.3 } });
      await beats(minutes(59.1), 2, { p1: { errorRate: 0.3 } });
      const d = deployment({ state: { ...deployment().state, baselineSamples: baselineOf(0.01) } });
      const report = await monitor.check(d, [applied('u1'), pending('p1')], NOW);
      expect(report.metrics[0]).toMatchObject({ reference: 'baseline', controlCount: 20 });
      expect(report.verdict).toBe(HealthVerdict.FAIL);
    });

    it('counts not-yet-updated samples only from the first ack on', async () => {
      await beats(minutes(58.1), 5, { p1: { errorRate: 0.3 } }); // before the ack: not the same window
      await beats(minutes(59.1), 5, { u1: { errorRate: 0.3 }, p1: { errorRate: 0.01 } });
      const report = await monitor.check(deployment(), [applied('u1'), pending('p1')], NOW);
      expect(report.metrics[0]).toMatchObject({ controlCount: 5, controlMedian: 0.01 });
      expect(report.verdict).toBe(HealthVerdict.FAIL);
    });

    it('with neither a control group nor a baseline there is nothing to compare with: INCONCLUSIVE', async () => {
      await beats(minutes(59.1), 5, { u1: { errorRate: 0.3, latencyP99Ms: 480 } });
      const report = await monitor.check(deployment({}, null), [applied('u1')], NOW);
      expect(report).toMatchObject({ verdict: HealthVerdict.INCONCLUSIVE, healthy: false, insufficientData: true });
    });

    it('applies the fixed limits the deployment sets, besides the rank tests', async () => {
      await beats(minutes(59.1), 5, { u1: { errorRate: 0.01, custom: { queueDepth: 12 } }, p1: { errorRate: 0.01, custom: { queueDepth: 12 } } });
      const limits = (queueDepth: number) => deployment({ healthPolicy: { ...POLICY, maxErrorRateIncrease: 0.05, customThresholds: { queueDepth } } });
      const strict = await monitor.check(limits(10), [applied('u1'), pending('p1')], NOW);
      expect(strict.reasons).toEqual(['queueDepth: canary median 12 (n=5) > limit 10: FAIL']);
      expect((await monitor.check(limits(12), [applied('u1'), pending('p1')], NOW)).verdict).toBe(HealthVerdict.PASS);
    });

    it('keeps a baseline of every metric the targets reported, capped per metric', async () => {
      await beats(minutes(57), 5, { a: { errorRate: 0.01, latencyP99Ms: 200, custom: { queueDepth: 3 } }, b: { errorRate: 0.02 } });
      const base = await monitor.baseline(['a', 'b'], CREATED);
      expect(Object.keys(base.samples)).toEqual(['errorRate', 'latencyP99Ms', 'queueDepth']);
      expect(base.samples['errorRate']).toHaveLength(10);
      expect(base.samples['queueDepth']).toEqual([3, 3, 3, 3, 3]);
    });
  });

  describe('queried metrics', () => {
    const query = 'p99{service="{{service}}",instance=~"{{instances}}"}';
    const policy = { ...POLICY, metrics: withDefaultMetrics([{ name: 'p99', query, unit: 'ms' as const, direction: 'increase' as const, critical: true, weight: 1, tolerance: null, tolerancePct: 10 }]) };
    const calls: Array<{ scope: QueryScope; window: QueryWindow }> = [];
    const source = (answer: (scope: QueryScope) => number[]): MetricSource => ({
      samples: (_query, scope, window) => {
        calls.push({ scope, window });
        return Promise.resolve(answer(scope));
      },
    });

    beforeEach(() => {
      calls.length = 0;
    });

    it('asks the source for the canary and the instances not yet updated over the same window', async () => {
      const prom = new HealthMonitor(registry, source((s) => Array(10).fill(s.group === 'canary' ? 400 : 100)), { queryStepSeconds: 5 });
      await beats(minutes(59.1), 5, { u1: { errorRate: 0.01 }, p1: { errorRate: 0.01 } });
      const report = await prom.check(deployment({ healthPolicy: policy }), [applied('u1'), pending('p1')], NOW);
      expect(calls.map((c) => [c.scope.group, c.scope.version, c.scope.instanceIds])).toEqual([['canary', 2, ['u1']], ['control', 1, ['p1']]]);
      expect(calls[0]!.window).toEqual({ from: minutes(59), to: NOW, stepSeconds: 5 });
      expect(report.verdict).toBe(HealthVerdict.FAIL);
      expect(report.reasons[0]).toMatch(/^p99: canary median 400 ms vs control 100 ms \(n=10\/10\), p<0\.001/);
    });

    it('asks for the baseline window before the deployment when no instance is left on the previous version', async () => {
      const prom = new HealthMonitor(registry, source(() => Array(10).fill(100)), { queryStepSeconds: 5 });
      await beats(minutes(59.1), 5, { u1: { errorRate: 0.01 } });
      await prom.check(deployment({ healthPolicy: policy }), [applied('u1')], NOW);
      expect(calls[1]).toEqual({
        scope: expect.objectContaining({ group: 'control', version: 1, instanceIds: ['u1'] }),
        window: { from: minutes(48), to: CREATED, stepSeconds: 5 },
      });
    });

    it('a failed query is NO_DATA with the failure, never a pass', async () => {
      const failing: MetricSource = { samples: () => Promise.reject(new MetricQueryError('connection refused after 3 attempts')) };
      const prom = new HealthMonitor(registry, failing, { queryStepSeconds: 5 });
      await beats(minutes(59.1), 5, { u1: { errorRate: 0.01 }, p1: { errorRate: 0.01 } });
      const report = await prom.check(deployment({ healthPolicy: policy }), [applied('u1'), pending('p1')], NOW);
      expect(report.verdict).toBe(HealthVerdict.INCONCLUSIVE);
      expect(report.reasons).toContain('p99: query failed: connection refused after 3 attempts: NO_DATA');
    });

    it('refuses a policy with queries on a server without PROMETHEUS_URL, or with an unknown placeholder', () => {
      expect(() => monitor.assertAnswerable(policy)).toThrow(BadInputError);
      expect(() => monitor.assertAnswerable(policy)).toThrow(/health\.metrics\[2\]\.query: queries need PROMETHEUS_URL/);
      const prom = new HealthMonitor(registry, source(() => []), { queryStepSeconds: 5 });
      expect(() => prom.assertAnswerable(policy)).not.toThrow();
      const typo = { ...policy, metrics: withDefaultMetrics([{ ...policy.metrics[2]!, query: 'up{job="{{servce}}"}' }]) };
      expect(() => prom.assertAnswerable(typo)).toThrow(/unknown placeholder \{\{servce\}\}/);
    });
  });
});
