import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Environment, Role } from '../../src/domain/enums.js';
import { api, type Api, createProfile, expectRefused, ok, publish } from '../support/api.js';
import {
  type Behavior,
  CONFIG_UPDATES,
  type DeploymentShape,
  type Fleet,
  readDeployment,
  type SimInstance,
  START_DEPLOYMENT,
  startDeployment,
  startFleet,
  startInstance,
  waitForDeployment,
  HEALTHY,
  versionsOf,
  failOn,
} from '../support/fleet.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { pollUntil } from '../support/wait.js';
import { connectWs } from '../support/ws-client.js';

type Color = 'BLUE' | 'GREEN';

const DEGRADED = { errorRate: 0.3, latencyP99Ms: 480, requestCount: 200 };
const ACTIVE_COLOR = 'query($s: String!, $e: Environment!) { activeColor(service: $s, environment: $e) }';
const ACTIVE_VERSION = 'query($n: String!) { profile(name: $n) { activeVersion { version } } }';
const ROLLBACK = 'mutation($id: ID!, $r: String!) { rollbackDeployment(id: $id, reason: $r) { id status rollbackReason } }';
const COUNT = 'query($p: String) { deployments(profileName: $p) { totalCount } }';
const HEALTH_EVENTS = `query($id: ID!) { deployment(id: $id) { events(last: 200) { type message health { healthy reasons } } } }`;


const types = (d: DeploymentShape) => d.events.map((e) => e.type);

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

  const activeColor = async (service: string, token?: string | null) =>
    ok(await a.gql<{ activeColor: Color | null }>(ACTIVE_COLOR, { s: service, e: Environment.STAGING }, token)).activeColor;
  const activeVersion = async (name: string) =>
    ok(await a.gql<{ profile: { activeVersion: { version: number } | null } }>(ACTIVE_VERSION, { n: name })).profile.activeVersion?.version ?? null;
  const deploymentCount = async (name: string) => ok(await a.gql<{ deployments: { totalCount: number } }>(COUNT, { p: name })).deployments.totalCount;
  const colorOf = (colors: ReadonlyArray<Color | undefined>) => (i: number) => colors[i];

  /**
   * A profile `name` (service `${name}-svc`) with versions 1, 2 and 3, a fleet
   * colored as `colors` says, version 1 on every instance (DIRECT), and metrics
   * reported every 100 ms so a baseline exists.
   */
  async function setUp(
    name: string,
    colors: ReadonlyArray<Color | undefined>,
    o: { behavior?: (i: number) => Behavior; metricsOf?: (i: SimInstance) => Record<string, unknown> } = {},
  ): Promise<Fleet> {
    await createProfile(a, name, { service: `${name}-svc`, environment: Environment.STAGING });
    for (const v of [1, 2, 3]) await publish(a, name, { v, name });
    const f = await startFleet(a, { service: `${name}-svc`, count: colors.length, color: colorOf(colors), behavior: o.behavior });
    fleets.push(f);
    // Let the subscriptions settle before the first push.
    await new Promise((r) => setTimeout(r, 200));
    const first = await startDeployment(a, { profileName: name, version: 1, strategy: 'DIRECT', ackTimeoutSeconds: 10 });
    expect((await waitForDeployment(a, first.id, 20_000)).status).toBe('COMPLETED');
    f.reportMetrics(100, o.metricsOf ?? (() => HEALTHY));
    await new Promise((r) => setTimeout(r, 400));
    return f;
  }

  async function blueGreen(name: string, version: number, extra: Record<string, unknown> = {}): Promise<DeploymentShape> {
    const started = await startDeployment(a, {
      profileName: name,
      version,
      strategy: 'BLUE_GREEN',
      blueGreen: { verifySeconds: 1 },
      ackTimeoutSeconds: 5,
      ...extra,
    });
    return waitForDeployment(a, started.id, 20_000);
  }

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
      expect(await activeVersion(name)).toBe(2);
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
      expect(await activeVersion(name)).toBe(3);
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
      expect(await activeVersion(name)).toBe(2);
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
      expect(await activeVersion(name)).toBe(1);
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
      expect(await activeVersion(name)).toBe(1);
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
      expect(await activeVersion(name)).toBe(1);
      await new Promise((r) => setTimeout(r, 700));
      expect(f.instances.map((i) => i.received.length)).toEqual(receivedBefore);
      for (const i of f.instances.filter((x) => x.color === 'BLUE')) expect(i.appliedVersion()).toBe(1);
    }, 30_000);

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

  describe('refusals', () => {
    it('refuses a fleet without colored instances (BAD_USER_INPUT) and creates no deployment', async () => {
      const name = 'bg-nocolor';
      await createProfile(a, name, { service: `${name}-svc` });
      await publish(a, name, { v: 1 });
      const f = await startFleet(a, { service: `${name}-svc`, count: 2 });
      fleets.push(f);
      const res = await a.gql(START_DEPLOYMENT, { input: { profileName: name, version: 1, strategy: 'BLUE_GREEN', blueGreen: { verifySeconds: 1 } } });
      expectRefused(res, 'BAD_USER_INPUT');
      expect(res.errors![0]!.message).toMatch(/color/);
      expect(await deploymentCount(name)).toBe(0);
      expect(f.instances.every((i) => i.received.length === 0)).toBe(true);
    });

    it('refuses when only one color is registered, naming the idle color it lacks (BAD_USER_INPUT)', async () => {
      const name = 'bg-blue-only';
      await createProfile(a, name, { service: `${name}-svc` });
      await publish(a, name, { v: 1 });
      const f = await startFleet(a, { service: `${name}-svc`, count: 2, color: () => 'BLUE' });
      fleets.push(f);
      const res = await a.gql(START_DEPLOYMENT, { input: { profileName: name, version: 1, strategy: 'BLUE_GREEN', blueGreen: { verifySeconds: 1 } } });
      expectRefused(res, 'BAD_USER_INPUT');
      expect(res.errors![0]!.message).toMatch(/GREEN/);
      expect(await deploymentCount(name)).toBe(0);
      expect(await activeColor(`${name}-svc`)).toBeNull();
    });

    it('answers activeColor only with a token (UNAUTHENTICATED without)', async () => {
      expectRefused(await a.gql(ACTIVE_COLOR, { s: 'bg-main-svc', e: Environment.STAGING }, null), 'UNAUTHENTICATED');
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
