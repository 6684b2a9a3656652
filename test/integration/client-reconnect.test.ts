import { afterEach, describe, expect, inject, it } from 'vitest';
import { type RunningApp, startApp } from '../../src/app.js';
import { type ConfigClient, type ConfigUpdate, createConfigClient } from '../../src/client/index.js';
import { loadConfig } from '../../src/config.js';
import { Environment, Role } from '../../src/domain/enums.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { startTestServer, TEST_REDIS_PREFIX, TEST_SECRET, type TestServer } from '../support/server.js';
import { ok } from '../support/api.js';
import { waitFor } from '../support/wait.js';

const ENV = Environment.STAGING;


/**
 * The server goes away and a new one comes up on the same port and database:
 * the client reconnects by itself and keeps receiving pushes.
 */
describe('instance client across a server restart', () => {
  let server: TestServer | undefined;
  let restarted: RunningApp | undefined;
  let client: ConfigClient | undefined;
  let firstAppStopped = false;

  afterEach(async () => {
    await client?.stop();
    await restarted?.stop();
    if (server && !firstAppStopped) await server.app.stop();
    await server?.db.drop();
    [server, restarted, client, firstAppStopped] = [undefined, undefined, undefined, false];
  });

  /** Starts a server, a client of a fresh service with v1 deployed to it, then stops the server. */
  async function connectedThenServerDown(env: Record<string, string>) {
    server = await startTestServer(env);
    const s = server;
    const service = `restart-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    const profile = `${service}-api`;
    const applied: ConfigUpdate[] = [];
    const logs: string[] = [];
    client = createConfigClient({
      url: s.url,
      service,
      environment: ENV,
      registration: { token: await s.token(Role.INSTANCE, { service, environment: ENV }) },
      onConfig: (u) => void applied.push(u),
      reconnect: { initialDelayMs: 100, maxDelayMs: 400 },
      logger: { info: (m) => void logs.push(m), warn: (m) => void logs.push(m), error: (m) => void logs.push(m) },
      deregisterOnStop: true,
    });
    await client.start();
    await client.ready;
    ok(await s.gql(`mutation($i: CreateProfileInput!) { createProfile(input: $i) { id } }`, { i: { name: profile, service, environment: ENV } }));
    const deployed = async (config: Record<string, unknown>) => {
      const v = await s.gql<{ publishVersion: { version: number } }>(
        `mutation($p: String!, $i: PublishVersionInput!) { publishVersion(profileName: $p, input: $i) { version } }`,
        { p: profile, i: { data: config } },
      );
      const started = await s.gql<{ startDeployment: { id: string } }>(`mutation($i: StartDeploymentInput!) { startDeployment(input: $i) { id } }`, {
        i: { profileName: profile, version: ok(v).publishVersion.version, strategy: 'DIRECT' },
      });
      const id = ok(started).startDeployment.id;
      return waitFor(`deployment ${id}`, async () => {
        const d = ok(await s.gql<{ deployment: { status: string } }>(`query($id: ID!) { deployment(id: $id) { status } }`, { id })).deployment;
        return ['COMPLETED', 'FAILED'].includes(d.status) ? d.status : undefined;
      });
    };
    expect(await deployed({ step: 1 })).toBe('COMPLETED');
    expect(applied.map((u) => u.version)).toEqual([1]);

    await s.app.stop();
    firstAppStopped = true;
    await waitFor('the client to notice', () => logs.some((m) => m.startsWith('connection to HotSwap lost')) || undefined);
    restarted = await startApp(
      loadConfig({
        PORT: String(s.app.port),
        HOST: '127.0.0.1',
        DATABASE_URL: s.db.url,
        JWT_SECRET: TEST_SECRET,
        RATE_LIMIT_PER_SECOND: '0',
        LOG_LEVEL: 'silent',
        HOTSWAP_REDIS_PREFIX: TEST_REDIS_PREFIX,
        ...env,
      }),
      createLogger('silent'),
    );
    expect(restarted.url).toBe(s.url);
    /** The client logs once the socket is acknowledged; the server counts the instance once it handled the subscribe that follows. */
    const resubscribed = async () => {
      await waitFor('the resubscription', () => logs.filter((m) => m === 'subscribed to config updates').length >= 2 || undefined);
      await waitFor('the server to count the subscription', async () => {
        const res = await s.gql<{ instance: { connected: boolean } | null }>(`query($id: ID!) { instance(id: $id) { connected } }`, { id: client!.instanceId });
        return ok(res).instance?.connected || undefined;
      });
    };
    return { client, applied, logs, deployed, resubscribed };
  }

  it('reconnects and resubscribes by itself; the re-sent config is not applied twice', async () => {
    // Redis keeps the instance registry across the restart, so the same registration lives on.
    const { client, applied, logs, deployed, resubscribed } = await connectedThenServerDown({ REDIS_URL: inject('redisUrl') });
    const instanceId = client.instanceId;
    await resubscribed();

    expect(await deployed({ step: 2 })).toBe('COMPLETED');
    expect(applied.map((u) => u.version)).toEqual([1, 2]);
    expect(client.current(applied[1]!.profileName)?.data).toEqual({ step: 2 });
    expect(client.instanceId).toBe(instanceId);
    expect(logs).not.toContain('registering again');
  });

  it('keeps its instance id when the new server lost the in-process registry: its token restores it; pushes go on', async () => {
    // Without Redis the registry is in memory: the restarted server has forgotten the instance, and its token restores it.
    const { client, applied, logs, deployed, resubscribed } = await connectedThenServerDown({});
    const instanceId = client.instanceId;
    await resubscribed();

    expect(await deployed({ step: 2 })).toBe('COMPLETED');
    expect(applied.map((u) => u.version)).toEqual([1, 2]);
    expect(client.instanceId).toBe(instanceId);
    expect(logs).not.toContain('registering again');
  });
});
