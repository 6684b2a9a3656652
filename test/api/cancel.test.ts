import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Environment, Role } from '../../src/domain/enums.js';
import { api, type Api, createProfile, expectRefused, ok, publish } from '../support/api.js';
import { type DeploymentShape, type Fleet, readDeployment, startDeployment, startFleet, waitForDeployment } from '../support/fleet.js';
import type { GqlResponse } from '../support/server.js';
import { startTestServer, type TestServer } from '../support/server.js';

const CANCEL = 'mutation($id: ID!, $r: String!) { cancelDeployment(id: $id, reason: $r) { id status } }';

/**
 * cancelDeployment over the API. A deployment this server starts has pushed
 * by the time startDeployment answers (its first step runs in the creating
 * transaction), so here every cancel is refused; cancelling a PENDING one is
 * proven where a busy runner leaves it PENDING (test/integration/deployment-runner.test.ts).
 */
describe('cancelDeployment', () => {
  let server: TestServer;
  let a: Api;
  let fleet: Fleet;
  let baking: DeploymentShape;
  let completed: DeploymentShape;

  const cancel = (id: string, reason: string, token?: string | null): Promise<GqlResponse<unknown>> => a.gql(CANCEL, { id, r: reason }, token);
  async function expectUnchanged(before: DeploymentShape): Promise<void> {
    const now = (await readDeployment(a, before.id))!;
    expect(now.status).toBe(before.status);
    expect(now.events.map((e) => e.type)).not.toContain('CANCELLED');
  }

  beforeAll(async () => {
    server = await startTestServer({ HOTSWAP_HEALTH_CHECK_INTERVAL_MS: '3600000' });
    a = api(server);
    await createProfile(a, 'cancel-me', { service: 'cancel-svc', environment: Environment.STAGING });
    await publish(a, 'cancel-me', { v: 1 });
    await publish(a, 'cancel-me', { v: 2 });
    fleet = await startFleet(a, { service: 'cancel-svc', count: 2 });
    completed = await waitForDeployment(a, (await startDeployment(a, { profileName: 'cancel-me', version: 1, strategy: 'DIRECT', ackTimeoutSeconds: 10 })).id, 20_000);
    expect(completed.status).toBe('COMPLETED');
    baking = await startDeployment(a, { profileName: 'cancel-me', version: 2, strategy: 'CANARY', canary: { phases: [0.5, 1], bakeSeconds: 600 }, ackTimeoutSeconds: 10 });
  }, 60_000);
  afterAll(async () => {
    await fleet?.stop();
    await server?.stop();
  });

  it('refuses a deployment that has pushed (CONFLICT, pointing to a rollback), nothing written', async () => {
    const res = await cancel(baking.id, 'changed my mind');
    expectRefused(res, 'CONFLICT');
    expect(res.errors![0]!.message).toMatch(/IN_PROGRESS: it has started pushing version 2.*roll it back instead/);
    await expectUnchanged((await readDeployment(a, baking.id))!);
  });

  it('refuses a finished deployment (CONFLICT: COMPLETED may only be rolled back)', async () => {
    const res = await cancel(completed.id, 'too late');
    expectRefused(res, 'CONFLICT');
    expect(res.errors![0]!.message).toMatch(/deployment is COMPLETED; cannot move to CANCELLED/);
  });

  it('refuses without a token (UNAUTHENTICATED) and to a DEVELOPER or an INSTANCE token (FORBIDDEN)', async () => {
    expectRefused(await cancel(baking.id, 'why not', null), 'UNAUTHENTICATED');
    for (const token of [await a.token(Role.DEVELOPER), await a.instanceToken()]) expectRefused(await cancel(baking.id, 'why not', token), 'FORBIDDEN');
    await expectUnchanged((await readDeployment(a, baking.id))!);
  });

  it('refuses an empty reason (BAD_USER_INPUT on reason) and an unknown id (NOT_FOUND)', async () => {
    const empty = await cancel(baking.id, '   ');
    expectRefused(empty, 'BAD_USER_INPUT');
    expect(empty.errors![0]!.extensions).toMatchObject({ field: 'reason' });
    expectRefused(await cancel('00000000-0000-4000-8000-000000000000', 'gone'), 'NOT_FOUND');
    expectRefused(await cancel('not-a-uuid', 'gone'), 'NOT_FOUND');
    expect(ok(await a.gql<{ deployment: { status: string } }>('query($id: ID!) { deployment(id: $id) { status } }', { id: baking.id })).deployment.status).toBe('IN_PROGRESS');
  });
});
