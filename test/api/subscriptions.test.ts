import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../../src/auth/tokens.js';
import { Environment, Role } from '../../src/domain/enums.js';
import { api, type Api, createProfile, ok, publish } from '../support/api.js';
import { startTestServer, TEST_SECRET, type TestServer } from '../support/server.js';
import { pollUntil } from '../support/wait.js';
import { connectWs, type TestWsClient } from '../support/ws-client.js';

const CONFIG_UPDATES = 'subscription($id: ID!) { configUpdates(instanceId: $id) { profileName version hash data deploymentId } }';
const EVENTS = 'subscription($id: ID!) { deploymentEvents(id: $id) { type status phase progress message } }';
const REGISTER = 'mutation($s: String!) { registerInstance(input: { service: $s, environment: STAGING, host: "h" }) { instance { id } token } }';
const ACK = 'mutation($i: ID!, $p: String!, $v: Int!) { reportConfigApplied(instanceId: $i, profileName: $p, version: $v, success: true, reloadMs: 1) }';
const START = 'mutation($p: String!, $v: Int!) { startDeployment(input: { profileName: $p, version: $v, strategy: DIRECT, ackTimeoutSeconds: 5 }) { id } }';

interface Update {
  configUpdates: { profileName: string; version: number; hash: string; data: Record<string, unknown>; deploymentId: string | null };
}

