import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, type Api, expectRefused, ok } from '../support/api.js';
import { type Behavior, type DeploymentShape, failOn, type Fleet, type SimInstance, waitForDeployment } from '../support/fleet.js';
import { activeVersion, expectUnchanged, fleetOnVersion1, startAndWait } from '../support/progressive.js';
import { type GqlResponse, startTestServer, type TestServer } from '../support/server.js';
import { pollUntil } from '../support/wait.js';

const ROLLBACK = 'mutation($id: ID!, $r: String!) { rollbackDeployment(id: $id, reason: $r) { id status rollbackReason previousVersion } }';

interface RollbackResult {
  rollbackDeployment: { id: string; status: string; rollbackReason: string | null; previousVersion: number | null };
}

/** Rollbacks refused, and rollbacks the instances do not follow. */
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
      await expectUnchanged(a, second);
      expect(await activeVersion(a, name)).toBe(3);
      await new Promise((r) => setTimeout(r, 300));
      expect(f.instances.map((i) => i.received.length)).toEqual(receivedBefore);
    });

    it('stays a CONFLICT after the last one was rolled back, which returns to its own previous version', async () => {
      ok(await rollback(third.id, 'v3 is bad'));
      expect((await waitForDeployment(a, third.id, 15_000)).status).toBe('ROLLED_BACK');
      expect(await activeVersion(a, name)).toBe(2);
      await pollUntil(async () => f.instances.map((i) => i.appliedVersion()), (v) => v.every((x) => x === 2), { what: 'every instance on version 2' });
      expectRefused(await rollback(second.id, 'and now the older one'), 'CONFLICT');
      await expectUnchanged(a, second);
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
      await expectUnchanged(a, d);
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
