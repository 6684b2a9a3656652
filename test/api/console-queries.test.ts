import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Environment, Role } from '../../src/domain/enums.js';
import { api, type Api, createProfile, expectRefused, ok, publish } from '../support/api.js';
import { type Fleet, readDeployment, startDeployment, startFleet, waitForDeployment } from '../support/fleet.js';
import { waitFor } from '../support/wait.js';
import { startTestServer, type TestServer } from '../support/server.js';

const VIEWER = 'query { viewer { sub role expiresAt actions deployEnvironments } }';
const PLAN = 'query($i: StartDeploymentInput!) { deploymentPlan(input: $i) { strategy targetCount color phases { phase instances observeSeconds } } }';
const DEPLOYMENTS = 'query($p: String) { deployments(profileName: $p) { totalCount } }';

interface ViewerShape {
  sub: string;
  role: string;
  expiresAt: string | null;
  actions: string[];
  deployEnvironments: string[];
}
interface PlanShape {
  strategy: string;
  targetCount: number;
  color: string | null;
  phases: Array<{ phase: number; instances: number; observeSeconds: number }>;
}

/** Until every target of `phase` acked (the canary then bakes). */
async function waitForPhaseAcked(a: Api, id: string, phase: number): Promise<void> {
  await waitFor(`phase ${phase} of ${id} acked`, async () => {
    const d = (await readDeployment(a, id))!;
    const targets = d.targets.filter((t) => t.phase === phase);
    return targets.length > 0 && targets.every((t) => t.state === 'APPLIED') ? true : undefined;
  });
}

