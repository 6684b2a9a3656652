import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Environment, Role } from '../../src/domain/enums.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';
import { pollUntil } from '../support/wait.js';
import { connectWs, type TestWsClient } from '../support/ws-client.js';

const SUBSCRIBE = 'subscription($id: ID!) { configUpdates(instanceId: $id) { version deploymentId } }';

/** Redis (registry and pub/sub) unreachable for 5 s in the middle of a deployment. */
describe('Redis dropping during a deployment', () => {
  let proxy: TcpProxy;
  let server: TestServer;
  const sockets: TestWsClient[] = [];

  beforeAll(async () => {
    const redis = new URL(inject('redisUrl'));
    proxy = await startTcpProxy({ host: redis.hostname, port: Number(redis.port || 6379) });
    server = await startTestServer({ REDIS_URL: proxy.url('redis:') });
  });
  afterAll(async () => {
    await Promise.all(sockets.map((s) => s.dispose()));
    await server.stop();
    await proxy.close();
  });

  it('refuses to start with UNAVAILABLE while Redis is down, then delivers once it is back and completes', async () => {
    await server.gql('mutation { createProfile(input: { name: "outage", service: "outage", environment: STAGING }) { name } }');
    await server.gql('mutation { publishVersion(profileName: "outage", input: { data: { v: 1 } }) { version } }');
    const reg = await server.token(Role.INSTANCE, { service: 'outage', environment: Environment.STAGING });
    const fleet = [];
    for (let i = 0; i < 3; i++) {
      const res = await server.gql<{ registerInstance: { instance: { id: string }; token: string } }>(
        'mutation { registerInstance(input: { service: "outage", environment: STAGING, host: "h" }) { instance { id } token } }',
        {},
        reg,
      );
      const inst = { id: res.data!.registerInstance.instance.id, token: res.data!.registerInstance.token };
      const client = connectWs(server.url, inst.token);
      sockets.push(client);
      const sub = client.subscribe<{ configUpdates: { version: number; deploymentId: string | null } }>(SUBSCRIBE, { id: inst.id });
      fleet.push({ ...inst, sub });
    }
    await new Promise((r) => setTimeout(r, 300));

    proxy.cut();
    const refused = await server.gql('mutation { startDeployment(input: { profileName: "outage", version: 1, strategy: DIRECT }) { id } }');
    expect(refused.errors?.[0]?.extensions?.code).toBe('UNAVAILABLE');
    const none = await server.gql<{ deployments: { totalCount: number } }>('{ deployments(profileName: "outage") { totalCount } }');
    expect(none.data?.deployments.totalCount).toBe(0);
    proxy.restore();

    const started = await server.gql<{ startDeployment: { id: string } }>(
      'mutation { startDeployment(input: { profileName: "outage", version: 1, strategy: DIRECT, ackTimeoutSeconds: 30 }) { id } }',
    );
    proxy.cut(); // pushes may be on their way: they are sent again until answered
    await new Promise((r) => setTimeout(r, 5000));
    proxy.restore();

    const id = started.data?.startDeployment.id;
    expect(started.errors, JSON.stringify(started.errors)).toBeUndefined();
    for (const inst of fleet) {
      const update = await inst.sub.next(15_000);
      expect(update.data?.configUpdates).toEqual({ version: 1, deploymentId: id });
      const acked = await server.gql(
        'mutation($i: ID!) { reportConfigApplied(instanceId: $i, profileName: "outage", version: 1, success: true) }',
        { i: inst.id },
        inst.token,
      );
      expect(acked.errors).toBeUndefined();
    }
    const readStatus = async () =>
      (await server.gql<{ deployment: { status: string } }>('query($id: ID!) { deployment(id: $id) { status } }', { id })).data!.deployment.status;
    const status = await pollUntil(readStatus, (s) => s === 'COMPLETED', { timeoutMs: 10_000, what: 'COMPLETED' });
    expect(status).toBe('COMPLETED');
  }, 40_000);
});
