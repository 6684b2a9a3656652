import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { pollUntil } from '../support/wait.js';
import { type Balancer, startBalancer } from './support/balancer.js';
import { type RedisServer, startRedisServer } from './support/redis-server.js';
import { allOn, Cluster, figure, profileOnV1, type SimClient } from './support/cluster.js';

/**
 * A replica restart under a fleet: kill -9 of the only replica while a DIRECT
 * deployment awaits the acks of a thousand instances, and a new replica in its
 * place. Every instance reconnects at once (the real client library, behind a
 * load balancer), resubscribes under its own id, and gets its assigned
 * version; the new replica takes the deployment over and it completes. The
 * same storm at 10,000 instances is timed by `npm run bench:fanout`.
 */
const FLEET = 1000;
const TEST = 'reconnect storm';

describe('a reconnect storm after a replica restart', () => {
  let db: TestDatabase;
  let cluster: Cluster;
  let balancer: Balancer;
  let redis: RedisServer;
  let clients: SimClient[];

  beforeAll(async () => {
    db = await createTestDatabase();
    redis = await startRedisServer();
    cluster = new Cluster({
      databaseUrl: db.url,
      query: db.query,
      redisUrl: redis.url,
      env: { HOTSWAP_MAX_SUBSCRIPTIONS_PER_CALLER: '100000', HOTSWAP_HEARTBEAT_INTERVAL_MS: '30000' },
    });
    balancer = await startBalancer();
    balancer.setBackends([(await cluster.start()).port]);
    clients = await cluster.clientsOf('storm', FLEET, balancer.graphqlUrl, { heartbeatIntervalMs: 30_000, applyMs: 200, maxDelayMs: 1000 });
    await profileOnV1(cluster, 'storm', clients);
  }, 180_000);

  afterAll(async () => {
    await cluster?.stop();
    await balancer?.close();
    await redis?.close();
    await db?.drop();
  }, 60_000);

  it(`${FLEET} instances resubscribe under their own ids, each gets its assigned version, and the deployment completes`, async () => {
    const [old] = cluster.live();
    const id = await cluster.startDeployment({ profileName: 'storm', version: 2, strategy: 'DIRECT', direct: { maxConcurrency: FLEET }, ackTimeoutSeconds: 60 });
    // Killed while the pushes are out and the acks come in (applying takes 200 ms).
    await pollUntil(() => cluster.targets(id), (ts) => ts.some((t) => t.state === 'PUSHED'), { timeoutMs: 20_000, intervalMs: 10, what: 'pushes out' });
    await cluster.kill(old!);
    const restartedAt = Date.now();
    const next = await cluster.start();
    balancer.setBackends([next.port]);
    const upAt = Date.now();

    const resubscribedAt = (c: SimClient) => c.log.find((l) => l.at > restartedAt && l.message === 'subscribed to config updates')?.at;
    await pollUntil(async () => clients.filter((c) => resubscribedAt(c) !== undefined).length, (n) => n === FLEET, {
      timeoutMs: 60_000,
      intervalMs: 100,
      what: `all ${FLEET} resubscribed`,
    });
    const times = clients.map((c) => resubscribedAt(c)! - upAt).sort((a, b) => a - b);
    figure(TEST, `resubscribed after the new replica listened, p50 / p90 / last`, `${times[FLEET >> 1]} / ${times[Math.floor(FLEET * 0.9)]} / ${times.at(-1)} ms`);
    await allOn(clients, 'storm', 2, 60_000);
    figure(TEST, `all ${FLEET} on version 2, after the new replica listened`, Date.now() - upAt);

    const row = await cluster.waitForEnd(id, 60_000);
    expect(row.status, await cluster.diagnose(id)).toBe('COMPLETED');
    // Nobody registered again under a new id: the registry in Redis kept every one.
    expect(clients.filter((c) => c.ids.length !== 1)).toEqual([]);
    const registered = new Set(await cluster.registryIds('storm'));
    expect(clients.filter((c) => !registered.has(c.id))).toEqual([]);
    const states = (await cluster.targets(id)).map((t) => t.state);
    expect(states.filter((s) => s !== 'APPLIED')).toEqual([]);
    expect(states).toHaveLength(FLEET);
  }, 240_000);
});
