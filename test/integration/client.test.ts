import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type ConfigClient, ConfigClientError, type ConfigClientOptions, type ConfigUpdate, createConfigClient } from '../../src/client/index.js';
import { mintToken } from '../../src/auth/tokens.js';
import { Environment, Role } from '../../src/domain/enums.js';
import { startTestServer, TEST_SECRET, type TestServer } from '../support/server.js';
import { ok } from '../support/api.js';
import { waitFor } from '../support/wait.js';

const ENV = Environment.STAGING;
let seq = 0;
/** A service name no other test uses, so deployments target only this test's instances. */
const uniqueService = (label: string) => `${label}-${process.pid}-${++seq}`;


describe('instance client against the real server', () => {
  let server: TestServer;
  let dir: string;
  const clients: ConfigClient[] = [];

  beforeAll(async () => {
    server = await startTestServer();
    dir = await mkdtemp(path.join(tmpdir(), 'hotswap-client-'));
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.stop()));
  });
  afterAll(async () => {
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  /** A started client of `service` with a registration token, recording what onConfig got. */
  async function startClient(service: string, extra: Partial<ConfigClientOptions> = {}) {
    const applied: ConfigUpdate[] = [];
    const client = createConfigClient({
      url: server.url,
      service,
      environment: ENV,
      registration: { token: await server.token(Role.INSTANCE, { service, environment: ENV }), host: 'test-host' },
      onConfig: (u) => void applied.push(u),
      reconnect: { initialDelayMs: 50, maxDelayMs: 500 },
      ...extra,
    });
    clients.push(client);
    await client.start();
    return { client, applied };
  }

  /** Registers an instance of `service` over the API; its id and own token. */
  async function registerWith(service: string): Promise<{ id: string; token: string }> {
    const res = await server.gql<{ registerInstance: { token: string; instance: { id: string } } }>(
      `mutation($i: RegisterInstanceInput!) { registerInstance(input: $i) { token instance { id } } }`,
      { i: { service, environment: ENV, host: 'h' } },
      await server.token(Role.INSTANCE, { service, environment: ENV }),
    );
    const { token, instance } = ok(res).registerInstance;
    return { id: instance.id, token };
  }

  async function createProfile(name: string, service: string): Promise<void> {
    ok(await server.gql(`mutation($i: CreateProfileInput!) { createProfile(input: $i) { id } }`, { i: { name, service, environment: ENV } }));
  }

  async function publish(profileName: string, config: Record<string, unknown>): Promise<number> {
    const res = await server.gql<{ publishVersion: { version: number } }>(
      `mutation($p: String!, $i: PublishVersionInput!) { publishVersion(profileName: $p, input: $i) { version } }`,
      { p: profileName, i: { data: config } },
    );
    return ok(res).publishVersion.version;
  }

  interface DeploymentShape {
    id: string;
    status: string;
    targets: Array<{ instanceId: string; state: string; reloadMs: number | null; error: string | null }>;
  }

  async function deploy(profileName: string, version: number, ackTimeoutSeconds = 30): Promise<string> {
    const res = await server.gql<{ startDeployment: { id: string } }>(
      `mutation($i: StartDeploymentInput!) { startDeployment(input: $i) { id } }`,
      { i: { profileName, version, strategy: 'DIRECT', ackTimeoutSeconds } },
    );
    return ok(res).startDeployment.id;
  }

  async function settled(id: string): Promise<DeploymentShape> {
    return waitFor(`deployment ${id} to settle`, async () => {
      const res = await server.gql<{ deployment: DeploymentShape }>(
        `query($id: ID!) { deployment(id: $id) { id status targets { instanceId state reloadMs error } } }`,
        { id },
      );
      const d = ok(res).deployment;
      return ['COMPLETED', 'FAILED', 'ROLLED_BACK', 'CANCELLED'].includes(d.status) ? d : undefined;
    }, 15_000);
  }

  async function appliedVersions(instanceId: string) {
    const res = await server.gql<{ instance: { appliedVersions: Array<{ profileName: string; version: number; reloadMs: number | null }> } | null }>(
      `query($id: ID!) { instance(id: $id) { appliedVersions { profileName version reloadMs } } }`,
      { id: instanceId },
    );
    return ok(res).instance?.appliedVersions ?? [];
  }

  describe('one service, step by step', () => {
    const service = uniqueService('orders');
    const profile = `${service}-api`;
    const cacheFile = () => path.join(dir, 'orders', 'cache.json');
    let first: Awaited<ReturnType<typeof startClient>>;
    const httpOperations: string[] = [];

    it('receives a pushed version from a DIRECT deployment, which COMPLETES with the reload time recorded', async () => {
      await createProfile(profile, service);
      first = await startClient(service, {
        cacheFile: cacheFile(),
        fetch: (input, init) => {
          httpOperations.push(String(init?.body).match(/"query":"(?:mutation|query) (\w+)/)?.[1] ?? '?');
          return fetch(input, init);
        },
        onConfig: async (u) => {
          await new Promise((r) => setTimeout(r, 25));
          first.applied.push(u);
        },
      });
      await first.client.ready;
      expect(first.client.instanceId).toMatch(/^[0-9a-f-]{36}$/);
      expect(first.applied).toEqual([]); // nothing published yet

      const v1 = await publish(profile, { limit: 10 });
      const id = await deploy(profile, v1);
      const d = await settled(id);
      expect(d.status).toBe('COMPLETED');
      expect(d.targets).toEqual([expect.objectContaining({ instanceId: first.client.instanceId, state: 'APPLIED' })]);
      expect(d.targets[0]!.reloadMs).toBeGreaterThanOrEqual(20);
      expect(first.applied).toEqual([expect.objectContaining({ profileName: profile, version: 1, data: { limit: 10 }, deploymentId: id })]);
      expect(first.client.current(profile)).toMatchObject({ version: 1, data: { limit: 10 } });
      const recorded = await appliedVersions(first.client.instanceId!);
      expect(recorded).toEqual([expect.objectContaining({ profileName: profile, version: 1 })]);
      expect(recorded[0]!.reloadMs).toBeGreaterThanOrEqual(20);
      // The ack went over the websocket: HTTP carried only the registration and heartbeats.
      expect(httpOperations).toContain('RegisterInstance');
      expect(httpOperations).toContain('Heartbeat');
      expect(httpOperations).not.toContain('ReportConfigApplied');
    });

    it('writes the last applied config to the cache file', async () => {
      const cached = await waitFor('the cache file', async () => readFile(cacheFile(), 'utf8').catch(() => undefined));
      expect(JSON.parse(cached)).toMatchObject({ service, environment: ENV, profiles: [{ profileName: profile, version: 1, data: { limit: 10 } }] });
    });

    it('a new instance registers and receives the active version on start, and acks it', async () => {
      const second = await startClient(service);
      await second.client.ready;
      expect(second.client.instanceId).not.toBe(first.client.instanceId);
      await waitFor('the active version', () => second.applied.length > 0 || undefined);
      expect(second.applied).toEqual([expect.objectContaining({ profileName: profile, version: 1, deploymentId: null, data: { limit: 10 } })]);
      await waitFor('the ack', async () => (await appliedVersions(second.client.instanceId!)).length > 0 || undefined);
    });

    it('a client restarted with the same cache file applies the cached config first and does not apply it twice', async () => {
      await first.client.stop();
      const restarted = await startClient(service, { cacheFile: cacheFile() });
      // The cached config is applied during start(), before any connection.
      expect(restarted.applied).toEqual([expect.objectContaining({ profileName: profile, version: 1, deploymentId: null })]);
      await restarted.client.ready;
      // HotSwap sends the same version on subscribe: skipped, but acked for the new registration.
      await waitFor('the ack of the skipped duplicate', async () => (await appliedVersions(restarted.client.instanceId!)).length > 0 || undefined);
      expect(restarted.applied).toHaveLength(1);
    });
  });

  it('a failing onConfig makes the deployment FAIL with the error on the target, and the old config stays current', async () => {
    const service = uniqueService('billing');
    const profile = `${service}-api`;
    await createProfile(profile, service);
    let fail = false;
    const { client } = await startClient(service, {
      onConfig: () => {
        if (fail) throw new Error('feature flag "x" is not a boolean');
      },
    });
    await client.ready;
    expect((await settled(await deploy(profile, await publish(profile, { x: true })))).status).toBe('COMPLETED');
    fail = true;
    const d = await settled(await deploy(profile, await publish(profile, { x: 'yes' })));
    expect(d.status).toBe('FAILED');
    expect(d.targets).toEqual([expect.objectContaining({ instanceId: client.instanceId, state: 'FAILED', error: 'feature flag "x" is not a boolean' })]);
    expect(client.current(profile)).toMatchObject({ version: 1, data: { x: true } });
  });

  it('heartbeats carry the metrics callback numbers', async () => {
    const service = uniqueService('search');
    const { client } = await startClient(service, {
      heartbeatIntervalMs: 100,
      metrics: () => ({ errorRate: 0.25, latencyP99Ms: 120, requestCount: 42, custom: { queueDepth: 3 } }),
    });
    await client.ready;
    const instance = await waitFor('a heartbeat with metrics', async () => {
      const res = await server.gql<{ instance: { lastHeartbeatAt: string | null; metrics: Record<string, unknown> | null } }>(
        `query($id: ID!) { instance(id: $id) { lastHeartbeatAt metrics { errorRate latencyP99Ms requestCount custom } } }`,
        { id: client.instanceId },
      );
      const found = ok(res).instance;
      return found.metrics?.errorRate === 0.25 ? found : undefined;
    });
    expect(instance.metrics).toEqual({ errorRate: 0.25, latencyP99Ms: 120, requestCount: 42, custom: { queueDepth: 3 } });
    expect(new Date(instance.lastHeartbeatAt!).getTime()).toBeGreaterThan(Date.now() - 10_000);
  });

  it('runs the cached config when HotSwap is unreachable', async () => {
    const service = uniqueService('offline');
    const cacheFile = path.join(dir, 'offline.json');
    const profile = `${service}-api`;
    await createProfile(profile, service);
    const online = await startClient(service, { cacheFile });
    await online.client.ready;
    await settled(await deploy(profile, await publish(profile, { mode: 'fast' })));
    await waitFor('the cache file', () => readFile(cacheFile, 'utf8').catch(() => undefined));
    await online.client.stop();

    const warnings: string[] = [];
    const offline = await startClient(service, {
      url: 'http://127.0.0.1:1/graphql',
      cacheFile,
      logger: { info: () => {}, warn: (m) => void warnings.push(m), error: () => {} },
    });
    expect(offline.applied).toEqual([expect.objectContaining({ profileName: profile, version: 1, data: { mode: 'fast' }, deploymentId: null })]);
    expect(offline.client.current(profile)?.data).toEqual({ mode: 'fast' });
    expect(offline.client.instanceId).toBeUndefined();
    await waitFor('a registration retry', () => warnings.some((w) => w.includes('could not register')) || undefined);
  });

  it('reports, and stops, when its instance was deregistered and it has no registration token', async () => {
    const service = uniqueService('ghost');
    const errors: ConfigClientError[] = [];
    const gone = await registerWith(service);
    ok(await server.gql('mutation($id: ID!) { deregisterInstance(id: $id) }', { id: gone.id }));
    const client = createConfigClient({
      url: server.url,
      service,
      environment: ENV,
      token: gone.token,
      onConfig: () => {},
      onError: (e) => void errors.push(e),
    });
    clients.push(client);
    await client.start();
    await expect(client.ready).rejects.toBeInstanceOf(ConfigClientError);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.code).toBe('NOT_FOUND');
  });

  it('renews its instance token before it expires, keeping its instance id and its subscription', async () => {
    const service = uniqueService('expiring');
    const registrationToken = await server.token(Role.INSTANCE, { service, environment: ENV });
    const registered = await server.gql<{ registerInstance: { instance: { id: string } } }>(
      `mutation($i: RegisterInstanceInput!) { registerInstance(input: $i) { instance { id } } }`,
      { i: { service, environment: ENV, host: 'h' } },
      registrationToken,
    );
    const instanceId = ok(registered).registerInstance.instance.id;
    const shortLived = await mintToken(TEST_SECRET, { sub: instanceId, role: Role.INSTANCE, instanceId, service, environment: ENV, expiresInSeconds: 2 });
    const { client, applied } = await startClient(service, { token: shortLived, heartbeatIntervalMs: 60_000 });
    await client.ready;
    await new Promise((r) => setTimeout(r, 3500)); // past the 2 s token's expiry
    expect(client.instanceId).toBe(instanceId);

    const profile = `${service}-p`;
    await createProfile(profile, service);
    const version = await publish(profile, { renewed: true });
    const deploymentId = await deploy(profile, version);
    await waitFor('the push after renewal', () => applied.find((u) => u.deploymentId === deploymentId));
    expect(client.instanceId).toBe(instanceId);
  });

  it('refuses a bad registration token in start()', async () => {
    const service = uniqueService('refused');
    const client = createConfigClient({
      url: server.url,
      service,
      environment: ENV,
      registration: { token: await server.token(Role.INSTANCE, { service: 'another', environment: ENV }) },
      onConfig: () => {},
    });
    clients.push(client);
    await expect(client.start()).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });

  it('deregisters on stop only when asked to', async () => {
    const service = uniqueService('leaving');
    const { client: keeps } = await startClient(service);
    const { client: leaves } = await startClient(service, { deregisterOnStop: true });
    await Promise.all([keeps.ready, leaves.ready]);
    const [keptId, leftId] = [keeps.instanceId, leaves.instanceId];
    await keeps.stop();
    await leaves.stop();
    await leaves.stop(); // idempotent
    const res = await server.gql<{ instances: Array<{ id: string }> }>(`query($s: String!) { instances(service: $s) { id } }`, { s: service });
    expect(ok(res).instances.map((i) => i.id)).toEqual([keptId]);
    expect(leftId).toBeDefined();
  });
});
