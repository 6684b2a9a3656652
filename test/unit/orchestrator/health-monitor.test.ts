import { beforeEach, describe, expect, it } from 'vitest';
import { TargetState } from '../../../src/domain/deployment.js';
import { DeploymentStatus, Environment, HealthVerdict, InstanceStatus } from '../../../src/domain/enums.js';
import type { HealthMonitor } from '../../../src/orchestrator/health-monitor.js';
import { MemoryInstanceRegistry } from '../../../src/registry/memory-registry.js';
import { graphWithoutDatabase } from '../../support/graph.js';
import { ACKED, applied, deployment, heartbeats, heartbeatsFrom, minutes, NOW, pending, POLICY, target } from '../../support/health-monitor.js';

describe('HealthMonitor', () => {
  let registry: MemoryInstanceRegistry;
  let monitor: HealthMonitor;

  beforeEach(() => {
    registry = new MemoryInstanceRegistry();
    monitor = graphWithoutDatabase(registry).health;
  });

  const beat = (at: Date, metricsById: Parameters<typeof heartbeats>[2]) => heartbeats(registry, at, metricsById);
  const beats = (from: Date, count: number, metricsById: Parameters<typeof heartbeats>[2]) => heartbeatsFrom(registry, from, count, metricsById);

  describe('baseline', () => {
    it('is empty for no instances, and for instances that never reported metrics', async () => {
      const empty = { errorRate: null, latencyP99Ms: null, requestCount: null, custom: null, instances: 0 };
      expect((await monitor.baseline([], NOW)).snapshot).toEqual(empty);
      await beat(minutes(59), {});
      await registry.register({
        id: 'silent', service: 'checkout', environment: Environment.PRODUCTION, host: 'h', color: null, metadata: null, registeredAt: minutes(50),
      });
      expect((await monitor.baseline(['silent', 'unknown'], NOW)).snapshot).toEqual(empty);
    });

    it('aggregates the recent heartbeats of the given instances only', async () => {
      await beat(minutes(55), { a: { errorRate: 0.02, latencyP99Ms: 100, requestCount: 100 }, b: { errorRate: 0.02, latencyP99Ms: 300, requestCount: 100 } });
      await beat(minutes(55), { other: { errorRate: 0.9, latencyP99Ms: 9000, requestCount: 100 } });
      expect((await monitor.baseline(['a', 'b'], NOW)).snapshot).toEqual({
        errorRate: 0.02, latencyP99Ms: 200, requestCount: 200, custom: null, instances: 2,
      });
    });

    it('ignores samples older than 10 minutes', async () => {
      await beat(minutes(45), { a: { errorRate: 0.5, latencyP99Ms: 5000, requestCount: 100 } });
      await beat(minutes(55), { a: { errorRate: 0.01, latencyP99Ms: 100, requestCount: 100 } });
      await beat(minutes(49.9), { old: { errorRate: 0.5, requestCount: 100 } });
      const base = (await monitor.baseline(['a', 'old'], NOW)).snapshot;
      expect(base).toEqual({ errorRate: 0.01, latencyP99Ms: 100, requestCount: 100, custom: null, instances: 1 });
    });

    it('keeps a sample exactly 10 minutes old', async () => {
      await beat(minutes(50), { a: { errorRate: 0.03, requestCount: 10 } });
      expect((await monitor.baseline(['a'], NOW)).snapshot).toMatchObject({ errorRate: 0.03, instances: 1 });
      expect((await monitor.baseline(['a'], new Date(NOW.getTime() + 1))).snapshot).toMatchObject({ errorRate: null, instances: 0 });
    });

    it('weights the error rate by requests across instances', async () => {
      await beat(minutes(55), { busy: { errorRate: 0.1, requestCount: 900 }, quiet: { errorRate: 0.01, requestCount: 100 } });
      const base = (await monitor.baseline(['busy', 'quiet'], NOW)).snapshot;
      expect(base.errorRate).toBeCloseTo(0.091, 10); // (90 + 1) / 1000, not the plain mean 0.055
      expect(base.requestCount).toBe(1000);
    });

    it('weights the error rate by requests across one instance’s samples too', async () => {
      await beat(minutes(54), { a: { errorRate: 0.2, requestCount: 10 } });
      await beat(minutes(55), { a: { errorRate: 0.0, requestCount: 190 } });
      expect(((await monitor.baseline(['a'], NOW)).snapshot).errorRate).toBeCloseTo(0.01, 10); // 2 / 200
    });

    it('falls back to a plain mean when a request count is missing', async () => {
      await beat(minutes(55), { busy: { errorRate: 0.1, requestCount: 900 }, quiet: { errorRate: 0.01 } });
      expect(((await monitor.baseline(['busy', 'quiet'], NOW)).snapshot).errorRate).toBeCloseTo(0.055, 10);
    });

    it('averages custom metrics per name', async () => {
      await beat(minutes(55), { a: { custom: { queue: 4 } }, b: { custom: { queue: 8, cpu: 0.5 } } });
      expect(((await monitor.baseline(['a', 'b'], NOW)).snapshot).custom).toEqual({ cpu: 0.5, queue: 6 });
    });
  });

  describe('check', () => {
    const base = (errorRate: number, latencyP99Ms: number) => ({ errorRate: Array(20).fill(errorRate), latencyP99Ms: Array(20).fill(latencyP99Ms) });
    const withBaseline = (errorRate = 0.01, latencyP99Ms = 200) => deployment({ state: { ...deployment().state, baselineSamples: base(errorRate, latencyP99Ms) } });

    it('passes when the updated instances since their ack match the baseline, with a verdict per metric', async () => {
      await beats(minutes(59.1), 5, { u1: { errorRate: 0.01, latencyP99Ms: 200, requestCount: 100 } });
      const report = await monitor.check(withBaseline(), [applied('u1')], NOW);
      expect(report).toMatchObject({ verdict: HealthVerdict.PASS, healthy: true, reasons: [], outliers: [], evidence: { updated: 1, reporting: 1, required: 1, minHeartbeats: 1 } });
      expect(report.current).toEqual({ errorRate: 0.01, latencyP99Ms: 200, requestCount: 500, custom: null, instances: 1 });
      expect(report.metrics.map((m) => [m.name, m.verdict, m.canaryCount, m.controlCount, m.reference])).toEqual([
        ['errorRate', 'PASS', 5, 20, 'baseline'],
        ['latencyP99Ms', 'PASS', 5, 20, 'baseline'],
      ]);
    });

    it('fails a degraded error rate, with the readable reason, and marks the instance DEGRADED', async () => {
      await beats(minutes(59.1), 5, { u1: { errorRate: 0.3, latencyP99Ms: 200, requestCount: 100 } });
      const report = await monitor.check(withBaseline(), [applied('u1')], NOW);
      expect(report.verdict).toBe(HealthVerdict.FAIL);
      expect(report.reasons).toEqual([expect.stringMatching(/^error rate: canary median 30 % vs baseline 1 % \(n=5\/20\), p<0\.001, \+29 points > tolerance 0\.5: FAIL$/)]);
      expect(report.outliers).toEqual(['u1']);
      expect((await registry.get('u1'))?.status).toBe(InstanceStatus.DEGRADED);
    });

    it('does not mark the outliers of a paused deployment again: its checks judge the same samples since the apply', async () => {
      await beats(minutes(59.1), 5, { u1: { errorRate: 0.3, latencyP99Ms: 200, requestCount: 100 } });
      const report = await monitor.check({ ...withBaseline(), status: DeploymentStatus.PAUSED }, [applied('u1')], NOW);
      expect(report.outliers).toEqual(['u1']);
      expect((await registry.get('u1'))?.status).toBe(InstanceStatus.HEALTHY);
    });

    it('uses only the samples at or after each target’s ackedAt', async () => {
      await beats(minutes(58.7), 5, { u1: { errorRate: 0.9, latencyP99Ms: 9000, requestCount: 1000 } }); // before the ack
      await beats(ACKED, 5, { u1: { errorRate: 0.01, latencyP99Ms: 200, requestCount: 100 } });
      const report = await monitor.check(withBaseline(), [applied('u1')], NOW);
      expect(report.verdict).toBe(HealthVerdict.PASS);
      expect(report.metrics[0]!.canaryCount).toBe(5);
    });

    it('INCONCLUSIVE, never healthy, when the updated instances have not reported since their ack', async () => {
      await beats(minutes(58.5), 5, { u1: { errorRate: 0.9, latencyP99Ms: 9000, requestCount: 100 } });
      const report = await monitor.check(withBaseline(), [applied('u1')], NOW);
      expect(report).toMatchObject({ verdict: HealthVerdict.INCONCLUSIVE, healthy: false, insufficientData: true });
      expect(report.reasons).toEqual(['not enough evidence: 0 of 1 updated instance sent 1 heartbeat with metrics since applying (1 needed)']);
    });

    it('INCONCLUSIVE while a group has fewer samples than the policy asks for', async () => {
      await beats(minutes(59.1), 4, { u1: { errorRate: 0.3, requestCount: 100 } });
      const report = await monitor.check(withBaseline(), [applied('u1')], NOW);
      expect(report.verdict).toBe(HealthVerdict.INCONCLUSIVE);
      expect(report.reasons).toEqual([
        'error rate: not enough samples (n=4/20, 5 needed in each group): NO_DATA',
        'p99 latency: not enough samples (n=0/20, 5 needed in each group): NO_DATA',
      ]);
    });

    it('INCONCLUSIVE when the heartbeats since the ack carry empty metrics: a scrape that found nothing is no evidence', async () => {
      await beats(minutes(59.1), 5, { u1: {} });
      const report = await monitor.check(withBaseline(), [applied('u1')], NOW);
      expect(report).toMatchObject({ verdict: HealthVerdict.INCONCLUSIVE, evidence: { updated: 1, reporting: 0 } });
    });

    it('INCONCLUSIVE when no target has applied yet', async () => {
      await beats(minutes(59.1), 5, { p1: { errorRate: 0.01, requestCount: 100 } });
      const report = await monitor.check(withBaseline(), [pending('p1')], NOW);
      expect(report).toMatchObject({ verdict: HealthVerdict.INCONCLUSIVE, healthy: false, reasons: ['not enough evidence: no instance has applied the new version'] });
    });

    it('by default needs two heartbeats since the ack from half of the updated instances', async () => {
      const d = deployment({ healthPolicy: { ...POLICY, minHeartbeats: 2, minSamples: 1 }, state: withBaseline().state });
      const targets = [applied('u1'), applied('u2'), applied('u3'), applied('u4')];
      await beat(minutes(59.2), { u1: { errorRate: 0.01 }, u2: { errorRate: 0.01 }, u3: { errorRate: 0.01 } });
      expect((await monitor.check(d, targets, NOW)).evidence).toEqual({ updated: 4, reporting: 0, required: 2, minHeartbeats: 2 });
      await beat(minutes(59.4), { u1: { errorRate: 0.01 } });
      expect(await monitor.check(d, targets, NOW)).toMatchObject({ verdict: HealthVerdict.INCONCLUSIVE, evidence: { reporting: 1 } });
      await beat(minutes(59.6), { u2: { errorRate: 0.01 } });
      expect(await monitor.check(d, targets, NOW)).toMatchObject({ verdict: HealthVerdict.PASS, evidence: { reporting: 2 } });
    });

    it('ignores APPLIED targets of another version (e.g. given the previous version back)', async () => {
      await beats(minutes(59.1), 5, { u1: { errorRate: 0.01, requestCount: 100 }, old: { errorRate: 0.9, requestCount: 100 } });
      const report = await monitor.check(withBaseline(), [applied('u1'), applied('old', { version: 1 })], NOW);
      expect(report.verdict).toBe(HealthVerdict.PASS);
      expect(report.metrics[0]!.canaryCount).toBe(5);
    });

    it.each([TargetState.FAILED, TargetState.ROLLED_BACK, TargetState.PUSHED, TargetState.TIMED_OUT])(
      'ignores %s targets on both sides',
      async (state) => {
        await beats(minutes(59.1), 5, { u1: { errorRate: 0.01, requestCount: 100 }, other: { errorRate: 0.9, requestCount: 100 } });
        const report = await monitor.check(withBaseline(), [applied('u1'), target('other', state)], NOW);
        expect(report).toMatchObject({ verdict: HealthVerdict.PASS, reasons: [] });
        expect(report.metrics[0]).toMatchObject({ canaryCount: 5, controlCount: 20, reference: 'baseline' });
      },
    );
  });
});
