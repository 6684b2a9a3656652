import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Environment, Role } from '../../src/domain/enums.js';
import { api, type Api, ok, readVersion } from '../support/api.js';
import {
  ackFail,
  ackOk,
  deployAndWait,
  type DeploymentShape,
  type Fleet,
  noAck,
  readDeployment,
  type SimInstance,
  startDeployment,
  startFleet,
  waitForDeployment,
} from '../support/fleet.js';
import { activeVersion, profileWithVersions } from '../support/progressive.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { pollUntil } from '../support/wait.js';

const INSTANCE_APPLIED = `query($id: ID!) { instance(id: $id) { appliedVersions { profileName version reloadMs } } }`;

describe('deployments API', () => {
  let server: TestServer;
  let a: Api;
  const fleets: Fleet[] = [];

  const fleet = async (o: Parameters<typeof startFleet>[1]) => {
    const f = await startFleet(a, o);
    fleets.push(f);
    return f;
  };
  /** A profile with versions 1..n of `{ n: i, name }`. */
  const withVersions = (name: string, service: string, n: number, environment = Environment.STAGING) =>
    profileWithVersions(a, name, n, { service, environment, data: (i) => ({ n: i, name }) });

  beforeAll(async () => {
    server = await startTestServer();
    a = api(server);
  });
  afterAll(async () => {
    await Promise.allSettled([...fleets.map((f) => f.stop())]);
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
      await withVersions(profileName, service, 2);
      f = await fleet({ service, count: 3, behavior: (i) => ackOk(10 + i) });
      activeBefore = await activeVersion(a, profileName);
      d1 = await deployAndWait(a, profileName, 1);
      activeAfterFirst = await activeVersion(a, profileName);
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
      expect(await activeVersion(a, profileName)).toBe(2);
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
      await withVersions(profileName, service, 2);
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
      expect(await activeVersion(a, profileName)).toBe(1);
    });
  });

  describe('a DIRECT deployment an instance never acks', () => {
    const profileName = 'direct-silent';
    const service = 'direct-silent-svc';
    let f: Fleet;
    let d: DeploymentShape;

    beforeAll(async () => {
      await withVersions(profileName, service, 1);
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
      expect(await activeVersion(a, profileName)).toBeNull();
    });
  });

  describe('DIRECT maxConcurrency', () => {
    it('with maxConcurrency 1, never has more than one push awaiting an ack', async () => {
      const profileName = 'direct-serial';
      const service = 'direct-serial-svc';
      await withVersions(profileName, service, 2);
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
      await withVersions(profileName, service, 2);
      const f = await fleet({ service, count: 3, delayMs: 300 });
      expect((await deployAndWait(a, profileName, 1)).status).toBe('COMPLETED');
      const d = await deployAndWait(a, profileName, 2);
      expect(d.status).toBe('COMPLETED');
      const arrivals = f.instances.map((inst) => inst.received.find((r) => r.update.deploymentId === d.id)!.at);
      const firstAck = Math.min(...f.instances.map((inst) => inst.acks.find((x) => x.version === 2)!.sentAt));
      expect(Math.max(...arrivals)).toBeLessThanOrEqual(firstAck);
    });
  });

  describe('the first step runs in the mutation that creates the deployment', () => {
    it('startDeployment answers IN_PROGRESS with its first pushes committed, and the instances already have them', async () => {
      const profileName = 'first-step';
      const service = 'first-step-svc';
      await withVersions(profileName, service, 1);
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
});
