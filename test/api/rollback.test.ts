import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Role } from '../../src/domain/enums.js';
import { api, type Api, expectRefused, ok } from '../support/api.js';
import { type Behavior, type DeploymentShape, type Fleet, startDeployment, versionsOf, waitForDeployment } from '../support/fleet.js';
import { activeVersion, canaryInBake, expectUnchanged, fleetOnVersion1, startAndWait } from '../support/progressive.js';
import { type GqlResponse, startTestServer, type TestServer } from '../support/server.js';
import { pollUntil } from '../support/wait.js';

const ROLLBACK = 'mutation($id: ID!, $r: String!) { rollbackDeployment(id: $id, reason: $r) { id status rollbackReason previousVersion } }';
const PAUSE = 'mutation($id: ID!) { pauseDeployment(id: $id) { id status } }';

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
  /**
   * A profile `name` (service `${name}-svc`) with versions 1, 2 and 3, and a
   * fleet of `count` on version 1 (DIRECT) reporting healthy metrics; returns
   * the fleet and that first deployment.
   */
  const setUp = (name: string, count: number, behavior?: (i: number) => Behavior) =>
    fleetOnVersion1(a, name, { count, behavior, versions: 3, data: (v) => ({ v, name }), fleets });
  const deploy = (name: string, version: number, extra: Record<string, unknown> = {}) =>
    startAndWait(a, { profileName: name, version, strategy: 'DIRECT', ackTimeoutSeconds: 5, ...extra });

  describe('while IN_PROGRESS (in the bake of a canary)', () => {
    const name = 'rb-live';
    let f: Fleet;
    let d: DeploymentShape;
    let phase1: string[];

    beforeAll(async () => {
      ({ f } = await setUp(name, 4));
      d = await canaryInBake(a, name, 2, 30);
      expect(d.status).toBe('IN_PROGRESS');
      phase1 = d.targets.filter((t) => t.phase === 1).map((t) => t.instanceId);
      expect(phase1).toHaveLength(2);
    }, 60_000);

    it('needs a reason: empty or blank is BAD_USER_INPUT', async () => {
      for (const reason of ['', '   ', ' \n\t ']) {
        const res = await rollback(d.id, reason);
        expectRefused(res, 'BAD_USER_INPUT');
        expect(res.errors![0]!.message).toMatch(/reason/);
      }
      await expectUnchanged(a, d);
    });

    it('refuses a reason over 1000 characters (BAD_USER_INPUT)', async () => {
      const res = await rollback(d.id, 'x'.repeat(1001));
      expectRefused(res, 'BAD_USER_INPUT');
      expect(res.errors![0]!.message).toMatch(/1000/);
      await expectUnchanged(a, d);
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
      expect(await activeVersion(a, name)).toBe(1);
      d = done;
    }, 30_000);

    it('is a CONFLICT once ROLLED_BACK, and changes nothing', async () => {
      expect(d.status).toBe('ROLLED_BACK');
      const res = await rollback(d.id, 'again');
      expectRefused(res, 'CONFLICT');
      expect(res.errors![0]!.message).toMatch(/ROLLED_BACK/);
      await expectUnchanged(a, d);
    });
  });

  describe('while PAUSED', () => {
    const name = 'rb-paused';
    let f: Fleet;
    let d: DeploymentShape;

    beforeAll(async () => {
      ({ f } = await setUp(name, 3));
      d = await canaryInBake(a, name, 2, 30);
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
      expect(await activeVersion(a, name)).toBe(1);
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
      await expectUnchanged(a, first);
      expect(await activeVersion(a, name)).toBe(1);
    });

    it('pushes the previous version to every instance, sees it acked, and makes it active again', async () => {
      const d = await deploy(name, 2);
      expect(d.status).toBe('COMPLETED');
      expect(await activeVersion(a, name)).toBe(2);
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
      expect(await activeVersion(a, name)).toBe(1);
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
      expect(await activeVersion(a, name)).toBe(1);
    }, 30_000);
  });
});
