import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Environment, Role } from '../../src/domain/enums.js';
import { api, type Api, createProfile, expectRefused, ok, publish, readVersion } from '../support/api.js';
import {
  ackFail,
  ackOk,
  deployAndWait,
  type DeploymentShape,
  type Fleet,
  noAck,
  readDeployment,
  registerInstance,
  type SimInstance,
  START_DEPLOYMENT,
  startDeployment,
  startFleet,
  startInstance,
  waitForDeployment,
  failOn,
} from '../support/fleet.js';
import { pollUntil } from '../support/wait.js';
import { startTestServer, type TestServer } from '../support/server.js';

const LIST = `query($profileName: String, $status: DeploymentStatus, $first: Int, $after: String) {
  deployments(profileName: $profileName, status: $status, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id profileName version status createdAt } }
  }
}`;
const ACTIVE_VERSION = `query($n: String!) { profile(name: $n) { activeVersion { version } } }`;
const INSTANCE_APPLIED = `query($id: ID!) { instance(id: $id) { appliedVersions { profileName version reloadMs } } }`;
const STALE_LIST = `query($service: String) { instances(service: $service, status: STALE) { id } }`;

interface ListResult {
  deployments: {
    totalCount: number;
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
    edges: Array<{ cursor: string; node: { id: string; profileName: string; version: number; status: string; createdAt: string } }>;
  };
}


