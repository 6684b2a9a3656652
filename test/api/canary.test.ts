import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Environment } from '../../src/domain/enums.js';
import { api, type Api, createProfile, ok, publish } from '../support/api.js';
import {
  deployAndWait,
  type DeploymentShape,
  EVENT_FIELDS,
  type Fleet,
  HEALTH_FIELDS,
  type SimInstance,
  startDeployment,
  startFleet,
  waitForDeployment,
} from '../support/fleet.js';
import { startTestServer, type TestServer } from '../support/server.js';

const HEALTHY = { errorRate: 0.01, latencyP99Ms: 100, requestCount: 200 };
const DEGRADED = { errorRate: 0.3, latencyP99Ms: 480, requestCount: 200 };
const WITH_HEALTH = `query($id: ID!) { deployment(id: $id) {
  status phase phaseCount rollbackReason
  health { ${HEALTH_FIELDS} }
  healthChecks { ${HEALTH_FIELDS} }
  events(last: 200) { ${EVENT_FIELDS} health { healthy reasons } }
  targets { instanceId phase state }
} }`;

interface Detailed {
  status: string;
  phase: number;
  phaseCount: number;
  rollbackReason: string | null;
  health: { healthy: boolean; reasons: string[]; insufficientData: boolean } | null;
  healthChecks: Array<{ healthy: boolean; reasons: string[] }>;
  events: Array<{ type: string; phase: number; status: string; message: string | null; health: { healthy: boolean; reasons: string[] } | null }>;
  targets: Array<{ instanceId: string; phase: number; state: string }>;
}

describe('canary deployments', () => {
  let server: TestServer;
  let a: Api;
  const fleets: Fleet[] = [];

  beforeAll(async () => {
    server = await startTestServer();
    a = api(server);
  });
  afterAll(async () => {
    await Promise.allSettled(fleets.map((f) => f.stop()));
    await server?.stop();
  });

  const detailed = async (id: string) => ok(await a.gql<{ deployment: Detailed }>(WITH_HEALTH, { id })).deployment;

  /** A profile with versions 1 and 2, version 1 active on a fleet of `count` that reports metrics by the version it runs. */
  async function setUp(name: string, count: number, metricsOf: (i: SimInstance) => Record<string, unknown>): Promise<Fleet> {
    await createProfile(a, name, { service: `${name}-svc`, environment: Environment.STAGING });
    await publish(a, name, { v: 1 });
    await publish(a, name, { v: 2 });
    const f = await startFleet(a, { service: `${name}-svc`, count });
    fleets.push(f);
    expect((await deployAndWait(a, name, 1)).status).toBe('COMPLETED');
    f.reportMetrics(100, metricsOf);
    await new Promise((r) => setTimeout(r, 400));
    return f;
  }

  describe('with healthy instances', () => {
    let d: DeploymentShape;
    let details: Detailed;
    beforeAll(async () => {
      await setUp('canary-ok', 10, () => HEALTHY);
      const started = await startDeployment(a, { profileName: 'canary-ok', version: 2, strategy: 'CANARY', canary: { bakeSeconds: 1 }, ackTimeoutSeconds: 5 });
      d = await waitForDeployment(a, started.id, 20_000);
      details = await detailed(started.id);
    }, 30_000);

    it('completes all 4 phases of 1, 2, 2 and 5 instances', () => {
      expect(d.status).toBe('COMPLETED');
      expect(d.phaseCount).toBe(4);
      const sizes = [1, 2, 3, 4].map((p) => d.targets.filter((t) => t.phase === p).length);
      expect(sizes).toEqual([1, 2, 2, 5]);
      expect(d.targets.every((t) => t.state === 'APPLIED')).toBe(true);
    });

    it('judges health after every phase, healthy each time', () => {
      const checks = details.events.filter((e) => e.type === 'HEALTH_CHECKED');
      expect(checks.map((e) => e.phase)).toEqual([1, 2, 3, 4]);
      expect(checks.every((e) => e.health?.healthy === true)).toBe(true);
      expect(details.health).toMatchObject({ healthy: true, reasons: [], insufficientData: false });
    });
  });

  describe('when the updated instances degrade in phase 2', () => {
    let f: Fleet;
    let d: DeploymentShape;
    let details: Detailed;
    beforeAll(async () => {
      f = await setUp('canary-bad', 10, (i) => {
        const version = i.appliedVersion();
        const phase2 = d?.targets.some((t) => t.instanceId === i.id && t.phase === 2);
        return version === 2 && phase2 ? DEGRADED : HEALTHY;
      });
      const started = await startDeployment(a, { profileName: 'canary-bad', version: 2, strategy: 'CANARY', canary: { bakeSeconds: 1 }, ackTimeoutSeconds: 5 });
      d = started;
      d = await waitForDeployment(a, started.id, 20_000);
      details = await detailed(started.id);
    }, 30_000);

    it('rolls back by itself, saying why', () => {
      expect(d.status).toBe('ROLLED_BACK');
      expect(details.rollbackReason).toMatch(/phase 2 of 4: health degraded: error rate/);
      const types = details.events.map((e) => e.type);
      expect(types).toContain('ROLLBACK_STARTED');
      expect(types.at(-1)).toBe('ROLLED_BACK');
      expect(details.events.filter((e) => e.type === 'PHASE_STARTED').map((e) => e.phase)).toEqual([1, 2]);
    });

    it('gives every instance the previous version back, and never pushed phases 3 and 4', () => {
      for (const t of d.targets) {
        if (t.phase <= 2) expect(t.state).toBe('ROLLED_BACK');
        else expect(t.state).toBe('PENDING');
      }
      for (const i of f.instances) expect(i.appliedVersion()).toBe(1);
    });
  });
});
