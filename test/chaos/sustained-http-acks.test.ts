import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONFIG_UPDATES, type ConfigUpdateMsg, REGISTER, REPORT_APPLIED } from '../support/fleet.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { connectWs, type TestWsClient } from '../support/ws-client.js';
import { pollUntil } from '../support/wait.js';
import { type RedisServer, startRedisServer } from './support/redis-server.js';
import { Cluster, figure, type Replica } from './support/cluster.js';

/**
 * Round after round of DIRECT deployments to a thousand instances that ack
 * over HTTP (which docs/PROTOCOL.md allows), all at once as each push lands,
 * against one replica of the built service: every deployment completes, every
 * instance acks each version once, pushes are not re-sent into the load
 * (re-sends back off and fit a budget), and the replica never loses its own lease. At
 * 10,000 instances the same is timed by `npm run bench:fanout`.
 */
const FLEET = 1000;
const ROUNDS = 4;
const TEST = 'sustained HTTP acks';

interface Instance {
  id: string;
  token: string;
  ws: TestWsClient;
  /** Versions received, in order. */
  received: number[];
  /** Versions whose ack HotSwap accepted. */
  accepted: number[];
  failures: unknown[];
}

describe(`sustained HTTP acks from ${FLEET} instances`, () => {
  let db: TestDatabase;
  let redis: RedisServer;
  let cluster: Cluster;
  let replica: Replica;
  const fleet: Instance[] = [];

  async function ack(i: Instance, update: ConfigUpdateMsg): Promise<void> {
    try {
      const r = await cluster.gql<{ reportConfigApplied: boolean }>(replica, REPORT_APPLIED, { id: i.id, p: update.profileName, v: update.version, ok: true, ms: 1, err: null }, i.token);
      if (r.data?.reportConfigApplied) i.accepted.push(update.version);
      else i.failures.push(r.errors);
    } catch (error) {
      i.failures.push(error);
    }
  }

  async function start(n: number): Promise<Instance> {
    const registrar = await cluster.registrationToken('acks');
    const r = await cluster.gql<{ registerInstance: { token: string; instance: { id: string } } }>(
      replica, REGISTER, { input: { service: 'acks', environment: 'STAGING', host: `acks-${n}` } }, registrar,
    );
    const { token, instance } = r.data!.registerInstance;
    const i: Instance = { id: instance.id, token, ws: connectWs(replica.url, token), received: [], accepted: [], failures: [] };
    i.ws.client.subscribe<{ configUpdates: ConfigUpdateMsg }>(
      { query: CONFIG_UPDATES, variables: { id: i.id } },
      {
        next: (m) => {
          const u = m.data?.configUpdates;
          if (!u) return void i.failures.push(m.errors);
          i.received.push(u.version);
          if (u.deploymentId !== null) void ack(i, u);
        },
        error: (e) => i.failures.push(e),
        complete: () => {},
      },
    );
    return i;
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    redis = await startRedisServer();
    cluster = new Cluster({ databaseUrl: db.url, query: db.query, redisUrl: redis.url, env: { HOTSWAP_MAX_SUBSCRIPTIONS_PER_CALLER: '100000', HOTSWAP_LEASE_MS: '5000' } });
    replica = await cluster.start();
    await cluster.createProfile('acks');
    await cluster.publish('acks', { round: 0 });
    for (let batch = 0; batch < FLEET; batch += 50) fleet.push(...(await Promise.all(Array.from({ length: 50 }, (_, k) => start(batch + k)))));
    // Every instance subscribed and counted connected: all are targets.
    await pollUntil(
      async () => (await cluster.anyGql<{ instances: Array<{ connected: boolean }> }>('{ instances(service: "acks") { connected } }')).instances,
      (all) => all.length === FLEET && all.every((i) => i.connected),
      { timeoutMs: 60_000, intervalMs: 200, what: `all ${FLEET} connected` },
    );
  }, 180_000);

  afterAll(async () => {
    await Promise.allSettled(fleet.map((i) => i.ws.dispose()));
    await cluster?.stop();
    await redis?.close();
    await db?.drop();
  }, 60_000);

  it(`${ROUNDS} deployments in a row all complete, each version acked once per instance, nothing re-sent, the lease kept`, async () => {
    for (let round = 1; round <= ROUNDS; round++) {
      const version = await cluster.publish('acks', { round });
      const t0 = Date.now();
      const id = await cluster.startDeployment({ profileName: 'acks', version, strategy: 'DIRECT', direct: { maxConcurrency: FLEET }, ackTimeoutSeconds: 120 });
      const row = await cluster.waitForEnd(id, 120_000);
      expect(row.status, await cluster.diagnose(id)).toBe('COMPLETED');
      figure(TEST, `round ${round}: ${FLEET} acked over HTTP, COMPLETED after`, Date.now() - t0);
      expect(fleet.filter((i) => i.accepted.filter((v) => v === version).length !== 1)).toEqual([]);
    }
    expect(fleet.flatMap((i) => i.failures)).toEqual([]);
    // Each version pushed once, at most once more if its ack took over 5 s: re-sends back off instead of feeding the load.
    const overSent = fleet.filter((i) => [...new Set(i.received)].some((v) => i.received.filter((x) => x === v).length > 2));
    expect(overSent.map((i) => i.received)).toEqual([]);
    figure(TEST, 're-sent pushes', fleet.reduce((n, i) => n + i.received.length - new Set(i.received).size, 0), '');
    expect(replica.process.output()).not.toMatch(/lost the lease/);
  }, 600_000);
});
