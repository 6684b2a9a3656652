import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Environment, Role } from '../../src/domain/enums.js';
import { api, type Api, expectRefused, ok } from '../support/api.js';
import {
  type DeploymentShape,
  type Fleet,
  readDeployment,
  type SimInstance,
  START_DEPLOYMENT,
  startFleet,
  versionsOf,
  waitForDeployment,
} from '../support/fleet.js';
import {
  activeVersion,
  countDeployments,
  fleetOnVersion1,
  type FleetOnVersion1,
  profileWithVersions,
  startAndWait,
} from '../support/progressive.js';
import { startTestServer, type TestServer } from '../support/server.js';

type Color = 'BLUE' | 'GREEN';

const ACTIVE_COLOR = 'query($s: String!, $e: Environment!) { activeColor(service: $s, environment: $e) }';
const ROLLBACK = 'mutation($id: ID!, $r: String!) { rollbackDeployment(id: $id, reason: $r) { id status rollbackReason } }';

const types = (d: DeploymentShape) => d.events.map((e) => e.type);

describe('blue-green deployments', () => {
  let server: TestServer;
  let a: Api;
  const fleets: Fleet[] = [];

  beforeAll(async () => {
    // No periodic health checks: only the verdict at the end of the verify period counts here.
    server = await startTestServer({ HOTSWAP_HEALTH_CHECK_INTERVAL_MS: '3600000' });
    a = api(server);
  }, 30_000);
  afterAll(async () => {
    await Promise.allSettled([...fleets.map((f) => f.stop())]);
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

  describe('a first, then a second deployment, then a switch back', () => {
    const name = 'bg-main';
    const service = `${name}-svc`;
    let f: Fleet;
    let blue: SimInstance[];
    let green: SimInstance[];
    let colorBefore: Color | null;
    let first: DeploymentShape;
    let second: DeploymentShape;

    beforeAll(async () => {
      f = await setUp(name, SIX);
      blue = f.instances.filter((i) => i.color === 'BLUE');
      green = f.instances.filter((i) => i.color === 'GREEN');
      colorBefore = await activeColor(service);
      first = await blueGreen(name, 2);
    }, 60_000);

    it('reads no active color before the first blue-green deployment', () => {
      expect(colorBefore).toBeNull();
    });

    it('targets only the GREEN instances the first time (BLUE counts as active)', () => {
      expect(first.status).toBe('COMPLETED');
      expect(first.phaseCount).toBe(1);
      expect(first.targets.map((t) => t.instanceId).sort()).toEqual(green.map((i) => i.id).sort());
      expect(first.targets.every((t) => t.state === 'APPLIED')).toBe(true);
      expect(first.events.find((e) => e.type === 'STARTED')?.message).toMatch(/of color GREEN/);
    });

    it('gives the new version to GREEN only: BLUE never receives it and keeps version 1', () => {
      for (const i of green) expect(i.appliedVersion()).toBe(2);
      for (const i of blue) {
        expect(versionsOf(i)).not.toContain(2);
        expect(i.appliedVersion()).toBe(1);
      }
    });

    it('judges health, then switches traffic, then completes', () => {
      const t = types(first);
      const checked = t.indexOf('HEALTH_CHECKED');
      const switched = t.indexOf('TRAFFIC_SWITCHED');
      const completed = t.indexOf('COMPLETED');
      expect(checked).toBeGreaterThan(t.indexOf('PHASE_COMPLETED'));
      expect(switched).toBeGreaterThan(checked);
      expect(completed).toBeGreaterThan(switched);
      expect(t.filter((x) => x === 'TRAFFIC_SWITCHED')).toHaveLength(1);
      expect(first.events[switched]!.message).toMatch(/GREEN/);
    });

    it('makes GREEN the active color and version 2 the active version', async () => {
      expect(await activeColor(service)).toBe('GREEN');
      expect(await activeVersion(a, name)).toBe(2);
    });

    it('targets BLUE the second time; GREEN never receives that version', async () => {
      second = await blueGreen(name, 3);
      expect(second.status).toBe('COMPLETED');
      expect(second.previousVersion).toBe(2);
      expect(second.targets.map((t) => t.instanceId).sort()).toEqual(blue.map((i) => i.id).sort());
      expect(types(second)).toContain('TRAFFIC_SWITCHED');
      for (const i of blue) expect(i.appliedVersion()).toBe(3);
      for (const i of green) {
        expect(versionsOf(i)).not.toContain(3);
        expect(i.appliedVersion()).toBe(2);
      }
      expect(await activeColor(service)).toBe('BLUE');
      expect(await activeVersion(a, name)).toBe(3);
    }, 30_000);

    it('switches back at once when the completed deployment is rolled back, without pushing anything', async () => {
      const receivedBefore = f.instances.map((i) => i.received.length);
      const res = ok(await a.gql<{ rollbackDeployment: { status: string } }>(ROLLBACK, { id: second.id, r: 'blue misbehaves' }));
      expect(res.rollbackDeployment.status).toBe('ROLLING_BACK');
      const d = await waitForDeployment(a, second.id, 15_000);
      expect(d.status).toBe('ROLLED_BACK');
      expect(d.rollbackReason).toBe('blue misbehaves');
      const t = types(d);
      const switches = d.events.filter((e) => e.type === 'TRAFFIC_SWITCHED');
      expect(switches).toHaveLength(2);
      expect(switches[1]!.message).toMatch(/back .*GREEN/);
      expect(t.lastIndexOf('TRAFFIC_SWITCHED')).toBeGreaterThan(t.indexOf('ROLLBACK_STARTED'));
      expect(t.at(-1)).toBe('ROLLED_BACK');
      expect(await activeColor(service)).toBe('GREEN');
      expect(await activeVersion(a, name)).toBe(2);
      // Nothing is pushed: GREEN still runs version 2 and takes traffic again.
      await new Promise((r) => setTimeout(r, 700));
      expect(f.instances.map((i) => i.received.length)).toEqual(receivedBefore);
      for (const i of green) expect(i.appliedVersion()).toBe(2);
      for (const i of blue) expect(i.appliedVersion()).toBe(3);
    }, 30_000);

    it('refuses to roll back the first deployment once another one ran after it (CONFLICT), leaving it as it was', async () => {
      const before = (await readDeployment(a, first.id))!;
      expectRefused(await a.gql(ROLLBACK, { id: first.id, r: 'too late' }), 'CONFLICT');
      const after = (await readDeployment(a, first.id))!;
      expect(after.status).toBe('COMPLETED');
      expect(after.events).toHaveLength(before.events.length);
      expect(await activeColor(service)).toBe('GREEN');
    });

    afterAll(() => f?.stop());
  });

  describe('rolling back the first blue-green deployment after it completed', () => {
    const name = 'bg-first-back';
    const service = `${name}-svc`;
    let f: Fleet;
    let d: DeploymentShape;

    beforeAll(async () => {
      f = await setUp(name, ['BLUE', 'BLUE', 'GREEN', 'GREEN']);
      d = await blueGreen(name, 2);
      expect(d.status).toBe('COMPLETED');
    }, 60_000);

    it('gives traffic to BLUE (which runs the previous version) without a push, and makes version 1 active again', async () => {
      expect(await activeColor(service)).toBe('GREEN');
      const receivedBefore = f.instances.map((i) => i.received.length);
      ok(await a.gql(ROLLBACK, { id: d.id, r: 'green is wrong' }, await a.token(Role.OPERATOR)));
      const back = await waitForDeployment(a, d.id, 15_000);
      expect(back.status).toBe('ROLLED_BACK');
      expect(types(back).filter((t) => t === 'TRAFFIC_SWITCHED')).toHaveLength(2);
      expect(await activeColor(service)).toBe('BLUE');
      expect(await activeVersion(a, name)).toBe(1);
      await new Promise((r) => setTimeout(r, 700));
      expect(f.instances.map((i) => i.received.length)).toEqual(receivedBefore);
      for (const i of f.instances.filter((x) => x.color === 'BLUE')) expect(i.appliedVersion()).toBe(1);
    }, 30_000);

    afterAll(() => f?.stop());
  });

  describe('refusals', () => {
    it('refuses a fleet without colored instances (BAD_USER_INPUT) and creates no deployment', async () => {
      const name = 'bg-nocolor';
      await profileWithVersions(a, name, 1);
      const f = await startFleet(a, { service: `${name}-svc`, count: 2 });
      fleets.push(f);
      const res = await a.gql(START_DEPLOYMENT, { input: { profileName: name, version: 1, strategy: 'BLUE_GREEN', blueGreen: { verifySeconds: 1 } } });
      expectRefused(res, 'BAD_USER_INPUT');
      expect(res.errors![0]!.message).toMatch(/color/);
      expect(await countDeployments(a, name)).toBe(0);
      expect(f.instances.every((i) => i.received.length === 0)).toBe(true);
    });

    it('refuses when only one color is registered, naming the idle color it lacks (BAD_USER_INPUT)', async () => {
      const name = 'bg-blue-only';
      await profileWithVersions(a, name, 1);
      const f = await startFleet(a, { service: `${name}-svc`, count: 2, color: () => 'BLUE' });
      fleets.push(f);
      const res = await a.gql(START_DEPLOYMENT, { input: { profileName: name, version: 1, strategy: 'BLUE_GREEN', blueGreen: { verifySeconds: 1 } } });
      expectRefused(res, 'BAD_USER_INPUT');
      expect(res.errors![0]!.message).toMatch(/GREEN/);
      expect(await countDeployments(a, name)).toBe(0);
      expect(await activeColor(`${name}-svc`)).toBeNull();
    });

    it('lets DEVELOPER, OPERATOR and ADMIN read the active color', async () => {
      for (const role of [Role.DEVELOPER, Role.OPERATOR, Role.ADMIN]) {
        expect(await activeColor('bg-main-svc', await a.token(role))).toBe('GREEN');
        expect(await activeColor('bg-never-deployed-svc', await a.token(role))).toBeNull();
      }
    });

    it('keeps the active color per service and environment', async () => {
      const res = ok(await a.gql<{ activeColor: Color | null }>(ACTIVE_COLOR, { s: 'bg-main-svc', e: Environment.PRODUCTION }));
      expect(res.activeColor).toBeNull();
      expect(await activeColor('bg-main-svc')).toBe('GREEN');
    });
  });
});
