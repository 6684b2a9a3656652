import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, type Api, ok } from '../support/api.js';
import { type Fleet, type SimInstance, startDeployment, startFleet, waitForDeployment } from '../support/fleet.js';
import { profileWithVersions, startAndWait } from '../support/progressive.js';
import { type Exporter, type RunningPrometheus, startExporter, startPrometheus } from '../support/prometheus.js';
import { startTestServer, type TestServer } from '../support/server.js';

/**
 * The statistical gate on fleets of real graphql-ws instances: a +1 point
 * error rate on the first 10 % fails the canary with its p-value, where the
 * old +5-point limit (judged in the same report) passes it; and a canary
 * judged on PromQL alone, against a real Prometheus, rolls back on latency.
 */

const VERDICT = `query($id: ID!) { deployment(id: $id) { status rollbackReason
  health { verdict reasons metrics { name check verdict canaryCount controlCount canaryMedian controlMedian pValue reference } } } }`;

interface Verdict {
  status: string;
  rollbackReason: string | null;
  health: {
    verdict: string;
    reasons: string[];
    metrics: Array<{ name: string; check: string; verdict: string; canaryCount: number; controlCount: number; canaryMedian: number | null; controlMedian: number | null; pValue: number | null; reference: string }>;
  } | null;
}

/** A noisy but deterministic value around `center` (±`spread`): instances do not report constants. */
function noisy(center: number, spread: number): () => number {
  let k = 0;
  return () => center + spread * ((((k += 1) * 7919) % 101) / 101 - 0.5) * 2;
}

const onVersion2 = (i: SimInstance) => i.appliedVersion() === 2;

