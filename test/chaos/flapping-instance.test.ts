import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { allOn, Cluster, figure, profileOnV1, type Replica, type SimClient } from './support/cluster.js';
import { assertConsistent } from './support/consistency.js';
import { type FlappingLink, startFlappingLink } from './support/flapping-link.js';
import { sleep } from './support/net.js';
import { type RedisServer, startRedisServer } from './support/redis-server.js';

/**
 * One instance (the client library) whose connection to HotSwap drops every
 * 200 ms, through a rolling deployment to it and five steady instances: its
 * websocket, heartbeats and acks all go through a link cut every 200 ms, and
 * it reconnects each time.
 */

const PROFILE = 'flapper';

describe('an instance that connects and drops every 200 ms during a rolling deployment', () => {
  let db: TestDatabase;
  let redis: RedisServer;
  let cluster: Cluster;
  let server: Replica;
  let link: FlappingLink;
  let steadyOnes: SimClient[];
  let flapper: SimClient;

  beforeAll(async () => {
    [db, redis] = await Promise.all([createTestDatabase(), startRedisServer()]);
    cluster = new Cluster({ databaseUrl: db.url, query: db.query, redisUrl: redis.url });
    server = await cluster.start();
    link = await startFlappingLink(server.port);
    steadyOnes = await cluster.clientsOf(PROFILE, 5, server.url);
    // Reconnects quickly, as a client whose backoff is short (its ceiling: 200 ms).
    flapper = (await cluster.clientsOf(PROFILE, 1, link.graphqlUrl, { maxDelayMs: 200 }))[0]!;
    await profileOnV1(cluster, PROFILE, [...steadyOnes, flapper]);
    await sleep(400);
  }, 90_000);

  afterAll(async () => {
    await cluster?.stop();
    await link?.close();
    await redis?.close();
    await db?.drop();
  }, 30_000);

  it('the deployment completes, every instance is on the new version, and the flapper runs what it is assigned', async () => {
    const subscribedBefore = flapper.log.filter((l) => l.message === 'subscribed to config updates').length;
    link.flap(200);
    await sleep(600);
    const startedAt = Date.now();
    const id = await cluster.startDeployment({
      profileName: PROFILE,
      version: 2,
      strategy: 'ROLLING',
      rolling: { batchSize: 2, intervalSeconds: 1 },
      ackTimeoutSeconds: 10,
    });
    const done = await cluster.waitForEnd(id, 60_000);
    const endedAt = Date.now();
    const drops = link.drops;
    link.steady();
    const subscriptions = flapper.log.filter((l) => l.message === 'subscribed to config updates').length - subscribedBefore;

    expect(done.status, await cluster.diagnose(id, [flapper])).toBe('COMPLETED');
    // It really flapped throughout: dropped and subscribed again many times.
    expect(drops).toBeGreaterThanOrEqual(Math.floor((endedAt - startedAt) / 400));
    expect(subscriptions).toBeGreaterThanOrEqual(5);
    const targets = await cluster.targets(id);
    // Targets are the instances connected when it starts: the flapper is one unless it was between two connections then
    // (it is sent the version when the deployment completes, checked below).
    const targetIds = targets.map((t) => t.instance_id).sort();
    expect([steadyOnes.map((c) => c.id).sort(), [...steadyOnes, flapper].map((c) => c.id).sort()]).toContainEqual(targetIds);
    expect(targets.every((t) => t.state === 'APPLIED')).toBe(true);
    await allOn(steadyOnes, PROFILE, 2);
    expect(flapper.ids, 'the flapper kept its registration').toHaveLength(1);

    // Once it stays connected, it runs the version assigned to it (checked with the others).
    await assertConsistent({
      query: cluster.query,
      instances: [...steadyOnes, flapper].map((c) => ({ id: c.id, service: PROFILE, version: (p: string) => c.version(p) })),
      registry: (s) => cluster.registryIds(s),
    });
    expect(flapper.version(PROFILE)).toBe(2);
    figure('flapping instance', 'rolling deployment duration (6 instances, batches of 2, 1 s apart)', endedAt - startedAt);
    figure('flapping instance', 'link drops / flapper subscriptions during it', `${drops} / ${subscriptions}`);
  }, 90_000);
});
