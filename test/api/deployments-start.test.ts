import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Environment, Role } from '../../src/domain/enums.js';
import { api, type Api, expectRefused, ok } from '../support/api.js';
import {
  ackOk,
  deployAndWait,
  type Fleet,
  noAck,
  readDeployment,
  type SimInstance,
  START_DEPLOYMENT,
  startDeployment,
  startFleet,
  startInstance,
  waitForDeployment,
} from '../support/fleet.js';
import { activeVersion, countDeployments, profileWithVersions } from '../support/progressive.js';
import { startTestServer, type TestServer } from '../support/server.js';

const LIST = `query($profileName: String, $status: DeploymentStatus, $first: Int, $after: String) {
  deployments(profileName: $profileName, status: $status, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id profileName version status createdAt } }
  }
}`;
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
  const listDeployments = async (vars: Record<string, unknown>, token?: string) => ok(await a.gql<ListResult>(LIST, vars, token)).deployments;
  /** A profile with versions 1..n of `{ n: i, name }`. */
  const withVersions = (name: string, service: string, n: number, environment = Environment.STAGING) =>
    profileWithVersions(a, name, n, { service, environment, data: (i) => ({ n: i, name }) });

  beforeAll(async () => {
    server = await startTestServer();
    a = api(server);
  });
  afterAll(async () => {
    await Promise.allSettled([...fleets.map((f) => f.stop()), ...sims.map((s) => s.close())]);
    await server?.stop();
  });

  describe('who may deploy', () => {
    it('lets DEVELOPER deploy to STAGING', async () => {
      const profileName = 'dev-staging';
      await withVersions(profileName, 'dev-staging-svc', 1);
      await fleet({ service: 'dev-staging-svc', count: 1 });
      const dev = await server.token(Role.DEVELOPER, { sub: 'dev-dora' });
      const started = await startDeployment(a, { profileName, version: 1, strategy: 'DIRECT', ackTimeoutSeconds: 5 }, dev);
      expect(started.startedBy).toBe('dev-dora');
      expect((await waitForDeployment(a, started.id)).status).toBe('COMPLETED');
      expect(await activeVersion(a, profileName)).toBe(1);
    });

    it('refuses DEVELOPER a PRODUCTION deployment (FORBIDDEN) and inserts nothing', async () => {
      const profileName = 'dev-prod';
      await withVersions(profileName, 'dev-prod-svc', 1, Environment.PRODUCTION);
      await startInstance(a, { service: 'dev-prod-svc', environment: Environment.PRODUCTION });
      const dev = await a.token(Role.DEVELOPER);
      const res = await a.gql(START_DEPLOYMENT, { input: { profileName, version: 1, strategy: 'DIRECT' } }, dev);
      expectRefused(res, 'FORBIDDEN');
      expect(res.errors?.[0]?.message).toContain('PRODUCTION');
      expect(await countDeployments(a, profileName)).toBe(0);
      expect(await activeVersion(a, profileName)).toBeNull();
    });

    it('lets OPERATOR deploy to PRODUCTION', async () => {
      const profileName = 'op-prod';
      await withVersions(profileName, 'op-prod-svc', 1, Environment.PRODUCTION);
      const f = await fleet({ service: 'op-prod-svc', environment: Environment.PRODUCTION, count: 2 });
      const op = await a.token(Role.OPERATOR);
      const started = await startDeployment(a, { profileName, version: 1, strategy: 'DIRECT', ackTimeoutSeconds: 5 }, op);
      const done = await waitForDeployment(a, started.id);
      expect(done.status).toBe('COMPLETED');
      expect(done.targets.map((t) => t.instanceId).sort()).toEqual([...f.ids].sort());
      expect(await activeVersion(a, profileName)).toBe(1);
    });

  });

  describe('refused inputs', () => {
    const profileName = 'bad-input';
    const service = 'bad-input-svc';
    const start = (input: Record<string, unknown>) =>
      a.gql(START_DEPLOYMENT, { input: { profileName, version: 1, strategy: 'DIRECT', ...input } });

    beforeAll(async () => {
      await withVersions(profileName, service, 1);
      // Connected, so that "nothing to deploy to" is never why these are refused.
      await startInstance(a, { service });
    });

    it('refuses a profile with no registered instances (BAD_USER_INPUT: nothing to deploy to)', async () => {
      const empty = 'no-instances';
      await withVersions(empty, 'no-instances-svc', 1);
      const res = await a.gql(START_DEPLOYMENT, { input: { profileName: empty, version: 1, strategy: 'DIRECT' } });
      expectRefused(res, 'BAD_USER_INPUT');
      expect(res.errors?.[0]?.message).toMatch(/nothing to deploy to/);
      expect(await countDeployments(a, empty)).toBe(0);
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
      expect(await countDeployments(a, profileName)).toBe(0);
    });

    it('refuses BLUE_GREEN when no instance has a color (BAD_USER_INPUT) and inserts nothing', async () => {
      const res = await start({ strategy: 'BLUE_GREEN' });
      expectRefused(res, 'BAD_USER_INPUT');
      expect(res.errors?.[0]?.message).toMatch(/color BLUE or GREEN/);
      expect(await countDeployments(a, profileName)).toBe(0);
    });

    it.each([
      ['canary options', { canary: { bakeSeconds: 5 } }, 'canary'],
      ['rolling options', { rolling: { batchSize: 1 } }, 'rolling'],
      ['blueGreen options', { blueGreen: { verifySeconds: 5 } }, 'blueGreen'],
    ])('refuses %s on a DIRECT deployment (BAD_USER_INPUT)', async (_label, options, field) => {
      const res = await start(options);
      expectRefused(res, 'BAD_USER_INPUT');
      expect(res.errors?.[0]?.extensions?.field).toBe(field);
      expect(await countDeployments(a, profileName)).toBe(0);
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
      expect(await countDeployments(a, profileName)).toBe(0);
    });

    it('refuses an unknown strategy (BAD_USER_INPUT)', async () => {
      expectRefused(await start({ strategy: 'YOLO' }), 'BAD_USER_INPUT');
      expect(await countDeployments(a, profileName)).toBe(0);
    });
  });

  describe('one deployment at a time', () => {
    it('refuses a second deployment while one is active (CONFLICT naming it) and inserts nothing', async () => {
      const profileName = 'one-at-a-time';
      const service = 'one-at-a-time-svc';
      await withVersions(profileName, service, 2);
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
      expect(await countDeployments(a, profileName)).toBe(1);
      expect((await readDeployment(a, running.id))!.status).toBe('IN_PROGRESS');

      // Once it ends, the next one may start.
      expect(ok(await inst.ack(push, { success: true, reloadMs: 1 })).reportConfigApplied).toBe(true);
      expect((await waitForDeployment(a, running.id)).status).toBe('COMPLETED');
      inst.behavior = ackOk();
      const next = await deployAndWait(a, profileName, 2);
      expect(next).toMatchObject({ status: 'COMPLETED', previousVersion: 1 });
      expect(await countDeployments(a, profileName)).toBe(2);
    });

    it('lets another profile deploy while one profile has an active deployment', async () => {
      const service = 'two-profiles-svc';
      await withVersions('two-profiles-a', service, 1);
      await withVersions('two-profiles-b', service, 1);
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

  describe('instances that join during a deployment', () => {
    it('are not targets, get the active (old) version on subscribe, and the new one when the deployment completes', async () => {
      const profileName = 'mid-join';
      const service = 'mid-join-svc';
      await withVersions(profileName, service, 2);
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
      expect(await activeVersion(a, profileName)).toBe(2);
      const caughtUp = await late.waitForUpdate((u) => u.version === 2);
      expect(caughtUp).toMatchObject({ profileName, version: 2, deploymentId: running.id });
    });
  });
});
