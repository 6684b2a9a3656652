import { beforeEach, describe, expect, it } from 'vitest';
import { TargetState } from '../../../src/domain/deployment.js';
import { Environment, HealthVerdict } from '../../../src/domain/enums.js';
import type { HealthMonitor } from '../../../src/orchestrator/health-monitor.js';
import { MemoryInstanceRegistry } from '../../../src/registry/memory-registry.js';
import { graphWithoutDatabase } from '../../support/graph.js';
import { ACKED, applied, deployment, heartbeats, minutes, NOW, pending, POLICY, snapshot, target } from '../../support/health-monitor.js';

describe('HealthMonitor', () => {
  let registry: MemoryInstanceRegistry;
  let monitor: HealthMonitor;

  beforeEach(() => {
    registry = new MemoryInstanceRegistry();
    monitor = graphWithoutDatabase(registry).health;
  });

  const beat = (at: Date, metricsById: Parameters<typeof heartbeats>[2]) => heartbeats(registry, at, metricsById);

  describe('baseline', () => {
    it('is empty for no instances, and for instances that never reported metrics', async () => {
      const empty = { errorRate: null, latencyP99Ms: null, requestCount: null, custom: null, instances: 0 };
      expect(await monitor.baseline([], NOW)).toEqual(empty);
      await beat(minutes(59), {});
      await registry.register({
        id: 'silent', service: 'checkout', environment: Environment.PRODUCTION, host: 'h', color: null, metadata: null, registeredAt: minutes(50),
      });
      expect(await monitor.baseline(['silent', 'unknown'], NOW)).toEqual(empty);
    });

    it('aggregates the recent heartbeats of the given instances only', async () => {
      await beat(minutes(55), { a: { errorRate: 0.02, latencyP99Ms: 100, requestCount: 100 }, b: { errorRate: 0.02, latencyP99Ms: 300, requestCount: 100 } });
      await beat(minutes(55), { other: { errorRate: 0.9, latencyP99Ms: 9000, requestCount: 100 } });
      expect(await monitor.baseline(['a', 'b'], NOW)).toEqual({
        errorRate: 0.02, latencyP99Ms: 200, requestCount: 200, custom: null, instances: 2,
      });
    });

    it('ignores samples older than 10 minutes', async () => {
      await beat(minutes(45), { a: { errorRate: 0.5, latencyP99Ms: 5000, requestCount: 100 } });
      await beat(minutes(55), { a: { errorRate: 0.01, latencyP99Ms: 100, requestCount: 100 } });
      await beat(minutes(49.9), { old: { errorRate: 0.5, requestCount: 100 } });
      const base = await monitor.baseline(['a', 'old'], NOW);
      expect(base).toEqual({ errorRate: 0.01, latencyP99Ms: 100, requestCount: 100, custom: null, instances: 1 });
    });

    it('keeps a sample exactly 10 minutes old', async () => {
      await beat(minutes(50), { a: { errorRate: 0.03, requestCount: 10 } });
      expect(await monitor.baseline(['a'], NOW)).toMatchObject({ errorRate: 0.03, instances: 1 });
      expect(await monitor.baseline(['a'], new Date(NOW.getTime() + 1))).toMatchObject({ errorRate: null, instances: 0 });
    });

    it('weights the error rate by requests across instances', async () => {
      await beat(minutes(55), { busy: { errorRate: 0.1, requestCount: 900 }, quiet: { errorRate: 0.01, requestCount: 100 } });
      const base = await monitor.baseline(['busy', 'quiet'], NOW);
      expect(base.errorRate).toBeCloseTo(0.091, 10); // (90 + 1) / 1000, not the plain mean 0.055
      expect(base.requestCount).toBe(1000);
    });

    it('weights the error rate by requests across one instance’s samples too', async () => {
      await beat(minutes(54), { a: { errorRate: 0.2, requestCount: 10 } });
      await beat(minutes(55), { a: { errorRate: 0.0, requestCount: 190 } });
      expect((await monitor.baseline(['a'], NOW)).errorRate).toBeCloseTo(0.01, 10); // 2 / 200
    });

    it('falls back to a plain mean when a request count is missing', async () => {
      await beat(minutes(55), { busy: { errorRate: 0.1, requestCount: 900 }, quiet: { errorRate: 0.01 } });
      expect((await monitor.baseline(['busy', 'quiet'], NOW)).errorRate).toBeCloseTo(0.055, 10);
    });

    it('averages custom metrics per name', async () => {
      await beat(minutes(55), { a: { custom: { queue: 4 } }, b: { custom: { queue: 8, cpu: 0.5 } } });
      expect((await monitor.baseline(['a', 'b'], NOW)).custom).toEqual({ cpu: 0.5, queue: 6 });
    });
  });

  describe('check', () => {
    it('healthy when the updated instances since their ack match the baseline', async () => {
      await beat(minutes(59.5), { u1: { errorRate: 0.01, latencyP99Ms: 210, requestCount: 100 } });
      const report = await monitor.check(deployment(), [applied('u1')], NOW);
      expect(report).toEqual({
        verdict: HealthVerdict.PASS,
        healthy: true,
        baseline: snapshot(),
        current: { errorRate: 0.01, latencyP99Ms: 210, requestCount: 100, custom: null, instances: 1 },
        reasons: [],
        checkedAt: NOW,
        insufficientData: false,
        evidence: { updated: 1, reporting: 1, required: 1, minHeartbeats: 1 },
      });
    });

    it('degraded error rate, with the readable reason', async () => {
      await beat(minutes(59.5), { u1: { errorRate: 0.3, latencyP99Ms: 200, requestCount: 100 } });
      const report = await monitor.check(deployment(), [applied('u1')], NOW);
      expect(report.healthy).toBe(false);
      expect(report.reasons).toEqual(['error rate 30.0% vs baseline 1.0%: +29.0 points > 5.0']);
    });

    it('degraded latency: "p99 latency 480 ms vs baseline 200 ms: +140% > 50%"', async () => {
      await beat(minutes(59.5), { u1: { errorRate: 0.01, latencyP99Ms: 480, requestCount: 100 } });
      const report = await monitor.check(deployment(), [applied('u1')], NOW);
      expect(report).toMatchObject({ healthy: false, insufficientData: false });
      expect(report.reasons).toEqual(['p99 latency 480 ms vs baseline 200 ms: +140% > 50%']);
    });

    it('uses only the samples at or after each target’s ackedAt', async () => {
      await beat(minutes(58.8), { u1: { errorRate: 0.9, latencyP99Ms: 9000, requestCount: 1000 } }); // before the ack
      await beat(ACKED, { u1: { errorRate: 0.02, latencyP99Ms: 200, requestCount: 100 } }); // exactly at the ack
      const report = await monitor.check(deployment(), [applied('u1')], NOW);
      expect(report.healthy).toBe(true);
      expect(report.current).toMatchObject({ errorRate: 0.02, latencyP99Ms: 200, requestCount: 100, instances: 1 });
    });

    it('each target has its own ack time', async () => {
      await beat(minutes(59.2), { early: { errorRate: 0.4, requestCount: 100 }, late: { errorRate: 0.4, requestCount: 100 } });
      await beat(minutes(59.6), { early: { errorRate: 0.01, requestCount: 100 }, late: { errorRate: 0.01, requestCount: 100 } });
      const targets = [applied('early', { ackedAt: minutes(59.1) }), applied('late', { ackedAt: minutes(59.5) })];
      const report = await monitor.check(deployment(), targets, NOW);
      // early: (40 + 1) / 200; late: 1 / 100 → (41 + 1) / 300 = 0.14
      expect(report.current.errorRate).toBeCloseTo(0.14, 10);
      expect(report.current.requestCount).toBe(300);
    });

    it('weights the updated error rate by requests', async () => {
      await beat(minutes(59.5), { u1: { errorRate: 0.2, requestCount: 100 }, u2: { errorRate: 0.0, requestCount: 900 } });
      const report = await monitor.check(deployment(), [applied('u1'), applied('u2')], NOW);
      expect(report.current.errorRate).toBeCloseTo(0.02, 10); // plain mean would be 0.1: degraded
      expect(report.healthy).toBe(true);
    });

    it('INCONCLUSIVE, never healthy, when the updated instances have not reported since their ack', async () => {
      await beat(minutes(58.9), { u1: { errorRate: 0.9, latencyP99Ms: 9000, requestCount: 100 } });
      const report = await monitor.check(deployment(), [applied('u1')], NOW);
      expect(report).toMatchObject({ verdict: HealthVerdict.INCONCLUSIVE, healthy: false, insufficientData: true });
      expect(report.reasons).toEqual(['not enough evidence: 0 of 1 updated instance sent 1 heartbeat with metrics since applying (1 needed)']);
      expect(report.current.instances).toBe(0);
    });

    it('INCONCLUSIVE when no target has applied yet', async () => {
      await beat(minutes(59.5), { p1: { errorRate: 0.01, requestCount: 100 } });
      const report = await monitor.check(deployment(), [pending('p1')], NOW);
      expect(report).toMatchObject({ verdict: HealthVerdict.INCONCLUSIVE, healthy: false, reasons: ['not enough evidence: no instance has applied the new version'] });
    });

    it('by default needs two heartbeats since the ack from half of the updated instances', async () => {
      const d = deployment({ healthPolicy: { ...POLICY, minHeartbeats: 2 } });
      const targets = [applied('u1'), applied('u2'), applied('u3'), applied('u4')];
      await beat(minutes(59.2), { u1: { errorRate: 0.01 }, u2: { errorRate: 0.01 }, u3: { errorRate: 0.01 } });
      expect((await monitor.check(d, targets, NOW)).evidence).toEqual({ updated: 4, reporting: 0, required: 2, minHeartbeats: 2 });
      await beat(minutes(59.4), { u1: { errorRate: 0.01 } });
      expect(await monitor.check(d, targets, NOW)).toMatchObject({ verdict: HealthVerdict.INCONCLUSIVE, evidence: { reporting: 1 } });
      await beat(minutes(59.6), { u2: { errorRate: 0.01 } });
      expect(await monitor.check(d, targets, NOW)).toMatchObject({ verdict: HealthVerdict.PASS, evidence: { reporting: 2 } });
    });

    it('ignores APPLIED targets of another version (e.g. given the previous version back)', async () => {
      await beat(minutes(59.5), { u1: { errorRate: 0.01, requestCount: 100 }, old: { errorRate: 0.9, requestCount: 100 } });
      const report = await monitor.check(deployment(), [applied('u1'), applied('old', { version: 1 })], NOW);
      expect(report.healthy).toBe(true);
      expect(report.current.instances).toBe(1);
    });

    it.each([TargetState.FAILED, TargetState.ROLLED_BACK, TargetState.PUSHED, TargetState.TIMED_OUT])(
      'ignores %s targets on both sides',
      async (state) => {
        await beat(minutes(59.5), {
          u1: { errorRate: 0.08, requestCount: 100 },
          u2: { errorRate: 0.01, requestCount: 100 },
          bad: { errorRate: 0.9, requestCount: 100 },
          good: { errorRate: 0.01, requestCount: 100 },
        });
        // Counted as not yet updated, "good" would make u1 degraded (+7 points > 5).
        const asWaiting = await monitor.check(deployment({}, snapshot({ errorRate: 0.07 })), [applied('u1'), target('good', state)], NOW);
        expect(asWaiting).toMatchObject({ healthy: true, insufficientData: false, reasons: [] });
        // Counted as updated, "bad" would make the updated group degraded.
        const asUpdated = await monitor.check(deployment(), [applied('u2'), target('bad', state)], NOW);
        expect(asUpdated).toMatchObject({ healthy: true, insufficientData: false, reasons: [] });
        expect(asUpdated.current).toMatchObject({ errorRate: 0.01, requestCount: 100, instances: 1 });
      },
    );
  });
});
