import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Environment, Role } from '../../src/domain/enums.js';
import { api, type Api, createProfile, expectRefused, ok, publish } from '../support/api.js';
import {
  deployAndWait,
  failOn,
  type Fleet,
  readDeployment,
  type SimInstance,
  START_DEPLOYMENT,
  startDeployment,
  startFleet,
  startInstance,
  waitForDeployment,
} from '../support/fleet.js';
import { profileWithVersions } from '../support/progressive.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { pollUntil } from '../support/wait.js';

const LIST = `query($profileName: String, $status: DeploymentStatus, $first: Int, $after: String) {
  deployments(profileName: $profileName, status: $status, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id profileName version status createdAt } }
  }
}`;
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
    await Promise.allSettled([...fleets.map((f) => f.stop())]);
    await server?.stop();
  });

  describe('deployments and deployment', () => {
    const profileName = 'listed';
    const service = 'listed-svc';
    const ids: string[] = [];

    beforeAll(async () => {
      await withVersions(profileName, service, 3);
      await fleet({ service, count: 1, behavior: () => failOn(2, 'nope', 3) });
      for (const v of [1, 2, 3]) ids.push((await deployAndWait(a, profileName, v)).id);
      // Another profile's deployment, which the profile filter must leave out.
      await withVersions('listed-other', service, 1);
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