/** The two queries the console is built on: who the caller is, and what a deployment would do. */
describe('viewer and deploymentPlan', () => {
  let server: TestServer;
  let a: Api;
  let fleet: Fleet;

  beforeAll(async () => {
    server = await startTestServer({ HOTSWAP_HEALTH_CHECK_INTERVAL_MS: '3600000' });
    a = api(server);
    await createProfile(a, 'plan-me', { service: 'plan-svc', environment: Environment.STAGING });
    await createProfile(a, 'plan-prod', { service: 'plan-svc', environment: Environment.PRODUCTION });
    await createProfile(a, 'plan-empty', { service: 'nobody-home', environment: Environment.STAGING });
    await publish(a, 'plan-me', { v: 1 });
    await publish(a, 'plan-prod', { v: 1 });
    await publish(a, 'plan-empty', { v: 1 });
    fleet = await startFleet(a, { service: 'plan-svc', count: 10, color: (i) => (i < 4 ? 'BLUE' : 'GREEN') });
  }, 60_000);
  afterAll(async () => {
    await fleet?.stop();
    await server?.stop();
  });

  describe('viewer', () => {
    it("names the token's subject and role, its expiry, and the actions authorize() allows it", async () => {
      const dev = ok(await a.gql<{ viewer: ViewerShape }>(VIEWER, {}, await a.token(Role.DEVELOPER, 'dana'))).viewer;
      expect(dev).toMatchObject({ sub: 'dana', role: 'DEVELOPER', deployEnvironments: ['DEVELOPMENT', 'STAGING'] });
      expect(dev.actions).toEqual(expect.arrayContaining(['profile:write', 'version:publish', 'schema:submit', 'deployment:start']));
      expect(dev.actions).not.toContain('schema:approve');
      expect(dev.actions).not.toContain('deployment:control');
      // The test tokens live an hour.
      expect(Date.parse(dev.expiresAt!) - Date.now()).toBeGreaterThan(3500_000);

      const operator = ok(await a.gql<{ viewer: ViewerShape }>(VIEWER, {}, await a.token(Role.OPERATOR, 'otto'))).viewer;
      expect(operator.deployEnvironments).toEqual(['DEVELOPMENT', 'STAGING', 'PRODUCTION']);
      expect(operator.actions).toContain('deployment:control');
      expect(operator.actions).not.toContain('version:publish');

      const admin = ok(await a.gql<{ viewer: ViewerShape }>(VIEWER)).viewer;
      expect(admin.actions).toContain('schema:approve');
    });

    it('is UNAUTHENTICATED without a token', async () => {
      expectRefused(await a.gql(VIEWER, {}, null), 'UNAUTHENTICATED');
    });
  });

  describe('redeemSignInLink', () => {
    it('is refused on a server that is not the embedded default (it prints no links)', async () => {
      const res = await a.gql('mutation { redeemSignInLink(code: "abc") }', {}, null);
      expectRefused(res, 'UNAUTHENTICATED');
      expect(res.errors![0]!.message).toMatch(/only the embedded default/);
    });
  });

  describe('deploymentPlan', () => {
    it('gives the canary phases and how many instances each takes, and starts nothing', async () => {
      const plan = ok(await a.gql<{ deploymentPlan: PlanShape }>(PLAN, { i: { profileName: 'plan-me', version: 1, strategy: 'CANARY', canary: { phases: [0.1, 0.5, 1], bakeSeconds: 30 } } }, await a.token(Role.DEVELOPER))).deploymentPlan;
      expect(plan).toEqual({
        strategy: 'CANARY',
        targetCount: 10,
        color: null,
        phases: [
          { phase: 1, instances: 1, observeSeconds: 30 },
          { phase: 2, instances: 4, observeSeconds: 30 },
          { phase: 3, instances: 5, observeSeconds: 30 },
        ],
      });
      expect(ok(await a.gql<{ deployments: { totalCount: number } }>(DEPLOYMENTS, { p: 'plan-me' })).deployments.totalCount).toBe(0);
    });

    it('plans rolling batches and the idle color of a blue-green deployment', async () => {
      const rolling = ok(await a.gql<{ deploymentPlan: PlanShape }>(PLAN, { i: { profileName: 'plan-me', version: 1, strategy: 'ROLLING', rolling: { batchSize: 4 } } })).deploymentPlan;
      expect(rolling.phases.map((p) => p.instances)).toEqual([4, 4, 2]);
      const blueGreen = ok(await a.gql<{ deploymentPlan: PlanShape }>(PLAN, { i: { profileName: 'plan-me', version: 1, strategy: 'BLUE_GREEN' } })).deploymentPlan;
      expect(blueGreen).toMatchObject({ color: 'GREEN', targetCount: 6, phases: [{ phase: 1, instances: 6 }] });
    });

    it('refuses bad input as startDeployment does: no such version, no connected instance, options of another strategy', async () => {
      expectRefused(await a.gql(PLAN, { i: { profileName: 'plan-me', version: 9, strategy: 'DIRECT' } }), 'NOT_FOUND');
      expectRefused(await a.gql(PLAN, { i: { profileName: 'no-such-profile', version: 1, strategy: 'DIRECT' } }), 'NOT_FOUND');
      const empty = await a.gql(PLAN, { i: { profileName: 'plan-empty', version: 1, strategy: 'DIRECT' } });
      expectRefused(empty, 'BAD_USER_INPUT');
      expect(empty.errors![0]!.message).toMatch(/no instance of service "nobody-home" in STAGING is connected/);
      expectRefused(await a.gql(PLAN, { i: { profileName: 'plan-me', version: 1, strategy: 'DIRECT', canary: { phases: [0.5, 1] } } }), 'BAD_USER_INPUT');
    });

    it('is UNAUTHENTICATED without a token and FORBIDDEN to an instance token', async () => {
      const input = { i: { profileName: 'plan-me', version: 1, strategy: 'DIRECT' } };
      expectRefused(await a.gql(PLAN, input, null), 'UNAUTHENTICATED');
      expectRefused(await a.gql(PLAN, input, await a.instanceToken()), 'FORBIDDEN');
    });

    it('answers a DEVELOPER about PRODUCTION as a reader (a preview writes nothing): what a start would find, not FORBIDDEN', async () => {
      const res = await a.gql(PLAN, { i: { profileName: 'plan-prod', version: 1, strategy: 'DIRECT' } }, await a.token(Role.DEVELOPER));
      expectRefused(res, 'BAD_USER_INPUT');
      expect(res.errors![0]!.message).toMatch(/no instance of service "plan-svc" in PRODUCTION is connected/);
    });
  });

  describe('ServiceInstance.assignedVersions', () => {
    const ASSIGNED = 'query { instances(service: "plan-svc") { id assignedVersions { profileName version hash } appliedVersions { profileName version } } }';
    type Row = { id: string; assignedVersions: Array<{ profileName: string; version: number; hash: string }>; appliedVersions: Array<{ profileName: string; version: number }> };

    it('says what each instance runs per profile: the canary instances the new version, the others the active one', async () => {
      const v1 = await waitForDeployment(a, (await startDeployment(a, { profileName: 'plan-me', version: 1, strategy: 'DIRECT' })).id, 20_000);
      expect(v1.status).toBe('COMPLETED');
      const v2 = await publish(a, 'plan-me', { v: 2 });
      const canary = await startDeployment(a, { profileName: 'plan-me', version: 2, strategy: 'CANARY', canary: { phases: [0.1, 1], bakeSeconds: 600 } });
      await waitForPhaseAcked(a, canary.id, 1);
      const rows = ok(await a.gql<{ instances: Row[] }>(ASSIGNED)).instances;
      expect(rows).toHaveLength(10);
      const assigned = rows.map((r) => r.assignedVersions.find((v) => v.profileName === 'plan-me')!);
      expect(assigned.filter((v) => v.version === 2)).toHaveLength(1);
      expect(assigned.filter((v) => v.version === 1)).toHaveLength(9);
      expect(assigned.find((v) => v.version === 2)!.hash).toBe(v2.hash);
      // What each was assigned is what it applied (the fleet acks everything).
      for (const r of rows) expect(r.appliedVersions.find((v) => v.profileName === 'plan-me')!.version).toBe(r.assignedVersions.find((v) => v.profileName === 'plan-me')!.version);
      // A profile never deployed assigns nothing: plan-prod is PRODUCTION, plan-me's fleet is STAGING.
      expect(rows.every((r) => r.assignedVersions.every((v) => v.profileName === 'plan-me'))).toBe(true);
      ok(await a.gql('mutation($id: ID!) { rollbackDeployment(id: $id, reason: "test over") { id } }', { id: canary.id }));
    });
  });
});
