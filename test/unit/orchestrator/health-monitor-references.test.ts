import { beforeEach, describe, expect, it } from 'vitest';
import { HealthVerdict } from '../../../src/domain/enums.js';
import type { HealthMonitor } from '../../../src/orchestrator/health-monitor.js';
import { MemoryInstanceRegistry } from '../../../src/registry/memory-registry.js';
import { graphWithoutDatabase } from '../../support/graph.js';
import {
  applied,
  CREATED,
  deployment,
  heartbeats,
  minutes,
  NOW,
  pending,
  POLICY,
  seconds,
  snapshot,
} from '../../support/health-monitor.js';

/** check: against the instances not yet updated, and with the deployment's own policy. */
describe('HealthMonitor', () => {
  let registry: MemoryInstanceRegistry;
  let monitor: HealthMonitor;

  beforeEach(() => {
    registry = new MemoryInstanceRegistry();
    monitor = graphWithoutDatabase(registry).health;
  });

  const beat = (at: Date, metricsById: Parameters<typeof heartbeats>[2]) => heartbeats(registry, at, metricsById);

  describe('check', () => {
    it('compares with the instances not yet updated (PENDING targets)', async () => {
      await beat(minutes(59.5), {
        u1: { errorRate: 0.08, latencyP99Ms: 200, requestCount: 100 },
        p1: { errorRate: 0.01, latencyP99Ms: 200, requestCount: 100 },
        p2: { errorRate: 0.01, latencyP99Ms: 200, requestCount: 100 },
      });
      const report = await monitor.check(deployment({}, snapshot({ errorRate: 0.07 })), [applied('u1'), pending('p1'), pending('p2')], NOW);
      expect(report.healthy).toBe(false);
      expect(report.reasons).toEqual(['error rate 8.0% vs instances not yet updated 1.0%: +7.0 points > 5.0']);
      expect(report.reasons.join(' ')).toContain('instances not yet updated');
    });

    it('reports both references when both are exceeded', async () => {
      await beat(minutes(59.5), { u1: { latencyP99Ms: 480 }, p1: { latencyP99Ms: 100 } });
      const report = await monitor.check(deployment(), [applied('u1'), pending('p1')], NOW);
      expect(report.reasons).toEqual([
        'p99 latency 480 ms vs baseline 200 ms: +140% > 50%',
        'p99 latency 480 ms vs instances not yet updated 100 ms: +380% > 50%',
      ]);
    });

    it('counts not-yet-updated samples only since the deployment started', async () => {
      await beat(minutes(57), { p1: { errorRate: 0.0, requestCount: 100 } }); // before createdAt: ignored
      await beat(minutes(59.5), { u1: { errorRate: 0.08, requestCount: 100 }, p1: { errorRate: 0.05, requestCount: 100 } });
      const report = await monitor.check(deployment({}, snapshot({ errorRate: 0.07 })), [applied('u1'), pending('p1')], NOW);
      expect(report.healthy).toBe(true);
    });

    it('counts not-yet-updated samples of the last 10 minutes only, for an old deployment', async () => {
      const old = deployment({ createdAt: minutes(10) }, snapshot({ errorRate: 0.07 }));
      await beat(minutes(45), { p1: { errorRate: 0.0, requestCount: 1000 } }); // older than 10 minutes: ignored
      await beat(minutes(55), { p1: { errorRate: 0.05, requestCount: 100 } });
      await beat(minutes(59.5), { u1: { errorRate: 0.08, requestCount: 100 } });
      const report = await monitor.check(old, [applied('u1'), pending('p1')], NOW);
      expect(report.healthy).toBe(true);
    });

    it('custom health thresholds and limits of the deployment are applied', async () => {
      await beat(minutes(59.5), { u1: { errorRate: 0.1, latencyP99Ms: 480, requestCount: 100, custom: { queueDepth: 12, cpu: 0.4 } } });
      const strict = deployment({
        healthPolicy: { ...POLICY, maxErrorRateIncrease: 0.1, maxLatencyIncreasePct: 150, customThresholds: { queueDepth: 10, cpu: 0.5 } },
      });
      const report = await monitor.check(strict, [applied('u1')], NOW);
      expect(report.reasons).toEqual(['custom metric queueDepth 12 > 10']);
      const loose = deployment({ healthPolicy: { ...POLICY, maxErrorRateIncrease: 0.1, maxLatencyIncreasePct: 150, customThresholds: { queueDepth: 12 } } });
      expect((await monitor.check(loose, [applied('u1')], NOW)).healthy).toBe(true);
    });

    it('policy nulls disable the error rate and latency checks', async () => {
      await beat(minutes(59.5), { u1: { errorRate: 0.9, latencyP99Ms: 9000, requestCount: 100 } });
      const off = deployment({ healthPolicy: { ...POLICY, maxErrorRateIncrease: null, maxLatencyIncreasePct: null } });
      const report = await monitor.check(off, [applied('u1')], NOW);
      expect(report).toMatchObject({ healthy: true, insufficientData: false, reasons: [] });
      const latencyOnly = deployment({ healthPolicy: { ...POLICY, maxErrorRateIncrease: null } });
      expect((await monitor.check(latencyOnly, [applied('u1')], NOW)).reasons).toEqual([
        'p99 latency 9000 ms vs baseline 200 ms: +4400% > 50%',
      ]);
    });

    it('a null baseline compares with nothing but the instances not yet updated', async () => {
      await beat(minutes(59.5), { u1: { errorRate: 0.3, latencyP99Ms: 480, requestCount: 100 } });
      const report = await monitor.check(deployment({}, null), [applied('u1')], NOW);
      // Nothing to compare with is no pass.
      expect(report).toMatchObject({ verdict: HealthVerdict.INCONCLUSIVE, healthy: false, insufficientData: true });
      expect(report.baseline).toEqual({ errorRate: null, latencyP99Ms: null, requestCount: null, custom: null, instances: 0 });
      await beat(minutes(59.5), { p1: { errorRate: 0.01, latencyP99Ms: 480, requestCount: 100 } });
      const withWaiting = await monitor.check(deployment({}, null), [applied('u1'), pending('p1')], NOW);
      expect(withWaiting.reasons).toEqual(['error rate 30.0% vs instances not yet updated 1.0%: +29.0 points > 5.0']);
    });

    it('an APPLIED target without ackedAt counts its samples since the deployment started', async () => {
      await beat(minutes(57), { u1: { errorRate: 0.9, requestCount: 100 } }); // before createdAt
      await beat(minutes(58.2), { u1: { errorRate: 0.02, requestCount: 100 } });
      const report = await monitor.check(deployment(), [applied('u1', { ackedAt: null })], NOW);
      expect(report).toMatchObject({ healthy: true, insufficientData: false });
      expect(report.current.errorRate).toBeCloseTo(0.02, 10);
    });

    it('works end to end with a baseline taken by baseline()', async () => {
      await beat(seconds(57 * 60), { a: { errorRate: 0.01, latencyP99Ms: 200, requestCount: 100 }, b: { errorRate: 0.01, latencyP99Ms: 200, requestCount: 100 } });
      const base = await monitor.baseline(['a', 'b'], CREATED);
      expect(base).toEqual({ errorRate: 0.01, latencyP99Ms: 200, requestCount: 200, custom: null, instances: 2 });
      await beat(minutes(59.5), { a: { errorRate: 0.01, latencyP99Ms: 480, requestCount: 100 }, b: { errorRate: 0.01, latencyP99Ms: 200, requestCount: 100 } });
      const report = await monitor.check(deployment({}, base), [applied('a'), pending('b')], NOW);
      expect(report.baseline).toEqual(base);
      expect(report.reasons).toEqual([
        'p99 latency 480 ms vs baseline 200 ms: +140% > 50%',
        'p99 latency 480 ms vs instances not yet updated 200 ms: +140% > 50%',
      ]);
    });
  });
});