describe('deployments API', () => {
  let server: TestServer;
  let a: Api;
  const fleets: Fleet[] = [];
  const sims: SimInstance[] = [];

  const fleet = async (o: Parameters<typeof startFleet>[1]) => {
    const f = await startFleet(a, o);
    fleets.push(f);
    return f;
  };
  const activeVersion = async (name: string) =>
    ok(await a.gql<{ profile: { activeVersion: { version: number } | null } }>(ACTIVE_VERSION, { n: name })).profile.activeVersion?.version ?? null;
  const listDeployments = async (vars: Record<string, unknown>, token?: string) => ok(await a.gql<ListResult>(LIST, vars, token)).deployments;
  const countDeployments = async (profileName: string) => (await listDeployments({ profileName })).totalCount;
  /** A profile with versions 1..n of `{ n: i }`. */
  const profileWithVersions = async (name: string, service: string, n: number, environment = Environment.STAGING) => {
    await createProfile(a, name, { service, environment });
    for (let i = 1; i <= n; i++) await publish(a, name, { n: i, name });
  };

  beforeAll(async () => {
    server = await startTestServer();
    a = api(server);
  });
  afterAll(async () => {
    await Promise.allSettled([...fleets.map((f) => f.stop()), ...sims.map((s) => s.close())]);
    await server?.stop();
  });

  describe('a DIRECT deployment that completes', () => {
    const profileName = 'direct-ok';
    const service = 'direct-ok-svc';
    let f: Fleet;
    let d1: DeploymentShape;
    let d2: DeploymentShape;
    let activeAfterFirst: number | null;
    let activeBefore: number | null;

    beforeAll(async () => {
      await profileWithVersions(profileName, service, 2);
      f = await fleet({ service, count: 3, behavior: (i) => ackOk(10 + i) });
      activeBefore = await activeVersion(profileName);
      d1 = await deployAndWait(a, profileName, 1);
      activeAfterFirst = await activeVersion(profileName);
      const operator = await server.token(Role.OPERATOR, { sub: 'op-olga' });
      const started = await startDeployment(a, { profileName, version: 2, strategy: 'DIRECT', ackTimeoutSeconds: 5 }, operator);
      expect(started).toMatchObject({ profileName, version: 2, strategy: 'DIRECT', startedBy: 'op-olga', previousVersion: 1, finishedAt: null });
      expect(['PENDING', 'IN_PROGRESS', 'COMPLETED']).toContain(started.status);
      expect(started.targets.map((t) => t.instanceId).sort()).toEqual([...f.ids].sort());
      d2 = await waitForDeployment(a, started.id);
    });

    it('completes the first deployment of a profile, with no previous version', () => {
      expect(d1).toMatchObject({ status: 'COMPLETED', version: 1, previousVersion: null, phase: 1, phaseCount: 1, progress: 1 });
      expect(activeBefore).toBeNull();
      expect(activeAfterFirst).toBe(1);
    });

    it('COMPLETES with every target APPLIED and its reload time', () => {
      expect(d2).toMatchObject({ status: 'COMPLETED', version: 2, previousVersion: 1, phase: 1, phaseCount: 1, progress: 1, failureReason: null });
      expect(d2.finishedAt).not.toBeNull();
      expect(new Date(d2.finishedAt!).getTime()).toBeGreaterThanOrEqual(new Date(d2.createdAt).getTime());
      const targets = [...d2.targets].sort((x, y) => x.instanceId.localeCompare(y.instanceId));
      const expected = f.instances
        .map((inst, i) => ({ instanceId: inst.id, phase: 1, state: 'APPLIED', reloadMs: 10 + i, error: null }))
        .sort((x, y) => x.instanceId.localeCompare(y.instanceId));
      expect(targets).toEqual(expected);
    });

    it('pushed the new version to every instance with deploymentId set', async () => {
      const v2 = (await readVersion(a, profileName, 2))!;
      for (const inst of f.instances) {
        const pushes = inst.received.filter((r) => r.update.version === 2).map((r) => r.update);
        expect(pushes).toEqual([{ profileName, version: 2, hash: v2.hash, data: { n: 2, name: profileName }, deploymentId: d2.id, traceparent: pushes[0]?.traceparent ?? null }]);
        // Each instance's ack was accepted.
        const acks = inst.acks.filter((x) => x.version === 2);
        expect(acks).toHaveLength(1);
        expect(acks[0]!.response.errors).toBeUndefined();
        expect(inst.subscriptionErrors).toEqual([]);
      }
    });

    it('moves profile.activeVersion to the deployed version', async () => {
      expect(await activeVersion(profileName)).toBe(2);
    });

    it('records STARTED → PHASE_STARTED → PHASE_COMPLETED → COMPLETED in deployment.events', () => {
      expect(d2.events.map((e) => e.type)).toEqual(['STARTED', 'PHASE_STARTED', 'PHASE_COMPLETED', 'COMPLETED']);
      expect(d2.events.map((e) => e.status)).toEqual(['PENDING', 'IN_PROGRESS', 'IN_PROGRESS', 'COMPLETED']);
      expect(d2.events.every((e) => e.deploymentId === d2.id)).toBe(true);
      expect(d2.events[0]!.progress).toBe(0);
      expect(d2.events.at(-1)!.progress).toBe(1);
      const times = d2.events.map((e) => new Date(e.at).getTime());
      expect([...times].sort((x, y) => x - y)).toEqual(times);
    });

    it("records the version in each instance's appliedVersions", async () => {
      for (const inst of f.instances) {
        const res = ok(await a.gql<{ instance: { appliedVersions: Array<{ profileName: string; version: number }> } }>(INSTANCE_APPLIED, { id: inst.id }));
        expect(res.instance.appliedVersions).toEqual([expect.objectContaining({ profileName, version: 2 })]);
      }
    });
  });

  describe('a DIRECT deployment an instance fails', () => {
    const profileName = 'direct-boom';
    const service = 'direct-boom-svc';
    let f: Fleet;
    let d: DeploymentShape;
    let failing: SimInstance;

    beforeAll(async () => {
      await profileWithVersions(profileName, service, 2);
      f = await fleet({ service, count: 3, behavior: () => ackOk(5) });
      failing = f.instances[1]!;
      expect((await deployAndWait(a, profileName, 1)).status).toBe('COMPLETED');
      failing.behavior = ackFail('boom');
      d = await deployAndWait(a, profileName, 2);
    });

    it('ends FAILED, with the failing target FAILED and its error', () => {
      expect(d.status).toBe('FAILED');
      expect(d.finishedAt).not.toBeNull();
      const byId = new Map(d.targets.map((t) => [t.instanceId, t]));
      expect(byId.get(failing.id)).toMatchObject({ state: 'FAILED', error: 'boom' });
      for (const inst of f.instances.filter((x) => x !== failing)) expect(byId.get(inst.id)).toMatchObject({ state: 'APPLIED', error: null });
      expect(d.progress).toBeCloseTo(2 / 3, 5);
      expect(d.events.at(-1)).toMatchObject({ type: 'FAILED', status: 'FAILED' });
      expect(d.events.map((e) => e.type)).not.toContain('COMPLETED');
    });

    it('names the failing instance in failureReason', () => {
      expect(d.failureReason).toContain(failing.id);
      expect(d.failureReason).toContain('boom');
      for (const inst of f.instances.filter((x) => x !== failing)) expect(d.failureReason).not.toContain(inst.id);
    });

    it('does not move activeVersion', async () => {
      expect(await activeVersion(profileName)).toBe(1);
    });
  });

  describe('a DIRECT deployment an instance never acks', () => {
    const profileName = 'direct-silent';
    const service = 'direct-silent-svc';
    let f: Fleet;
    let d: DeploymentShape;

    beforeAll(async () => {
      await profileWithVersions(profileName, service, 1);
      f = await fleet({ service, count: 2, behavior: (i) => (i === 0 ? noAck : ackOk(4)) });
      const started = await startDeployment(a, { profileName, version: 1, strategy: 'DIRECT', ackTimeoutSeconds: 1 });
      d = await waitForDeployment(a, started.id, 6000);
    });

    it('times the silent instance out and FAILS', () => {
      const silent = f.instances[0]!;
      expect(d.status).toBe('FAILED');
      const byId = new Map(d.targets.map((t) => [t.instanceId, t]));
      expect(byId.get(silent.id)).toMatchObject({ state: 'TIMED_OUT', reloadMs: null });
      expect(byId.get(silent.id)!.error).toMatch(/no ack/);
      expect(byId.get(f.instances[1]!.id)).toMatchObject({ state: 'APPLIED', reloadMs: 4 });
      expect(d.failureReason).toContain(silent.id);
      expect(d.failureReason).toContain('TIMED_OUT');
      // The silent instance did get the push: it just never answered.
      expect(silent.received.some((r) => r.update.version === 1)).toBe(true);
      expect(silent.acks).toEqual([]);
    });

    it('leaves the profile without an active version', async () => {
      expect(await activeVersion(profileName)).toBeNull();
    });
  });

  describe('DIRECT maxConcurrency', () => {
    it('with maxConcurrency 1, never has more than one push awaiting an ack', async () => {
      const profileName = 'direct-serial';
      const service = 'direct-serial-svc';
      await profileWithVersions(profileName, service, 2);
      const f = await fleet({ service, count: 3, delayMs: 150 });
      // Bootstrap: proves every subscription is live, so the next pushes go out live.
      expect((await deployAndWait(a, profileName, 1)).status).toBe('COMPLETED');

      const started = await startDeployment(a, { profileName, version: 2, strategy: 'DIRECT', ackTimeoutSeconds: 5, direct: { maxConcurrency: 1 } });
      const pushedCounts: number[] = [];
      const final = await pollUntil(
        () => readDeployment(a, started.id),
        (d) => {
          pushedCounts.push(d!.targets.filter((t) => t.state === 'PUSHED').length);
          return d!.status !== 'PENDING' && d!.status !== 'IN_PROGRESS';
        },
        { intervalMs: 10, timeoutMs: 8000, what: 'the serial deployment to end' },
      );
      expect(final!.status).toBe('COMPLETED');
      expect(Math.max(...pushedCounts)).toBe(1);

      // Seen from the instances: each push arrives only after the previous one was acked.
      const pushes = f.instances
        .map((inst) => {
          const got = inst.received.find((r) => r.update.deploymentId === started.id);
          const acked = inst.acks.find((x) => x.version === 2);
          expect(got, `instance ${inst.id} got no push`).toBeDefined();
          expect(acked, `instance ${inst.id} sent no ack`).toBeDefined();
          return { at: got!.at, ackSentAt: acked!.sentAt };
        })
        .sort((x, y) => x.at - y.at);
      for (let i = 1; i < pushes.length; i++) {
        expect(pushes[i]!.at).toBeGreaterThanOrEqual(pushes[i - 1]!.ackSentAt);
      }
    });

    it('with the default concurrency, pushes to every instance before any ack', async () => {
      const profileName = 'direct-parallel';
      const service = 'direct-parallel-svc';
      await profileWithVersions(profileName, service, 2);
      const f = await fleet({ service, count: 3, delayMs: 300 });
      expect((await deployAndWait(a, profileName, 1)).status).toBe('COMPLETED');
      const d = await deployAndWait(a, profileName, 2);
      expect(d.status).toBe('COMPLETED');
      const arrivals = f.instances.map((inst) => inst.received.find((r) => r.update.deploymentId === d.id)!.at);
      const firstAck = Math.min(...f.instances.map((inst) => inst.acks.find((x) => x.version === 2)!.sentAt));
      expect(Math.max(...arrivals)).toBeLessThanOrEqual(firstAck);
    });
  });

  describe('who may deploy', () => {
    it('lets DEVELOPER deploy to STAGING', async () => {
      const profileName = 'dev-staging';
      await profileWithVersions(profileName, 'dev-staging-svc', 1);
      await fleet({ service: 'dev-staging-svc', count: 1 });
      const dev = await server.token(Role.DEVELOPER, { sub: 'dev-dora' });
      const started = await startDeployment(a, { profileName, version: 1, strategy: 'DIRECT', ackTimeoutSeconds: 5 }, dev);
      expect(started.startedBy).toBe('dev-dora');
      expect((await waitForDeployment(a, started.id)).status).toBe('COMPLETED');
      expect(await activeVersion(profileName)).toBe(1);
    });

    it('refuses DEVELOPER a PRODUCTION deployment (FORBIDDEN) and inserts nothing', async () => {
      const profileName = 'dev-prod';
      await profileWithVersions(profileName, 'dev-prod-svc', 1, Environment.PRODUCTION);
      await startInstance(a, { service: 'dev-prod-svc', environment: Environment.PRODUCTION });
      const dev = await a.token(Role.DEVELOPER);
      const res = await a.gql(START_DEPLOYMENT, { input: { profileName, version: 1, strategy: 'DIRECT' } }, dev);
      expectRefused(res, 'FORBIDDEN');
      expect(res.errors?.[0]?.message).toContain('PRODUCTION');
      expect(await countDeployments(profileName)).toBe(0);
      expect(await activeVersion(profileName)).toBeNull();
    });

    it('lets OPERATOR deploy to PRODUCTION', async () => {
      const profileName = 'op-prod';
      await profileWithVersions(profileName, 'op-prod-svc', 1, Environment.PRODUCTION);
      const f = await fleet({ service: 'op-prod-svc', environment: Environment.PRODUCTION, count: 2 });
      const op = await a.token(Role.OPERATOR);
      const started = await startDeployment(a, { profileName, version: 1, strategy: 'DIRECT', ackTimeoutSeconds: 5 }, op);
      const done = await waitForDeployment(a, started.id);
      expect(done.status).toBe('COMPLETED');
      expect(done.targets.map((t) => t.instanceId).sort()).toEqual([...f.ids].sort());
      expect(await activeVersion(profileName)).toBe(1);
    });

    it('refuses an INSTANCE token (FORBIDDEN) and inserts nothing', async () => {
      const profileName = 'inst-deploys';
      await profileWithVersions(profileName, 'inst-deploys-svc', 1);
      const inst = await registerInstance(a, 'inst-deploys-svc');
      const res = await a.gql(START_DEPLOYMENT, { input: { profileName, version: 1, strategy: 'DIRECT' } }, inst.token);
      expectRefused(res, 'FORBIDDEN');
      expect(await countDeployments(profileName)).toBe(0);
    });

    it('refuses a caller without a token (UNAUTHENTICATED) and inserts nothing', async () => {
      const profileName = 'anon-deploys';
      await profileWithVersions(profileName, 'anon-deploys-svc', 1);
      await startInstance(a, { service: 'anon-deploys-svc' });
      const res = await a.gql(START_DEPLOYMENT, { input: { profileName, version: 1, strategy: 'DIRECT' } }, null);
      expectRefused(res, 'UNAUTHENTICATED');
      expect(await countDeployments(profileName)).toBe(0);
    });
  });

  describe('refused inputs', () => {
    const profileName = 'bad-input';
    const service = 'bad-input-svc';
    const start = (input: Record<string, unknown>) =>
      a.gql(START_DEPLOYMENT, { input: { profileName, version: 1, strategy: 'DIRECT', ...input } });

    beforeAll(async () => {
      await profileWithVersions(profileName, service, 1);
      // Connected, so that "nothing to deploy to" is never why these are refused.
      await startInstance(a, { service });
    });

    it('refuses a profile with no registered instances (BAD_USER_INPUT: nothing to deploy to)', async () => {
      const empty = 'no-instances';
      await profileWithVersions(empty, 'no-instances-svc', 1);
      const res = await a.gql(START_DEPLOYMENT, { input: { profileName: empty, version: 1, strategy: 'DIRECT' } });
      expectRefused(res, 'BAD_USER_INPUT');
      expect(res.errors?.[0]?.message).toMatch(/nothing to deploy to/);
      expect(await countDeployments(empty)).toBe(0);
    });

    it('refuses an unknown profile (NOT_FOUND)', async () => {
      const before = (await listDeployments({})).totalCount;
      const res = await a.gql(START_DEPLOYMENT, { input: { profileName: 'no-such-profile', version: 1, strategy: 'DIRECT' } });
      expectRefused(res, 'NOT_FOUND');
      expect((await listDeployments({})).totalCount).toBe(before);
    });

    it('refuses an unknown version (NOT_FOUND) and inserts nothing', async () => {
      const res = await start({ version: 9 });
      expectRefused(res, 'NOT_FOUND');
      expect(res.errors?.[0]?.message).toContain('9');
      expect(await countDeployments(profileName)).toBe(0);
    });

    it('refuses BLUE_GREEN when no instance has a color (BAD_USER_INPUT) and inserts nothing', async () => {
      const res = await start({ strategy: 'BLUE_GREEN' });
      expectRefused(res, 'BAD_USER_INPUT');
      expect(res.errors?.[0]?.message).toMatch(/color BLUE or GREEN/);
      expect(await countDeployments(profileName)).toBe(0);
    });

    it.each([
      ['canary options', { canary: { bakeSeconds: 5 } }, 'canary'],
      ['rolling options', { rolling: { batchSize: 1 } }, 'rolling'],
      ['blueGreen options', { blueGreen: { verifySeconds: 5 } }, 'blueGreen'],
    ])('refuses %s on a DIRECT deployment (BAD_USER_INPUT)', async (_label, options, field) => {
      const res = await start(options);
      expectRefused(res, 'BAD_USER_INPUT');
      expect(res.errors?.[0]?.extensions?.field).toBe(field);
      expect(await countDeployments(profileName)).toBe(0);
    });

    it.each([
      ['ackTimeoutSeconds 0', { ackTimeoutSeconds: 0 }, 'ackTimeoutSeconds'],
      ['ackTimeoutSeconds -5', { ackTimeoutSeconds: -5 }, 'ackTimeoutSeconds'],
      ['direct.maxConcurrency 0', { direct: { maxConcurrency: 0 } }, 'direct.maxConcurrency'],
      ['health.maxErrorRateIncrease 2', { health: { maxErrorRateIncrease: 2 } }, 'health.maxErrorRateIncrease'],
    ])('refuses %s (BAD_USER_INPUT)', async (_label, options, field) => {
      const res = await start(options);
      expectRefused(res, 'BAD_USER_INPUT');
      expect(res.errors?.[0]?.extensions?.field).toBe(field);
      expect(await countDeployments(profileName)).toBe(0);
    });

    it('refuses an unknown strategy (BAD_USER_INPUT)', async () => {
      expectRefused(await start({ strategy: 'YOLO' }), 'BAD_USER_INPUT');
      expect(await countDeployments(profileName)).toBe(0);
    });
  });

  describe('the first step runs in the mutation that creates the deployment', () => {
    it('startDeployment answers IN_PROGRESS with its first pushes committed, and the instances already have them', async () => {
      const profileName = 'first-step';
      const service = 'first-step-svc';
      await profileWithVersions(profileName, service, 1);
      const f = await fleet({ service, count: 3, behavior: () => noAck });
      const started = await startDeployment(a, { profileName, version: 1, strategy: 'DIRECT', ackTimeoutSeconds: 30 });
      // No runner had to claim it: the answer is the state after the first step, not PENDING.
      expect(started).toMatchObject({ status: 'IN_PROGRESS', phase: 1 });
      expect(started.targets.map((t) => t.state)).toEqual(['PUSHED', 'PUSHED', 'PUSHED']);
      expect(started.events.map((e) => e.type)).toEqual(['STARTED', 'PHASE_STARTED']);
      const pushes = await Promise.all(f.instances.map((i) => i.waitForUpdate((u) => u.version === 1)));
      expect(pushes.map((p) => p.deploymentId)).toEqual([started.id, started.id, started.id]);
      // The replica that took the mutation runs the rest: the acks complete it.
      for (const [i, inst] of f.instances.entries()) expect(ok(await inst.ack(pushes[i]!, { success: true, reloadMs: 1 })).reportConfigApplied).toBe(true);
      expect((await waitForDeployment(a, started.id)).status).toBe('COMPLETED');
    });
  });

  describe('one deployment at a time', () => {
    it('refuses a second deployment while one is active (CONFLICT naming it) and inserts nothing', async () => {
      const profileName = 'one-at-a-time';
      const service = 'one-at-a-time-svc';
      await profileWithVersions(profileName, service, 2);
      const f = await fleet({ service, count: 1, behavior: () => noAck });
      const inst = f.instances[0]!;
      const running = await startDeployment(a, { profileName, version: 1, strategy: 'DIRECT', ackTimeoutSeconds: 30 });
      const push = await inst.waitForUpdate((u) => u.version === 1);

      const res = await a.gql<{ startDeployment: unknown }>(START_DEPLOYMENT, { input: { profileName, version: 2, strategy: 'DIRECT' } });
      // Soft, so that the rest (nothing inserted, the running one unharmed) is checked even when the code is wrong.
      expect(res.errors, JSON.stringify(res)).toHaveLength(1);
      expect(res.data?.startDeployment ?? null).toBeNull();
      expect.soft(res.errors?.[0]?.extensions?.code, JSON.stringify(res.errors)).toBe('CONFLICT');
      expect.soft(res.errors?.[0]?.message).toContain(running.id);
      expect(await countDeployments(profileName)).toBe(1);
      expect((await readDeployment(a, running.id))!.status).toBe('IN_PROGRESS');

      // Once it ends, the next one may start.
      expect(ok(await inst.ack(push, { success: true, reloadMs: 1 })).reportConfigApplied).toBe(true);
      expect((await waitForDeployment(a, running.id)).status).toBe('COMPLETED');
      inst.behavior = ackOk();
      const next = await deployAndWait(a, profileName, 2);
      expect(next).toMatchObject({ status: 'COMPLETED', previousVersion: 1 });
      expect(await countDeployments(profileName)).toBe(2);
    });

    it('lets another profile deploy while one profile has an active deployment', async () => {
      const service = 'two-profiles-svc';
      await profileWithVersions('two-profiles-a', service, 1);
      await profileWithVersions('two-profiles-b', service, 1);
      const f = await fleet({ service, count: 1, behavior: () => noAck });
      const inst = f.instances[0]!;
      const first = await startDeployment(a, { profileName: 'two-profiles-a', version: 1, strategy: 'DIRECT', ackTimeoutSeconds: 30 });
      const second = await startDeployment(a, { profileName: 'two-profiles-b', version: 1, strategy: 'DIRECT', ackTimeoutSeconds: 30 });
      for (const p of ['two-profiles-a', 'two-profiles-b']) {
        const u = await inst.waitForUpdate((x) => x.profileName === p);
        ok(await inst.ack(u, { success: true }));
      }
      expect((await waitForDeployment(a, first.id)).status).toBe('COMPLETED');
      expect((await waitForDeployment(a, second.id)).status).toBe('COMPLETED');
    });
  });

  describe('deployments and deployment', () => {
    const profileName = 'listed';
    const service = 'listed-svc';
    const ids: string[] = [];

    beforeAll(async () => {
      await profileWithVersions(profileName, service, 3);
      await fleet({ service, count: 1, behavior: () => failOn(2, 'nope', 3) });
      for (const v of [1, 2, 3]) ids.push((await deployAndWait(a, profileName, v)).id);
      // Another profile's deployment, which the profile filter must leave out.
      await profileWithVersions('listed-other', service, 1);
      ids.push((await deployAndWait(a, 'listed-other', 1)).id);
    });

    it('lists a profile’s deployments newest first with totalCount', async () => {
      const list = await listDeployments({ profileName });
      expect(list.totalCount).toBe(3);
      expect(list.edges.map((e) => e.node.version)).toEqual([3, 2, 1]);
      expect(list.edges.map((e) => e.node.id)).toEqual([ids[2], ids[1], ids[0]]);
      expect(list.edges.map((e) => e.node.status)).toEqual(['COMPLETED', 'FAILED', 'COMPLETED']);
      expect(list.edges.every((e) => e.node.profileName === profileName)).toBe(true);
      expect(list.pageInfo.hasNextPage).toBe(false);
    });

    it('filters by status', async () => {
      const failed = await listDeployments({ profileName, status: 'FAILED' });
      expect(failed.totalCount).toBe(1);
      expect(failed.edges.map((e) => e.node.id)).toEqual([ids[1]]);
      const completed = await listDeployments({ profileName, status: 'COMPLETED' });
      expect(completed.totalCount).toBe(2);
      expect(completed.edges.map((e) => e.node.id)).toEqual([ids[2], ids[0]]);
      expect((await listDeployments({ profileName, status: 'ROLLED_BACK' })).totalCount).toBe(0);
    });

    it('pages with cursors', async () => {
      const page1 = await listDeployments({ profileName, first: 2 });
      expect(page1.totalCount).toBe(3);
      expect(page1.edges.map((e) => e.node.id)).toEqual([ids[2], ids[1]]);
      expect(page1.pageInfo.hasNextPage).toBe(true);
      expect(page1.pageInfo.endCursor).toBe(page1.edges[1]!.cursor);
      const page2 = await listDeployments({ profileName, first: 2, after: page1.pageInfo.endCursor });
      expect(page2.totalCount).toBe(3);
      expect(page2.edges.map((e) => e.node.id)).toEqual([ids[0]]);
      expect(page2.pageInfo.hasNextPage).toBe(false);
      // A cursor from the middle continues after that edge.
      const fromFirst = await listDeployments({ profileName, after: page1.edges[0]!.cursor });
      expect(fromFirst.edges.map((e) => e.node.id)).toEqual([ids[1], ids[0]]);
    });

    it('lists every profile newest first without a filter', async () => {
      const all = await listDeployments({ first: 100 });
      const seen = all.edges.map((e) => e.node.id);
      expect(seen).toEqual(expect.arrayContaining(ids));
      expect(all.totalCount).toBeGreaterThanOrEqual(4);
      const times = all.edges.map((e) => new Date(e.node.createdAt).getTime());
      expect(times).toEqual([...times].sort((x, y) => y - x));
      expect(seen.indexOf(ids[3]!)).toBeLessThan(seen.indexOf(ids[2]!));
    });

    it('answers an empty list for an unknown profile', async () => {
      const list = await listDeployments({ profileName: 'never-existed' });
      expect(list).toEqual({ totalCount: 0, pageInfo: { hasNextPage: false, endCursor: null }, edges: [] });
    });

    it('refuses a cursor that does not come from the list (BAD_USER_INPUT)', async () => {
      expectRefused(await a.gql(LIST, { profileName, after: 'not-a-cursor' }), 'BAD_USER_INPUT');
    });

    it.each([0, -1, 1000])('refuses first: %i (BAD_USER_INPUT)', async (first) => {
      expectRefused(await a.gql(LIST, { profileName, first }), 'BAD_USER_INPUT');
    });

    it('returns the last events only, and refuses events(last: 0) (BAD_USER_INPUT)', async () => {
      const q = `query($id: ID!, $last: Int) { deployment(id: $id) { events(last: $last) { type } } }`;
      const two = ok(await a.gql<{ deployment: { events: Array<{ type: string }> } }>(q, { id: ids[0], last: 2 })).deployment.events;
      expect(two.map((e) => e.type)).toEqual(['PHASE_COMPLETED', 'COMPLETED']);
      expectRefused(await a.gql(q, { id: ids[0], last: 0 }), 'BAD_USER_INPUT');
    });

    it('reads a deployment by id, and null for an unknown uuid', async () => {
      const d = await readDeployment(a, ids[1]!);
      expect(d).toMatchObject({ id: ids[1], profileName, version: 2, status: 'FAILED', previousVersion: 1 });
      expect(await readDeployment(a, '00000000-0000-4000-8000-000000000123')).toBeNull();
    });

    it('answers an id that is not a uuid with null or BAD_USER_INPUT, not an internal error', async () => {
      const res = await a.gql<{ deployment: unknown }>(`query($id: ID!) { deployment(id: $id) { id } }`, { id: 'not-a-uuid' });
      if (res.errors) expectRefused(res, 'BAD_USER_INPUT');
      else expect(res.data?.deployment).toBeNull();
    });

    it('may be read by DEVELOPER', async () => {
      const list = await listDeployments({ profileName }, await a.token(Role.DEVELOPER));
      expect(list.totalCount).toBe(3);
    });

    it('refuses a caller without a token (UNAUTHENTICATED)', async () => {
      expectRefused(await a.gql(LIST, { profileName }, null), 'UNAUTHENTICATED');
      expectRefused(await a.gql(`query($id: ID!) { deployment(id: $id) { id } }`, { id: ids[0] }, null), 'UNAUTHENTICATED');
    });

    it('refuses an INSTANCE token (FORBIDDEN)', async () => {
      const inst = await registerInstance(a, service);
      expectRefused(await a.gql(LIST, { profileName }, inst.token), 'FORBIDDEN');
    });
  });

  describe('instances that join during a deployment', () => {
    it('are not targets, get the active (old) version on subscribe, and the new one when the deployment completes', async () => {
      const profileName = 'mid-join';
      const service = 'mid-join-svc';
      await profileWithVersions(profileName, service, 2);
      const f = await fleet({ service, count: 1 });
      const old = f.instances[0]!;
      expect((await deployAndWait(a, profileName, 1)).status).toBe('COMPLETED');

      old.behavior = noAck;
      const running = await startDeployment(a, { profileName, version: 2, strategy: 'DIRECT', ackTimeoutSeconds: 30 });
      const push = await old.waitForUpdate((u) => u.version === 2);
      expect(push.deploymentId).toBe(running.id);

      const late = await startInstance(a, { service, behavior: noAck, waitForInitial: true });
      sims.push(late);
      expect(late.received.map((r) => r.update)).toEqual([
        expect.objectContaining({ profileName, version: 1, deploymentId: null, data: { n: 1, name: profileName } }),
      ]);
      expect((await readDeployment(a, running.id))!.targets.map((t) => t.instanceId)).toEqual([old.id]);

      ok(await old.ack(push, { success: true, reloadMs: 2 }));
      const done = await waitForDeployment(a, running.id);
      expect(done.status).toBe('COMPLETED');
      expect(done.targets.map((t) => t.instanceId)).toEqual([old.id]);
      expect(await activeVersion(profileName)).toBe(2);
      const caughtUp = await late.waitForUpdate((u) => u.version === 2);
      expect(caughtUp).toMatchObject({ profileName, version: 2, deploymentId: running.id });
    });
  });
});

