import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Environment } from '../../src/domain/enums.js';
import { api, type Api, ok } from '../support/api.js';
import {
  CONFIG_UPDATES,
  type DeploymentShape,
  failOn,
  type Fleet,
  HEALTHY,
  readDeployment,
  type SimInstance,
  startDeployment,
  startInstance,
  versionsOf,
  waitForDeployment,
} from '../support/fleet.js';
import {
  activeVersion,
  DEGRADED,
  fleetOnVersion1,
  type FleetOnVersion1,
  startAndWait,
} from '../support/progressive.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { pollUntil } from '../support/wait.js';
import { connectWs } from '../support/ws-client.js';

type Color = 'BLUE' | 'GREEN';

const ACTIVE_COLOR = 'query($s: String!, $e: Environment!) { activeColor(service: $s, environment: $e) }';
const HEALTH_EVENTS = `query($id: ID!) { deployment(id: $id) { events(last: 200) { type message health { healthy reasons } } } }`;

const types = (d: DeploymentShape) => d.events.map((e) => e.type);

/** What happens while the idle color is verified: it degrades, fails to apply, or instances join. */
describe('blue-green deployments', () => {
  let server: TestServer;
  let a: Api;
  const fleets: Fleet[] = [];
  const loose: SimInstance[] = [];

  beforeAll(async () => {
    // No periodic health checks: only the verdict at the end of the verify period counts here.
    server = await startTestServer({ HOTSWAP_HEALTH_CHECK_INTERVAL_MS: '3600000' });
    a = api(server);
  }, 30_000);
  afterAll(async () => {
    await Promise.allSettled([...fleets.map((f) => f.stop()), ...loose.map((i) => i.close())]);
    await server?.stop();
  });

  /**
   * A profile `name` (service `${name}-svc`) with versions 1, 2 and 3, a fleet
   * colored as `colors` says, version 1 on every instance, and metrics
   * reported every 100 ms so a baseline exists.
   */
  const setUp = async (name: string, colors: ReadonlyArray<Color | undefined>, o: Pick<FleetOnVersion1, 'behavior' | 'metricsOf'> = {}) =>
    (await fleetOnVersion1(a, name, { ...o, count: colors.length, versions: 3, data: (v) => ({ v, name }), color: (i) => colors[i], fleets })).f;
  const blueGreen = (name: string, version: number, extra: Record<string, unknown> = {}) =>
    startAndWait(a, { profileName: name, version, strategy: 'BLUE_GREEN', blueGreen: { verifySeconds: 1 }, ackTimeoutSeconds: 5, ...extra });
  const activeColor = async (service: string, token?: string | null) =>
    ok(await a.gql<{ activeColor: Color | null }>(ACTIVE_COLOR, { s: service, e: Environment.STAGING }, token)).activeColor;

  const SIX: Color[] = ['BLUE', 'BLUE', 'BLUE', 'GREEN', 'GREEN', 'GREEN'];

  describe('when GREEN degrades during the verify period', () => {
    const name = 'bg-degraded';
    const service = `${name}-svc`;
    let f: Fleet;
    let d: DeploymentShape;
    let events: Array<{ type: string; message: string | null; health: { healthy: boolean; reasons: string[] } | null }>;

    beforeAll(async () => {
      f = await setUp(name, SIX, { metricsOf: (i) => (i.appliedVersion() === 2 ? DEGRADED : HEALTHY) });
      d = await blueGreen(name, 2);
      events = ok(await a.gql<{ deployment: { events: typeof events } }>(HEALTH_EVENTS, { id: d.id })).deployment.events;
    }, 60_000);

    it('rolls back by itself before any switch: no TRAFFIC_SWITCHED, the active color unchanged', async () => {
      expect(d.status).toBe('ROLLED_BACK');
      expect(types(d)).not.toContain('TRAFFIC_SWITCHED');
      expect(types(d)).not.toContain('COMPLETED');
      const check = events.find((e) => e.type === 'HEALTH_CHECKED');
      expect(check?.health?.healthy).toBe(false);
      expect(check?.health?.reasons.join(' ')).toMatch(/error rate/);
      expect(d.rollbackReason).toMatch(/health degraded/);
      expect(await activeColor(service)).toBeNull();
      expect(await activeVersion(a, name)).toBe(1);
    });

    it('gives GREEN the previous version back; BLUE never receives the new one', () => {
      for (const i of f.instances.filter((x) => x.color === 'GREEN')) {
        expect(versionsOf(i)).toContain(2);
        expect(i.appliedVersion()).toBe(1);
      }
      for (const i of f.instances.filter((x) => x.color === 'BLUE')) {
        expect(versionsOf(i)).not.toContain(2);
        expect(i.appliedVersion()).toBe(1);
      }
      expect(d.targets.every((t) => t.state === 'ROLLED_BACK')).toBe(true);
    });

    afterAll(() => f?.stop());
  });

  describe('when an instance of the idle color fails to apply', () => {
    const name = 'bg-ackfail';
    const service = `${name}-svc`;
    let f: Fleet;
    let failing: SimInstance;
    let d: DeploymentShape;

    beforeAll(async () => {
      // The last GREEN instance cannot apply version 2 (it applies version 1 again fine).
      f = await setUp(name, SIX, { behavior: (i) => (i === 5 ? failOn(2, 'reload refused by the app') : failOn(99, 'never')) });
      failing = f.instances[5]!;
      d = await blueGreen(name, 2);
    }, 60_000);

    it('rolls back without switching traffic', async () => {
      expect(d.status).toBe('ROLLED_BACK');
      expect(types(d)).not.toContain('TRAFFIC_SWITCHED');
      expect(d.rollbackReason).toContain(failing.id);
      expect(d.rollbackReason).toContain('reload refused by the app');
      expect(await activeColor(service)).toBeNull();
      expect(await activeVersion(a, name)).toBe(1);
    });

    it('ends with every GREEN instance on the previous version and BLUE untouched', () => {
      for (const i of f.instances.filter((x) => x.color === 'GREEN')) {
        expect(versionsOf(i)).toContain(2);
        expect(i.appliedVersion()).toBe(1);
      }
      for (const i of f.instances.filter((x) => x.color === 'BLUE')) {
        expect(versionsOf(i)).not.toContain(2);
        expect(i.appliedVersion()).toBe(1);
      }
    });

    afterAll(() => f?.stop());
  });

  describe('instances that register during the deployment (late joiners)', () => {
    const name = 'bg-late';
    const service = `${name}-svc`;
    let d: DeploymentShape;
    let lateGreen: SimInstance;
    let lateBlue: SimInstance;

    beforeAll(async () => {
      await setUp(name, ['BLUE', 'BLUE', 'GREEN', 'GREEN']);
      const started = await startDeployment(a, {
        profileName: name,
        version: 2,
        strategy: 'BLUE_GREEN',
        blueGreen: { verifySeconds: 3 },
        ackTimeoutSeconds: 5,
      });
      // Once GREEN applied and is being verified, one instance of each color registers.
      await pollUntil(() => readDeployment(a, started.id), (x) => x !== null && x.events.some((e) => e.type === 'PHASE_COMPLETED'), {
        timeoutMs: 15_000,
        what: 'the GREEN phase to be acked',
      });
      lateGreen = await startInstance(a, { service, color: 'GREEN', waitForInitial: true });
      lateBlue = await startInstance(a, { service, color: 'BLUE', waitForInitial: true });
      loose.push(lateGreen, lateBlue);
      d = await waitForDeployment(a, started.id, 20_000);
    }, 60_000);

    it('are not targets, and were sent the then active version on subscribe', () => {
      expect(d.status).toBe('COMPLETED');
      expect(d.targets.map((t) => t.instanceId)).not.toContain(lateGreen.id);
      expect(d.targets.map((t) => t.instanceId)).not.toContain(lateBlue.id);
      expect(lateGreen.received[0]!.update.version).toBe(1);
      expect(lateBlue.received[0]!.update.version).toBe(1);
    });

    it('of the new active color get the new version on completion; the other color keeps the old one', async () => {
      const update = await lateGreen.waitForUpdate((u) => u.version === 2, 8000);
      expect(update.deploymentId).toBe(d.id);
      await pollUntil(async () => lateGreen.appliedVersion(), (v) => v === 2, { timeoutMs: 5000, what: 'the late GREEN instance to apply version 2' });
      expect(d.events.find((e) => e.type === 'COMPLETED')?.message).toMatch(/joined meanwhile/);
      await new Promise((r) => setTimeout(r, 500));
      expect(versionsOf(lateBlue)).toEqual([1]);
      expect(lateBlue.appliedVersion()).toBe(1);
    }, 20_000);

    it('after the switch, a new instance gets the version of its color: BLUE the old one, GREEN the new one', async () => {
      const newBlue = await startInstance(a, { service, color: 'BLUE', waitForInitial: true });
      const newGreen = await startInstance(a, { service, color: 'GREEN', waitForInitial: true });
      const uncolored = await startInstance(a, { service, waitForInitial: true });
      loose.push(newBlue, newGreen, uncolored);
      expect(versionsOf(newBlue)).toEqual([1]);
      expect(versionsOf(newGreen)).toEqual([2]);
      // Without a color an instance follows the profile's active version.
      expect(versionsOf(uncolored)).toEqual([2]);
    }, 20_000);

    it('a late BLUE instance that reconnects after the switch is sent the old version again, not the active one', async () => {
      await lateBlue.close();
      const again = connectWs(server.url, lateBlue.token);
      try {
        const sub = again.subscribe<{ configUpdates: { version: number } }>(CONFIG_UPDATES, { id: lateBlue.id });
        const first = await sub.next();
        expect(first.data?.configUpdates.version).toBe(1);
      } finally {
        await again.dispose();
      }
    }, 20_000);
  });
});
