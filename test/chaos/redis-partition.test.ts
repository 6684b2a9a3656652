import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';
import { pollUntil } from '../support/wait.js';
import { allOn, Cluster, figure, pidOf, profileOnV1, type Replica, type SimClient } from './support/cluster.js';
import { assertConsistent } from './support/consistency.js';
import { sleep } from './support/net.js';
import { type RedisServer, startRedisServer } from './support/redis-server.js';

/**
 * One replica cut off from Redis for 10 s (its Redis connections go through a
 * proxy the test cuts; the other replica and PostgreSQL stay reachable) while
 * a deployment goes out to instances on both replicas. The cut-off replica's
 * instances miss the pushes; they are sent again every 5 s until acked, and
 * arrive once the partition heals.
 */

const PARTITION_MS = 10_000;
const PROFILE = 'partition';

describe('a replica partitioned from Redis for 10 s', () => {
  let db: TestDatabase;
  let redis: RedisServer;
  let proxy: TcpProxy;
  let cluster: Cluster;
  let a: Replica;
  let b: Replica;
  let onA: SimClient[];
  let onB: SimClient[];

  beforeAll(async () => {
    [db, redis] = await Promise.all([createTestDatabase(), startRedisServer()]);
    proxy = await startTcpProxy({ host: '127.0.0.1', port: redis.port });
    cluster = new Cluster({ databaseUrl: db.url, query: db.query, redisUrl: redis.url });
    [a, b] = await Promise.all([cluster.start({ name: 'a' }), cluster.start({ name: 'b', redisUrl: proxy.url('redis:') })]);
    onA = await cluster.clientsOf(PROFILE, 3, a!.url);
    onB = await cluster.clientsOf(PROFILE, 3, b!.url);
    await profileOnV1(cluster, PROFILE, [...onA, ...onB]);
    await sleep(400);
  }, 90_000);

  afterAll(async () => {
    await cluster?.stop();
    await proxy?.close();
    await redis?.close();
    await db?.drop();
  }, 30_000);

  it("the partitioned replica's instances get the deployment after it heals, and it completes", async () => {
    const cutAt = Date.now();
    proxy.cut();
    // Only the partitioned replica is not ready.
    await pollUntil(async () => [await cluster.readyz(a), await cluster.readyz(b)], (s) => s[0] === 200 && s[1] === 503, {
      timeoutMs: 8000,
      intervalMs: 50,
      what: 'b not ready, a ready',
    });

    const started = await cluster.gql<{ startDeployment: { id: string } }>(
      a,
      'mutation { startDeployment(input: { profileName: "partition", version: 2, strategy: DIRECT, ackTimeoutSeconds: 30 }) { id } }',
    );
    expect(started.errors).toBeUndefined();
    const id = started.data!.startDeployment.id;
    const runner = await pollUntil(() => cluster.row(id), (r) => r.lease_owner !== null, { timeoutMs: 10_000, what: 'a runner' });
    const runBy = pidOf(runner.lease_owner) === a.pid ? 'a' : 'b';

    await sleep(cutAt + PARTITION_MS - Date.now());
    // Cut off from pub/sub, b's instances received nothing; the deployment waits for them.
    expect(onB.map((c) => c.version(PROFILE))).toEqual([1, 1, 1]);
    expect((await cluster.row(id)).status).toBe('IN_PROGRESS');
    if (runBy === 'a') expect(onA.map((c) => c.version(PROFILE))).toEqual([2, 2, 2]);

    const healedAt = Date.now();
    proxy.restore();
    await cluster.readyzAll(200);
    const readyAt = Date.now();
    await allOn(onB, PROFILE, 2, 20_000);
    const bAppliedAt = Math.max(...onB.map((c) => c.appliedAt(PROFILE, 2)!));
    for (const c of onB) expect(c.appliedAt(PROFILE, 2)!).toBeGreaterThanOrEqual(healedAt);

    const done = await cluster.waitForEnd(id, 30_000);
    const doneAt = Date.now();
    expect(done.status, await cluster.diagnose(id, [...onA, ...onB])).toBe('COMPLETED');
    await allOn(onA, PROFILE, 2);
    // Nobody had to register again.
    expect([...onA, ...onB].every((c) => c.ids.length === 1)).toBe(true);

    await assertConsistent({
      query: cluster.query,
      instances: [...onA, ...onB].map((c) => ({ id: c.id, service: PROFILE, version: (p: string) => c.version(p) })),
      registry: (s) => cluster.registryIds(s),
    });
    figure('replica partitioned from Redis', 'deployment run by', runBy === 'a' ? 'the connected replica' : 'the partitioned replica');
    figure('replica partitioned from Redis', "partitioned replica's /readyz 200 after heal", readyAt - healedAt);
    figure('replica partitioned from Redis', "heal to all of its instances on the new version", bAppliedAt - healedAt);
    figure('replica partitioned from Redis', 'heal to deployment COMPLETED', doneAt - healedAt);
  }, 90_000);
});