describe('deployments API: STALE instances', () => {
  let server: TestServer;
  let a: Api;
  let f: Fleet | undefined;

  beforeAll(async () => {
    server = await startTestServer({ HOTSWAP_HEARTBEAT_INTERVAL_MS: '200' });
    a = api(server);
  });
  afterAll(async () => {
    await f?.stop();
    await server?.stop();
  });

  it('are not targets of a new deployment', async () => {
    const profileName = 'stale-cfg';
    const service = 'stale-svc';
    await createProfile(a, profileName, { service, environment: Environment.STAGING });
    await publish(a, profileName, { ok: true });
    f = await startFleet(a, { service, count: 2 });
    const [live, silent] = f.instances as [SimInstance, SimInstance];
    f.keepAlive(100, (i) => i === silent);

    const stale = await pollUntil(
      async () => ok(await a.gql<{ instances: Array<{ id: string }> }>(STALE_LIST, { service })).instances.map((i) => i.id),
      (got) => got.length > 0,
      { timeoutMs: 5000, what: 'the silent instance to go STALE' },
    );
    expect(stale).toEqual([silent.id]);

    const started = await startDeployment(a, { profileName, version: 1, strategy: 'DIRECT', ackTimeoutSeconds: 5 });
    expect(started.targets.map((t) => t.instanceId)).toEqual([live.id]);
    const done = await waitForDeployment(a, started.id);
    expect(done.status).toBe('COMPLETED');
    expect(done.targets).toEqual([expect.objectContaining({ instanceId: live.id, state: 'APPLIED' })]);
    expect(silent.received.filter((r) => r.update.deploymentId === started.id)).toEqual([]);
  });

  it('leave nothing to deploy to when every instance is STALE (BAD_USER_INPUT)', async () => {
    const profileName = 'all-stale';
    const service = 'all-stale-svc';
    await createProfile(a, profileName, { service, environment: Environment.STAGING });
    await publish(a, profileName, { ok: true });
    // Connected, but silent: STALE instances are no targets even while their socket is open.
    const inst = await startInstance(a, { service });
    await pollUntil(
      async () => ok(await a.gql<{ instances: Array<{ id: string }> }>(STALE_LIST, { service })).instances.map((i) => i.id),
      (got) => got.includes(inst.id),
      { timeoutMs: 5000, what: 'the instance to go STALE' },
    );
    const res = await a.gql(START_DEPLOYMENT, { input: { profileName, version: 1, strategy: 'DIRECT' } });
    await inst.close();
    expectRefused(res, 'BAD_USER_INPUT');
    expect(res.errors?.[0]?.message).toMatch(/nothing to deploy to/);
    expect(ok(await a.gql<ListResult>(LIST, { profileName })).deployments.totalCount).toBe(0);
  });
});