describe('the statistical health gate on a fleet', () => {
  let server: TestServer;
  let a: Api;
  const fleets: Fleet[] = [];
  const verdict = async (id: string) => ok(await a.gql<{ deployment: Verdict }>(VERDICT, { id })).deployment;

  afterAll(async () => {
    await Promise.allSettled(fleets.map((f) => f.stop()));
    await server?.stop();
  });

  describe('a +1 point error rate on the first 10 % of 20 instances', () => {
    let d: Verdict;

    beforeAll(async () => {
      server = await startTestServer({ HOTSWAP_HEALTH_CHECK_INTERVAL_MS: '3600000' });
      a = api(server);
      await profileWithVersions(a, 'gate-shift', 2);
      const f = await startFleet(a, { service: 'gate-shift-svc', count: 20 });
      fleets.push(f);
      expect((await startAndWait(a, { profileName: 'gate-shift', version: 1, strategy: 'DIRECT', ackTimeoutSeconds: 10 })).status).toBe('COMPLETED');
      const errorRates = new Map(f.instances.map((i) => [i.id, noisy(0.01, 0.004)]));
      f.reportMetrics(100, (i) => ({ errorRate: errorRates.get(i.id)!() + (onVersion2(i) ? 0.01 : 0), latencyP99Ms: 100, requestCount: 100 }));
      await new Promise((r) => setTimeout(r, 1200));
      const started = await startDeployment(a, {
        profileName: 'gate-shift',
        version: 2,
        strategy: 'CANARY',
        canary: { phases: [0.1, 1.0], bakeSeconds: 3 },
        // Today's fixed limit judged beside the rank test, in the same report.
        health: { maxErrorRateIncrease: 0.05 },
      });
      await waitForDeployment(a, started.id, 30_000);
      d = await verdict(started.id);
    }, 60_000);

    it('rolls back after the first phase, the p-value in the reason', () => {
      expect(d.status).toBe('ROLLED_BACK');
      expect(d.rollbackReason).toMatch(
        /^phase 1 of 2: health degraded: error rate: canary median 2(\.\d)? % vs control 1(\.\d)? % \(n=\d+\/\d+\), p(<0\.001|=0\.0[01]\d*), \+1(\.\d)? points? > tolerance 0\.5: FAIL/,
      );
    });

    it('compares the two canaries with the 18 instances not yet updated, and the rank test is what fails', () => {
      const [rank, limit] = d.health!.metrics.filter((m) => m.name === 'errorRate');
      expect(rank).toMatchObject({ check: 'MANN_WHITNEY', verdict: 'FAIL', reference: 'control' });
      expect(rank!.pValue).toBeLessThan(0.02);
      expect(rank!.canaryCount).toBeGreaterThanOrEqual(10);
      expect(rank!.controlCount).toBeGreaterThan(rank!.canaryCount);
      // The old +5-point limit passes the same samples: the shift hides under it.
      expect(limit).toMatchObject({ check: 'FIXED_LIMIT', verdict: 'PASS', pValue: null });
      expect(limit!.canaryMedian! - limit!.controlMedian!).toBeLessThan(0.05);
    });
  });

  describe('a canary judged on PromQL alone, against a real Prometheus', () => {
    let exporter: Exporter;
    let prometheus: RunningPrometheus;
    let d: Verdict;
    let timer: NodeJS.Timeout | undefined;

    beforeAll(async () => {
      exporter = await startExporter();
      prometheus = await startPrometheus({ targets: [exporter.hostPort], scrapeIntervalSeconds: 1 });
      const promServer = await startTestServer({ PROMETHEUS_URL: prometheus.url, HOTSWAP_PROMETHEUS_STEP_SECONDS: '1', HOTSWAP_HEALTH_CHECK_INTERVAL_MS: '3600000' });
      const pa = api(promServer);
      try {
        await profileWithVersions(pa, 'gate-prom', 2);
        const f = await startFleet(pa, { service: 'gate-prom-svc', count: 6 });
        fleets.push(f);
        expect((await startAndWait(pa, { profileName: 'gate-prom', version: 1, strategy: 'DIRECT', ackTimeoutSeconds: 10 })).status).toBe('COMPLETED');
        // The service's own metrics, as its Prometheus sees them: p99 triples on version 2; no heartbeat carries metrics.
        const latency = new Map(f.instances.map((i) => [i.id, noisy(100, 10)]));
        const errors = new Map(f.instances.map((i) => [i.id, noisy(0.01, 0.004)]));
        const publish = () => {
          for (const i of f.instances) {
            exporter.set('app_latency_p99_ms', { instance_id: i.id }, latency.get(i.id)!() * (onVersion2(i) ? 3 : 1));
            exporter.set('app_error_ratio', { instance_id: i.id }, errors.get(i.id)!());
          }
        };
        publish();
        timer = setInterval(publish, 250);
        f.keepAlive(200);
        await new Promise((r) => setTimeout(r, 2000)); // scraped a few times before the deployment
        const started = await startDeployment(pa, {
          profileName: 'gate-prom',
          version: 2,
          strategy: 'CANARY',
          canary: { phases: [0.5, 1.0], bakeSeconds: 5 },
          health: {
            metrics: [
              { name: 'errorRate', query: 'app_error_ratio{instance_id=~"{{instances}}"}', critical: true },
              { name: 'latencyP99Ms', query: 'app_latency_p99_ms{instance_id=~"{{instances}}"}', unit: 'MS', tolerancePct: 20 },
            ],
          },
        });
        await waitForDeployment(pa, started.id, 40_000);
        d = ok(await pa.gql<{ deployment: Verdict }>(VERDICT, { id: started.id })).deployment;
      } finally {
        await promServer.stop();
      }
    }, 90_000);

    afterAll(async () => {
      clearInterval(timer);
      await prometheus?.stop();
      await exporter?.close();
    });

    it('rolls back the first phase on the queried latency, with its p-value', () => {
      expect(d.status).toBe('ROLLED_BACK');
      expect(d.rollbackReason).toMatch(/^phase 1 of 2: health degraded: p99 latency: canary median \d+(\.\d)? ms vs control \d+(\.\d)? ms \(n=\d+\/\d+\), p<0\.001, \+\d+(\.\d)? ms > tolerance \d+(\.\d)?: FAIL/);
    });

    it('judged both queried metrics from Prometheus samples: error rate passed, latency failed', () => {
      const byName = Object.fromEntries(d.health!.metrics.map((m) => [m.name, m]));
      expect(byName['errorRate']).toMatchObject({ check: 'MANN_WHITNEY', verdict: 'PASS', reference: 'control' });
      expect(byName['latencyP99Ms']).toMatchObject({ check: 'MANN_WHITNEY', verdict: 'FAIL', reference: 'control' });
      expect(byName['latencyP99Ms']!.canaryMedian! / byName['latencyP99Ms']!.controlMedian!).toBeGreaterThan(2);
      expect(byName['latencyP99Ms']!.canaryCount).toBeGreaterThanOrEqual(10);
    });
  });
});