describe('subscriptions over graphql-ws', () => {
  let server: TestServer;
  let a: Api;
  const sockets: TestWsClient[] = [];
  const ws = (token: string | null, options: { lazy?: boolean } = {}) => {
    const client = connectWs(server.url, token, options);
    sockets.push(client);
    return client;
  };

  beforeAll(async () => {
    server = await startTestServer({ HOTSWAP_MAX_SUBSCRIPTIONS_PER_CALLER: '3' });
    a = api(server);
  });
  afterAll(async () => {
    await Promise.all(sockets.map((s) => s.dispose()));
    await server.stop();
  });

  async function register(service: string): Promise<{ id: string; token: string }> {
    const reg = await server.token(Role.INSTANCE, { service, environment: Environment.STAGING, sub: 'registrar' });
    const res = ok(await a.gql<{ registerInstance: { instance: { id: string }; token: string } }>(REGISTER, { s: service }, reg));
    return { id: res.registerInstance.instance.id, token: res.registerInstance.token };
  }

  /** Deploys `version` to every instance of the profile's service; acks through `ackers`. */
  async function deploy(profile: string, version: number): Promise<string> {
    return ok(await a.gql<{ startDeployment: { id: string } }>(START, { p: profile, v: version })).startDeployment.id;
  }

  async function waitForStatus(id: string, status: string): Promise<void> {
    const read = async () => ok(await a.gql<{ deployment: { status: string } }>('query($id: ID!) { deployment(id: $id) { status } }', { id })).deployment.status;
    await pollUntil(read, (s) => s === status, { timeoutMs: 10_000, what: `deployment ${id} to be ${status}` });
  }


  describe('connection', () => {
    // Every subscription without a token and with every bad token: the authorization table, test/security/tokens-websocket.test.ts.
    it('closes the socket with 4403 when the token expires', async () => {
      const shortLived = await mintToken(TEST_SECRET, { sub: 'brief', role: Role.ADMIN, expiresInSeconds: 2 });
      const client = ws(shortLived, { lazy: false });
      const answered = await client.request<{ profiles: { totalCount: number } }>('{ profiles { totalCount } }');
      expect(answered.data?.profiles.totalCount).toBeGreaterThanOrEqual(0);
      const started = Date.now();
      expect(await client.closed).toBe(4403);
      expect(Date.now() - started).toBeLessThan(4000);
    });
  });

  describe('configUpdates', () => {
    it('sends nothing first for a profile with no active version, then the pushes', async () => {
      await createProfile(a, 'sub-fresh', { service: 'fresh' });
      await publish(a, 'sub-fresh', { v: 1 });
      const inst = await register('fresh');
      const sub = ws(inst.token).subscribe<Update>(CONFIG_UPDATES, { id: inst.id });
      await expect(sub.next(300)).rejects.toThrow(/no subscription message/);
      const deploymentId = await deploy('sub-fresh', 1);
      const pushed = await sub.next();
      expect(pushed.data?.configUpdates).toMatchObject({ profileName: 'sub-fresh', version: 1, data: { v: 1 }, deploymentId });
      ok(await a.gql(ACK, { i: inst.id, p: 'sub-fresh', v: 1 }, inst.token));
      await waitForStatus(deploymentId, 'COMPLETED');
    });

    it('first sends the active version (deploymentId null) of each profile of the service', async () => {
      const late = await register('fresh');
      const sub = ws(late.token).subscribe<Update>(CONFIG_UPDATES, { id: late.id });
      const first = await sub.next();
      expect(first.data?.configUpdates).toMatchObject({ profileName: 'sub-fresh', version: 1, data: { v: 1 }, deploymentId: null });
      // The first message counts as sent: the instance may ack it.
      expect(ok(await a.gql<{ reportConfigApplied: boolean }>(ACK, { i: late.id, p: 'sub-fresh', v: 1 }, late.token))).toEqual({
        reportConfigApplied: true,
      });
    });

    it('refuses an unknown instance with NOT_FOUND', async () => {
      const res = await ws(server.adminToken).subscribe(CONFIG_UPDATES, { id: '00000000-0000-4000-8000-000000000000' }).next();
      expect(res.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
      expect(res.via).toBe('error');
    });

    it('gives an instance that reconnects mid-deployment the version pushed to it', async () => {
      await createProfile(a, 'sub-reconnect', { service: 'recon' });
      await publish(a, 'sub-reconnect', { v: 1 });
      const inst = await register('recon');
      const first = ws(inst.token);
      const sub = first.subscribe<Update>(CONFIG_UPDATES, { id: inst.id });
      await expect(sub.next(200)).rejects.toThrow();
      const deploymentId = await deploy('sub-reconnect', 1);
      expect((await sub.next()).data?.configUpdates.version).toBe(1);
      await first.dispose(); // drops before acking
      const again = ws(inst.token).subscribe<Update>(CONFIG_UPDATES, { id: inst.id });
      const resent = await again.next();
      // The version pushed to it, sent as its current config (deploymentId null, as on every subscribe).
      expect(resent.data?.configUpdates).toMatchObject({ version: 1, deploymentId: null });
      ok(await a.gql(ACK, { i: inst.id, p: 'sub-reconnect', v: 1 }, inst.token));
      await waitForStatus(deploymentId, 'COMPLETED');
    });

    it('caps open subscriptions per token with RATE_LIMITED', async () => {
      const inst = await register('fresh');
      const client = ws(inst.token);
      const open = [1, 2, 3].map(() => client.subscribe<Update>(CONFIG_UPDATES, { id: inst.id }));
      for (const s of open) expect((await s.next()).data?.configUpdates.version).toBe(1);
      const fourth = await client.subscribe<Update>(CONFIG_UPDATES, { id: inst.id }).next();
      expect(fourth.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
      expect(fourth.errors?.[0]?.message).toMatch(/too many open subscriptions.*limit is 3/);
      open[0]!.close();
      await new Promise((r) => setTimeout(r, 100));
      expect((await client.subscribe<Update>(CONFIG_UPDATES, { id: inst.id }).next()).data?.configUpdates.version).toBe(1);
    });

    it('refuses NUL characters and over-priced operations over the websocket too', async () => {
      const client = ws(server.adminToken);
      const nul = await client.request('query($n: String!) { profile(name: $n) { name } }', { n: 'a\u0000b' });
      expect(nul.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      const costly = await client.request('query($f: Int) { profiles(first: $f) { edges { node { versions(first: 100) { edges { node { data } } } } } } }', { f: 100 });
      expect(costly.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(costly.errors?.[0]?.message).toMatch(/query cost \d+ exceeds the limit/);
    });
  });

  describe('deploymentEvents', () => {
    it('sends the current state first, then each event, and completes after COMPLETED', async () => {
      await createProfile(a, 'sub-events', { service: 'evt' });
      await publish(a, 'sub-events', { v: 1 });
      const inst = await register('evt');
      const updates = ws(inst.token).subscribe<Update>(CONFIG_UPDATES, { id: inst.id });
      await expect(updates.next(200)).rejects.toThrow();
      const deploymentId = await deploy('sub-events', 1);
      const events = ws(server.adminToken).subscribe<{ deploymentEvents: { type: string; status: string } }>(EVENTS, { id: deploymentId });
      const first = await events.next();
      expect(first.data?.deploymentEvents.type).toBe('CURRENT_STATE');
      await updates.next();
      ok(await a.gql(ACK, { i: inst.id, p: 'sub-events', v: 1 }, inst.token));
      await events.ended;
      const types = events.pending.map((m) => m.data?.deploymentEvents.type);
      expect(types.at(-1)).toBe('COMPLETED');
      expect(types).toContain('PHASE_COMPLETED');
      expect(events.pending.at(-1)?.data?.deploymentEvents.status).toBe('COMPLETED');
    });

    it('ends at once for a settled deployment, after its CURRENT_STATE', async () => {
      const list = ok(await a.gql<{ deployments: { edges: Array<{ node: { id: string } }> } }>('{ deployments(profileName: "sub-events", status: COMPLETED, first: 1) { edges { node { id } } } }'));
      const id = list.deployments.edges[0]!.node.id;
      const events = ws(server.adminToken).subscribe<{ deploymentEvents: { type: string; status: string } }>(EVENTS, { id });
      await events.ended;
      expect(events.pending.map((m) => m.data?.deploymentEvents)).toEqual([{ type: 'CURRENT_STATE', status: 'COMPLETED', phase: 1, progress: 1, message: null }]);
    });

    it('is refused for unknown deployments (NOT_FOUND)', async () => {
      const missing = await ws(server.adminToken).subscribe(EVENTS, { id: '00000000-0000-4000-8000-000000000000' }).next();
      expect(missing.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    });
  });
});
