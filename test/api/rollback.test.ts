import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Environment, Role } from '../../src/domain/enums.js';
import { api, type Api, createProfile, expectRefused, ok, publish } from '../support/api.js';
import {
  type Behavior,
  type DeploymentShape,
  type Fleet,
  readDeployment,
  type SimInstance,
  startDeployment,
  startFleet,
  waitForDeployment,
  HEALTHY,
  versionsOf,
  failOn,
} from '../support/fleet.js';
import type { GqlResponse } from '../support/server.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { pollUntil } from '../support/wait.js';

const ROLLBACK = 'mutation($id: ID!, $r: String!) { rollbackDeployment(id: $id, reason: $r) { id status rollbackReason previousVersion } }';
const PAUSE = 'mutation($id: ID!) { pauseDeployment(id: $id) { id status } }';
const ACTIVE_VERSION = 'query($n: String!) { profile(name: $n) { activeVersion { version } } }';

interface RollbackResult {
  rollbackDeployment: { id: string; status: string; rollbackReason: string | null; previousVersion: number | null };
}



describe('rollbackDeployment', () => {
  let server: TestServer;
  let a: Api;
  const fleets: Fleet[] = [];

  beforeAll(async () => {
    // No periodic health checks: a deployment left in its bake must not change by itself.
    server = await startTestServer({ HOTSWAP_HEALTH_CHECK_INTERVAL_MS: '3600000' });
    a = api(server);
  }, 30_000);
  afterAll(async () => {
    await Promise.allSettled(fleets.map((f) => f.stop()));
    await server?.stop();
  });

  const rollback = (id: string, reason: string, token?: string | null): Promise<GqlResponse<RollbackResult>> =>
    a.gql<RollbackResult>(ROLLBACK, { id, r: reason }, token);
  const activeVersion = async (name: string) =>
    ok(await a.gql<{ profile: { activeVersion: { version: number } | null } }>(ACTIVE_VERSION, { n: name })).profile.activeVersion?.version ?? null;
  const read = async (id: string) => (await readDeployment(a, id))!;

  /** The deployment still has the status and the events it had in `before`. */
  async function expectUnchanged(before: DeploymentShape): Promise<void> {
    const now = await read(before.id);
    expect(now.status).toBe(before.status);
    expect(now.events.map((e) => e.type)).toEqual(before.events.map((e) => e.type));
    expect(now.rollbackReason).toBe(before.rollbackReason);
  }

  /**
   * A profile `name` (service `${name}-svc`) with versions 1, 2 and 3, and a
   * fleet of `count` on version 1 (DIRECT) reporting healthy metrics; returns
   * the fleet and that first deployment.
   */
  async function setUp(name: string, count: number, behavior?: (i: number) => Behavior): Promise<{ f: Fleet; first: DeploymentShape }> {
    await createProfile(a, name, { service: `${name}-svc`, environment: Environment.STAGING });
    for (const v of [1, 2, 3]) await publish(a, name, { v, name });
    const f = await startFleet(a, { service: `${name}-svc`, count, behavior });
    fleets.push(f);
    await new Promise((r) => setTimeout(r, 200));
    const started = await startDeployment(a, { profileName: name, version: 1, strategy: 'DIRECT', ackTimeoutSeconds: 10 });
    const first = await waitForDeployment(a, started.id, 20_000);
    expect(first.status).toBe('COMPLETED');
    f.reportMetrics(100, () => HEALTHY);
    await new Promise((r) => setTimeout(r, 400));
    return { f, first };
  }

  async function deploy(name: string, version: number, extra: Record<string, unknown> = {}): Promise<DeploymentShape> {
    const started = await startDeployment(a, { profileName: name, version, strategy: 'DIRECT', ackTimeoutSeconds: 5, ...extra });
    return waitForDeployment(a, started.id, 20_000);
  }

  /** Starts a canary of `version` with a long bake and waits until it sits in the bake of phase 1. */
  async function canaryInBake(name: string, version: number): Promise<DeploymentShape> {
    const started = await startDeployment(a, {
      profileName: name,
      version,
      strategy: 'CANARY',
      canary: { phases: [0.5, 1.0], bakeSeconds: 30 },
      ackTimeoutSeconds: 5,
    });
    return pollUntil(
      () => read(started.id),
      (d) => d.events.some((e) => e.type === 'PHASE_COMPLETED' && e.phase === 1),
      { timeoutMs: 15_000, what: 'phase 1 to be acked' },
    );
  }

  describe('while IN_PROGRESS (in the bake of a canary)', () => {
    const name = 'rb-live';
    let f: Fleet;
    let d: DeploymentShape;
    let phase1: string[];

    beforeAll(async () => {
      ({ f } = await setUp(name, 4));
      d = await canaryInBake(name, 2);
      expect(d.status).toBe('IN_PROGRESS');
      phase1 = d.targets.filter((t) => t.phase === 1).map((t) => t.instanceId);
      expect(phase1).toHaveLength(2);
    }, 60_000);

    it('is refused without a token (UNAUTHENTICATED)', async () => {
      expectRefused(await rollback(d.id, 'no token', null), 'UNAUTHENTICATED');
      await expectUnchanged(d);
    });

    it('is refused to a DEVELOPER (FORBIDDEN)', async () => {
      const res = await rollback(d.id, 'developer tries', await a.token(Role.DEVELOPER));
      expectRefused(res, 'FORBIDDEN');
      expect(res.errors![0]!.message).toMatch(/DEVELOPER/);
      await expectUnchanged(d);
    });

    it('is refused to an INSTANCE token (FORBIDDEN)', async () => {
      expectRefused(await rollback(d.id, 'instance tries', await a.instanceToken()), 'FORBIDDEN');
      await expectUnchanged(d);
    });

    it('needs a reason: empty or blank is BAD_USER_INPUT', async () => {
      for (const reason of ['', '   ', ' \n\t ']) {
        const res = await rollback(d.id, reason);
        expectRefused(res, 'BAD_USER_INPUT');
        expect(res.errors![0]!.message).toMatch(/reason/);
      }
      await expectUnchanged(d);
    });

    it('refuses a reason over 1000 characters (BAD_USER_INPUT)', async () => {
      const res = await rollback(d.id, 'x'.repeat(1001));
      expectRefused(res, 'BAD_USER_INPUT');
      expect(res.errors![0]!.message).toMatch(/1000/);
      await expectUnchanged(d);
    });

    it('rolls back for an OPERATOR: the reason and the caller recorded, phase 1 back on version 1, the rest never pushed', async () => {
      const res = ok(await rollback(d.id, '  error budget burning  ', await a.token(Role.OPERATOR, 'olga')));
      expect(res.rollbackDeployment.status).toBe('ROLLING_BACK');
      expect(res.rollbackDeployment.rollbackReason).toBe('error budget burning');
      const done = await waitForDeployment(a, d.id, 15_000);
      expect(done.status).toBe('ROLLED_BACK');
      expect(done.rollbackReason).toBe('error budget burning');
      const started = done.events.find((e) => e.type === 'ROLLBACK_STARTED');
      expect(started?.message).toContain('olga');
      expect(started?.message).toContain('error budget burning');
      expect(done.events.at(-1)?.type).toBe('ROLLED_BACK');
      expect(done.events.map((e) => e.type)).not.toContain('COMPLETED');
      expect(done.events.filter((e) => e.type === 'PHASE_STARTED').map((e) => e.phase)).toEqual([1]);
      for (const t of done.targets) expect(t.state).toBe(t.phase === 1 ? 'ROLLED_BACK' : 'PENDING');
      await pollUntil(async () => f.instances.map((i) => i.appliedVersion()), (v) => v.every((x) => x === 1), { what: 'every instance on version 1' });
      for (const i of f.instances) {
        if (phase1.includes(i.id)) {
          expect(versionsOf(i).slice(-2)).toEqual([2, 1]);
          expect(i.received.at(-1)!.update.deploymentId).toBe(d.id);
        } else {
          expect(versionsOf(i)).not.toContain(2);
        }
      }
      expect(await activeVersion(name)).toBe(1);
      d = done;
    }, 30_000);

    it('is a CONFLICT once ROLLED_BACK, and changes nothing', async () => {
      expect(d.status).toBe('ROLLED_BACK');
      const res = await rollback(d.id, 'again');
      expectRefused(res, 'CONFLICT');
      expect(res.errors![0]!.message).toMatch(/ROLLED_BACK/);
      await expectUnchanged(d);
    });
  });

  describe('while PAUSED', () => {
    const name = 'rb-paused';
    let f: Fleet;
    let d: DeploymentShape;

    beforeAll(async () => {
      ({ f } = await setUp(name, 3));
      d = await canaryInBake(name, 2);
      expect(ok(await a.gql<{ pauseDeployment: { status: string } }>(PAUSE, { id: d.id })).pauseDeployment.status).toBe('PAUSED');
    }, 60_000);

    it('rolls back for an ADMIN, with a reason of exactly 1000 characters', async () => {
      const reason = `${'r'.repeat(999)}!`;
      const res = ok(await rollback(d.id, reason, await a.token(Role.ADMIN, 'ada')));
      expect(res.rollbackDeployment.status).toBe('ROLLING_BACK');
      const done = await waitForDeployment(a, d.id, 15_000);
      expect(done.status).toBe('ROLLED_BACK');
      expect(done.rollbackReason).toBe(reason);
      const types = done.events.map((e) => e.type);
      expect(types.indexOf('ROLLBACK_STARTED')).toBeGreaterThan(types.indexOf('PAUSED'));
      expect(done.events.find((e) => e.type === 'ROLLBACK_STARTED')?.message).toContain('ada');
      expect(types).not.toContain('RESUMED');
      await pollUntil(async () => f.instances.map((i) => i.appliedVersion()), (v) => v.every((x) => x === 1), { what: 'every instance on version 1' });
      expect(await activeVersion(name)).toBe(1);
    }, 30_000);
  });

  describe('after a DIRECT deployment COMPLETED', () => {
    const name = 'rb-direct';
    let f: Fleet;
    let first: DeploymentShape;

    beforeAll(async () => {
      ({ f, first } = await setUp(name, 3));
    }, 60_000);

    it('refuses to roll back the first deployment of a profile: there is no previous version (BAD_USER_INPUT)', async () => {
      expect(first.previousVersion).toBeNull();
      const res = await rollback(first.id, 'go back to nothing');
      expectRefused(res, 'BAD_USER_INPUT');
      expect(res.errors![0]!.message).toMatch(/no previous version/);
      await expectUnchanged(first);
      expect(await activeVersion(name)).toBe(1);
    });

    it('pushes the previous version to every instance, sees it acked, and makes it active again', async () => {
      const d = await deploy(name, 2);
      expect(d.status).toBe('COMPLETED');
      expect(await activeVersion(name)).toBe(2);
      const receivedBefore = f.instances.map((i) => i.received.length);
      const res = ok(await rollback(d.id, 'v2 breaks checkout', await a.token(Role.OPERATOR)));
      expect(res.rollbackDeployment).toMatchObject({ status: 'ROLLING_BACK', previousVersion: 1 });
      const done = await waitForDeployment(a, d.id, 15_000);
      expect(done.status).toBe('ROLLED_BACK');
      expect(done.targets.every((t) => t.state === 'ROLLED_BACK')).toBe(true);
      expect(done.events.find((e) => e.type === 'ROLLED_BACK')?.message).toMatch(/version 1 restored on 3 instances/);
      f.instances.forEach((i, n) => {
        const after = i.received.slice(receivedBefore[n]).map((r) => r.update);
        expect(after.some((u) => u.version === 1 && u.deploymentId === d.id)).toBe(true);
      });
      await pollUntil(async () => f.instances.map((i) => i.appliedVersion()), (v) => v.every((x) => x === 1), { what: 'every instance on version 1' });
      expect(await activeVersion(name)).toBe(1);
    }, 30_000);
  });

  describe('after a canary COMPLETED', () => {
    const name = 'rb-canary-done';
    let f: Fleet;
    let d: DeploymentShape;

    beforeAll(async () => {
      ({ f } = await setUp(name, 4));
      const started = await startDeployment(a, {
        profileName: name,
        version: 2,
        strategy: 'CANARY',
        canary: { phases: [0.5, 1.0], bakeSeconds: 1 },
        ackTimeoutSeconds: 5,
      });
      d = await waitForDeployment(a, started.id, 20_000);
    }, 60_000);

    it('gives every instance the previous version back', async () => {
      expect(d.status).toBe('COMPLETED');
      for (const i of f.instances) expect(i.appliedVersion()).toBe(2);
      ok(await rollback(d.id, 'latency creeping up'));
      const done = await waitForDeployment(a, d.id, 15_000);
      expect(done.status).toBe('ROLLED_BACK');
      expect(done.targets.every((t) => t.state === 'ROLLED_BACK')).toBe(true);
      await pollUntil(async () => f.instances.map((i) => i.appliedVersion()), (v) => v.every((x) => x === 1), { what: 'every instance on version 1' });
      for (const i of f.instances) expect(i.received.at(-1)!.update).toMatchObject({ version: 1, deploymentId: d.id });
      expect(await activeVersion(name)).toBe(1);
    }, 30_000);
  });

  describe('a COMPLETED deployment that is no longer the last', () => {
    const name = 'rb-chain';
    let f: Fleet;
    let second: DeploymentShape;
    let third: DeploymentShape;

    beforeAll(async () => {
      ({ f } = await setUp(name, 2));
      second = await deploy(name, 2);
      third = await deploy(name, 3);
      expect([second.status, third.status]).toEqual(['COMPLETED', 'COMPLETED']);
    }, 60_000);

    it('is a CONFLICT and changes nothing', async () => {
      const receivedBefore = f.instances.map((i) => i.received.length);
      const res = await rollback(second.id, 'the older one');
      expectRefused(res, 'CONFLICT');
      expect(res.errors![0]!.message).toMatch(/last/);
      await expectUnchanged(second);
      expect(await activeVersion(name)).toBe(3);
      await new Promise((r) => setTimeout(r, 300));
      expect(f.instances.map((i) => i.received.length)).toEqual(receivedBefore);
    });

    it('stays a CONFLICT after the last one was rolled back, which returns to its own previous version', async () => {
      ok(await rollback(third.id, 'v3 is bad'));
      expect((await waitForDeployment(a, third.id, 15_000)).status).toBe('ROLLED_BACK');
      expect(await activeVersion(name)).toBe(2);
      await pollUntil(async () => f.instances.map((i) => i.appliedVersion()), (v) => v.every((x) => x === 2), { what: 'every instance on version 2' });
      expectRefused(await rollback(second.id, 'and now the older one'), 'CONFLICT');
      await expectUnchanged(second);
    }, 30_000);
  });

  describe('refusals that need no running deployment', () => {
    it('is a CONFLICT for a FAILED deployment', async () => {
      const name = 'rb-failed';
      await setUp(name, 2, (i) => (i === 1 ? failOn(2, 'cannot parse v2') : failOn(99, 'never')));
      const d = await deploy(name, 2);
      expect(d.status).toBe('FAILED');
      const res = await rollback(d.id, 'clean up');
      expectRefused(res, 'CONFLICT');
      expect(res.errors![0]!.message).toMatch(/FAILED/);
      await expectUnchanged(d);
    }, 60_000);

    it('is NOT_FOUND for an unknown id', async () => {
      expectRefused(await rollback(randomUUID(), 'who?'), 'NOT_FOUND');
      expectRefused(await rollback('not-a-deployment-id', 'who?'), 'NOT_FOUND');
    });
  });

  describe('when instances do not come back', () => {
    const name = 'rb-stuck';
    let f: Fleet;
    let silent: SimInstance;
    let refusing: SimInstance;
    let good: SimInstance;
    let done: DeploymentShape;

    beforeAll(async () => {
      ({ f } = await setUp(name, 3));
      [silent, refusing, good] = f.instances as [SimInstance, SimInstance, SimInstance];
      const d = await deploy(name, 2, { ackTimeoutSeconds: 2 });
      expect(d.status).toBe('COMPLETED');
      // From now on one instance ignores version 1 and another cannot apply it.
      const ok2: Behavior = () => ({ success: true, reloadMs: 2 });
      silent.behavior = (u, i) => (u.version === 1 ? 'ignore' : ok2(u, i));
      refusing.behavior = failOn(1, 'v1 no longer loads');
      ok(await rollback(d.id, 'try to go back'));
      done = await waitForDeployment(a, d.id, 20_000);
    }, 60_000);

    it('ends FAILED, naming each instance that did not come back and why', () => {
      expect(done.status).toBe('FAILED');
      expect(done.failureReason).toContain('did not come back');
      expect(done.failureReason).toContain(silent.id);
      expect(done.failureReason).toContain(refusing.id);
      expect(done.failureReason).toContain('v1 no longer loads');
      expect(done.failureReason).not.toContain(good.id);
      expect(done.events.at(-1)).toMatchObject({ type: 'FAILED', status: 'FAILED' });
      expect(done.events.map((e) => e.type)).not.toContain('ROLLED_BACK');
    });

    it('still gave the previous version to the instances that took it', () => {
      const byId = new Map(done.targets.map((t) => [t.instanceId, t]));
      expect(byId.get(good.id)?.state).toBe('ROLLED_BACK');
      expect(byId.get(silent.id)?.state).toBe('TIMED_OUT');
      expect(byId.get(refusing.id)).toMatchObject({ state: 'FAILED', error: 'v1 no longer loads' });
      expect(good.appliedVersion()).toBe(1);
      expect(silent.appliedVersion()).toBe(2);
      expect(refusing.appliedVersion()).toBe(2);
    });
  });
});
