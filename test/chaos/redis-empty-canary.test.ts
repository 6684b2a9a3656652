import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { pollUntil } from '../support/wait.js';
import { assertConsistent } from './support/consistency.js';
import { allOn, Cluster, figure, profileOnV1, type SimClient } from './support/cluster.js';
import { sleep } from './support/net.js';
import { type RedisServer, startRedisServer } from './support/redis-server.js';

/**
 * Issue 14 point 4 end to end: Redis (no persistence, as in
 * docker-compose.yml) is killed and comes back empty while a canary bakes its
 * first phase. Two replicas, instances of the client library on both. The
 * registry lost every record; each instance's next heartbeat (or its
 * resubscription) restores it from its token under the same id, so no
 * instance registers again and the canary completes.
 */

const PROFILE = 'redis-empty-canary';

describe('Redis restarted empty while a canary bakes', () => {
  let db: TestDatabase;
  let redis: RedisServer;
  let cluster: Cluster;
  let clients: SimClient[];

  beforeAll(async () => {
    db = await createTestDatabase();
    redis = await startRedisServer({ persistent: false });
    cluster = new Cluster({ databaseUrl: db.url, query: db.query, redisUrl: redis.url });
    const [a, b] = await Promise.all([cluster.start({ name: 'a' }), cluster.start({ name: 'b' })]);
    clients = [...(await cluster.clientsOf(PROFILE, 3, a.url)), ...(await cluster.clientsOf(PROFILE, 3, b.url))];
    await profileOnV1(cluster, PROFILE, clients);
    await sleep(500); // a baseline of heartbeats for the health checks
  }, 90_000);

  afterAll(async () => {
    await cluster?.stop();
    await redis?.close();
    await db?.drop();
  }, 30_000);

  it('no instance registers again under a new id, and the canary COMPLETES', async () => {
    const before = clients.map((c) => c.id);
    const id = await cluster.startDeployment({
      profileName: PROFILE,
      version: 2,
      strategy: 'CANARY',
      canary: { phases: [0.5, 1.0], bakeSeconds: 3 },
      ackTimeoutSeconds: 30,
    });
    const baking = await pollUntil(
      () => cluster.row(id),
      (r) => (r.phase === 1 && r.strategy_state.stage === 'OBSERVE') || r.phase > 1 || !['PENDING', 'IN_PROGRESS'].includes(r.status),
      { timeoutMs: 20_000, intervalMs: 20, what: 'phase 1 to bake' },
    );
    expect(baking).toMatchObject({ status: 'IN_PROGRESS', phase: 1 });

    const restartedAt = Date.now();
    await redis.stop('SIGKILL');
    await redis.start({ empty: true });
    const readyAt = await cluster.readyzAll(200);

    // Every instance is listed again, under the id it had.
    await pollUntil(() => cluster.registryIds(PROFILE), (listed) => before.every((i) => listed.includes(i)), {
      timeoutMs: 15_000,
      intervalMs: 50,
      what: 'every instance restored',
    });
    const restoredAt = Date.now();

    const done = await cluster.waitForEnd(id, 60_000);
    const doneAt = Date.now();
    expect(done.status, await cluster.diagnose(id, clients)).toBe('COMPLETED');
    await allOn(clients, PROFILE, 2);
    expect(clients.map((c) => c.id), 'every instance kept its id').toEqual(before);
    expect(clients.map((c) => c.ids.length), 'no instance registered again').toEqual(clients.map(() => 1));
    expect(clients.flatMap((c) => c.log.filter((l) => l.message === 'registering again'))).toEqual([]);
    expect((await cluster.registryIds(PROFILE)).sort()).toEqual([...before].sort());
    expect((await cluster.targets(id)).map((t) => t.state)).toEqual(before.map(() => 'APPLIED'));

    await assertConsistent({
      query: cluster.query,
      instances: clients.map((c) => ({ id: c.id, service: PROFILE, version: (p: string) => c.version(p) })),
      registry: (s) => cluster.registryIds(s),
    });
    figure('Redis restarted empty during a canary', '/readyz 200 again after restart', readyAt - restartedAt);
    figure('Redis restarted empty during a canary', 'every instance restored under its id after restart', restoredAt - restartedAt);
    figure('Redis restarted empty during a canary', 'restart to deployment COMPLETED', doneAt - restartedAt);
  }, 120_000);
});
