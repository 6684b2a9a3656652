import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { pollUntil } from '../support/wait.js';
import { allOn, Cluster, figure, profileOnV1, type Replica, type SimClient } from './support/cluster.js';
import { assertConsistent } from './support/consistency.js';
import { sleep } from './support/net.js';
import { type RedisServer, startRedisServer } from './support/redis-server.js';

/**
 * Redis (registry, pub/sub) stopped for 10 s in the middle of a rolling
 * deployment, two replicas, instances (the client library) on both. First
 * Redis comes back with its data (append-only file), then, in a second
 * deployment, it is killed and comes back empty (no persistence, as in
 * docker-compose.yml): each instance's token restores its registration under
 * the same id, so nobody registers again and the deployment completes.
 */

const OUTAGE_MS = 10_000;
const PROFILE = 'redis-outage';
const REGISTER = 'mutation($s: String!) { registerInstance(input: { service: $s, environment: STAGING, host: "during-outage" }) { token } }';

describe('Redis stopped for 10 s during a rolling deployment', () => {
  let db: TestDatabase;
  let redis: RedisServer;
  let cluster: Cluster;
  let a: Replica;
  let b: Replica;
  let clients: SimClient[];

  const live = () => clients.map((c) => ({ id: c.id, service: PROFILE, version: (p: string) => c.version(p) }));
  const row = (id: string) => cluster.row(id);
  /** Polls until the first batch applied and is being watched (the deployment is under way). */
  const firstBatchDone = (id: string) =>
    pollUntil(
      () => row(id),
      (r) => (r.phase === 1 && r.strategy_state.stage === 'OBSERVE') || r.phase > 1 || !['PENDING', 'IN_PROGRESS'].includes(r.status),
      { timeoutMs: 20_000, intervalMs: 20, what: 'batch 1 applied' },
    );
  /** Last heartbeat per listed instance of the service. */
  const heartbeats = async () => {
    const r = await cluster.anyGql<{ instances: Array<{ id: string; lastHeartbeatAt: string | null }> }>(
      'query($s: String!) { instances(service: $s) { id lastHeartbeatAt } }',
      { s: PROFILE },
    );
    return new Map(r.instances.map((i) => [i.id, i.lastHeartbeatAt === null ? 0 : Date.parse(i.lastHeartbeatAt)]));
  };

  /** While Redis is down: both replicas not ready, and what needs the registry refused as retryable. */
  async function duringOutage(): Promise<void> {
    await cluster.readyzAll(503, 8000);
    const refused = await cluster.gql<unknown>(a, REGISTER, { s: PROFILE }, await cluster.registrationToken(PROFILE));
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'UNAVAILABLE', retryable: true });
    expect(refused.errors?.[0]?.message).toMatch(/redis/i);
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    redis = await startRedisServer({ persistent: true });
    cluster = new Cluster({ databaseUrl: db.url, query: db.query, redisUrl: redis.url });
    [a, b] = await Promise.all([cluster.start({ name: 'a' }), cluster.start({ name: 'b' })]);
    clients = [...(await cluster.clientsOf(PROFILE, 3, a!.url)), ...(await cluster.clientsOf(PROFILE, 3, b!.url))];
    await profileOnV1(cluster, PROFILE, clients);
    await sleep(400);
  }, 90_000);

  afterAll(async () => {
    await cluster?.stop();
    await redis?.close();
    await db?.drop();
  }, 30_000);

  it('back with its data: heartbeats resume under the same ids, pushes resume, and the deployment completes', async () => {
    const id = await cluster.startDeployment({
      profileName: PROFILE,
      version: 2,
      strategy: 'ROLLING',
      rolling: { batchSize: 2, intervalSeconds: 1 },
      ackTimeoutSeconds: 30,
    });
    expect(await firstBatchDone(id)).toMatchObject({ status: 'IN_PROGRESS' });

    const stoppedAt = Date.now();
    await redis.stop('SIGTERM');
    await duringOutage();
    await sleep(stoppedAt + OUTAGE_MS - Date.now());
    // Nothing moved on without Redis: the deployment waits, it did not fail.
    const held = await row(id);
    expect(held.status).toBe('IN_PROGRESS');
    expect(clients.filter((c) => c.version(PROFILE) === 2).length).toBeLessThan(clients.length);

    const restartedAt = Date.now();
    await redis.start();
    const readyAt = await cluster.readyzAll(200);
    // The registry has every instance, under the id it had, heartbeating again.
    await pollUntil(heartbeats, (hb) => clients.every((c) => (hb.get(c.id) ?? 0) > restartedAt), {
      timeoutMs: 15_000,
      intervalMs: 100,
      what: 'every instance to heartbeat again',
    });
    const heartbeatsAt = Date.now();

    const done = await cluster.waitForEnd(id, 40_000);
    const doneAt = Date.now();
    expect(done.status, await cluster.diagnose(id, clients)).toBe('COMPLETED');
    await allOn(clients, PROFILE, 2);
    expect(clients.map((c) => c.ids.length), 'no instance had to register again').toEqual(clients.map(() => 1));

    const report = await assertConsistent({ query: cluster.query, instances: live(), registry: (s) => cluster.registryIds(s) });
    expect(report.instances).toBe(6);
    figure('Redis restarted with its data', '/readyz 200 again after restart', readyAt - restartedAt);
    figure('Redis restarted with its data', 'every instance heartbeating again after restart', heartbeatsAt - restartedAt);
    figure('Redis restarted with its data', 'restart to deployment COMPLETED', doneAt - restartedAt);
  }, 90_000);

  it('back empty: every instance is restored under its id from its token, the deployment in flight completes, and the next one too', async () => {
    const v3 = await cluster.publish(PROFILE, { v: 3 });
    const id = await cluster.startDeployment({
      profileName: PROFILE,
      version: v3,
      strategy: 'ROLLING',
      rolling: { batchSize: 2, intervalSeconds: 1 },
      ackTimeoutSeconds: 30,
    });
    expect(await firstBatchDone(id)).toMatchObject({ status: 'IN_PROGRESS' });
    const before = clients.map((c) => c.id);

    const stoppedAt = Date.now();
    await redis.stop('SIGKILL');
    await duringOutage();
    await sleep(stoppedAt + OUTAGE_MS - Date.now());
    const restartedAt = Date.now();
    await redis.start({ empty: true });
    const readyAt = await cluster.readyzAll(200);

    // The registry lost them: each heartbeat (or resubscription) restores its instance from the token, under the same id.
    await pollUntil(async () => new Set(await cluster.registryIds(PROFILE)), (listed) => before.every((i) => listed.has(i)), {
      timeoutMs: 20_000,
      intervalMs: 100,
      what: 'every instance restored',
    });
    const restoredAt = Date.now();

    const done = await cluster.waitForEnd(id, 40_000);
    const doneAt = Date.now();
    expect(done.status, await cluster.diagnose(id, clients)).toBe('COMPLETED');
    await allOn(clients, PROFILE, v3);
    expect(clients.map((c) => c.id), 'every instance kept its id').toEqual(before);
    expect(clients.map((c) => c.ids.length), 'no instance had to register again').toEqual(clients.map(() => 1));

    // And the next deployment reaches every instance under the same ids.
    const v4 = await cluster.publish(PROFILE, { v: 4 });
    const next = await cluster.startDeployment({ profileName: PROFILE, version: v4, strategy: 'DIRECT', ackTimeoutSeconds: 10 });
    const nextDone = await cluster.waitForEnd(next, 20_000);
    expect(nextDone.status, await cluster.diagnose(next, clients)).toBe('COMPLETED');
    expect((await cluster.targets(next)).map((t) => t.instance_id).sort()).toEqual([...before].sort());
    await allOn(clients, PROFILE, v4);

    await assertConsistent({ query: cluster.query, instances: live(), registry: (s) => cluster.registryIds(s) });
    figure('Redis restarted empty', '/readyz 200 again after restart', readyAt - restartedAt);
    figure('Redis restarted empty', 'every instance restored under its id after restart', restoredAt - restartedAt);
    figure('Redis restarted empty', 'restart to the deployment in flight COMPLETED', doneAt - restartedAt);
  }, 90_000);
});
