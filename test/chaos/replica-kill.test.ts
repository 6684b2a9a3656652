import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { pollUntil } from '../support/wait.js';
import { type Balancer, startBalancer } from './support/balancer.js';
import { type RedisServer, startRedisServer } from './support/redis-server.js';
import { allOn, Cluster, figure, pidOf, profileOnV1, type Replica } from './support/cluster.js';
import { assertConsistent } from './support/consistency.js';

/**
 * kill -9 of the replica running a canary, once in each of its four phases:
 * the other replica takes the deployment over when the lease (1.5 s) runs
 * out, continues it from the persisted phase, and it completes. Instances sit
 * behind a load balancer and reconnect to the survivor by themselves.
 */

const PHASES = [0.25, 0.5, 0.75, 1.0];
/** Where in the phase the runner dies: as the phase's pushes go out, or while it bakes. */
const CASES = [
  { phase: 1, stage: 'ROLLOUT' },
  { phase: 2, stage: 'OBSERVE' },
  { phase: 3, stage: 'ROLLOUT' },
  { phase: 4, stage: 'OBSERVE' },
] as const;

describe('kill -9 of the replica running a canary', () => {
  let db: TestDatabase;
  let cluster: Cluster;
  let balancer: Balancer;
  let redis: RedisServer;

  /** Two live replicas behind the balancer (a killed one is replaced). */
  async function twoReplicas(): Promise<Replica[]> {
    while (cluster.live().length < 2) await cluster.start();
    balancer.setBackends(cluster.live().map((r) => r.port));
    return cluster.live();
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    redis = await startRedisServer();
    cluster = new Cluster({ databaseUrl: db.url, query: db.query, redisUrl: redis.url });
    balancer = await startBalancer();
    await Promise.all([cluster.start(), cluster.start()]);
    await twoReplicas();
  }, 90_000);

  afterAll(async () => {
    await cluster?.stop();
    await balancer?.close();
    await redis?.close();
    await db?.drop();
  }, 30_000);

  it.each(CASES)('killed in phase $phase ($stage): the survivor takes over and the canary completes', async ({ phase, stage }) => {
    const [a, b] = await twoReplicas();
    const name = `kill-p${phase}`;
    // Applying takes 250 ms, so each ROLLOUT stage lasts long enough to be caught by the 10 ms poll on a loaded machine.
    const clients = await cluster.clientsOf(name, 4, balancer.graphqlUrl, { applyMs: 250 });
    await profileOnV1(cluster, name, clients);
    // A baseline of heartbeats exists for the health checks.
    await new Promise((r) => setTimeout(r, 500));

    const id = await cluster.startDeployment({
      profileName: name,
      version: 2,
      strategy: 'CANARY',
      canary: { phases: PHASES, bakeSeconds: 1 },
      ackTimeoutSeconds: 10,
    });
    const at = await pollUntil(
      () => cluster.row(id),
      (r) => (r.phase === phase && (r.strategy_state.stage ?? 'ROLLOUT') === stage) || r.phase > phase || !['PENDING', 'IN_PROGRESS'].includes(r.status),
      { timeoutMs: 30_000, intervalMs: 10, what: `phase ${phase} (${stage})` },
    );
    expect(at).toMatchObject({ status: 'IN_PROGRESS', phase });
    const victim = [a!, b!].find((r) => r.pid === pidOf(at.lease_owner));
    expect(victim, `lease owner ${at.lease_owner} is one of the replicas`).toBeDefined();
    const survivor = victim === a ? b! : a!;

    const killedAt = Date.now();
    expect(await cluster.kill(victim!, 'SIGKILL')).toBeNull();
    balancer.setBackends([survivor.port]);

    const taken = await pollUntil(() => cluster.row(id), (r) => pidOf(r.lease_owner) === survivor.pid || r.status === 'COMPLETED', {
      timeoutMs: 15_000,
      intervalMs: 20,
      what: 'the survivor to take the lease',
    });
    const takeoverMs = Date.now() - killedAt;
    // (A takeover that completes at once, in the phase 4 bake, may go straight to COMPLETED.)
    expect(['IN_PROGRESS', 'COMPLETED']).toContain(taken.status);
    expect(taken.phase).toBeGreaterThanOrEqual(phase);

    const done = await cluster.waitForEnd(id, 45_000);
    const completedMs = Date.now() - killedAt;
    expect(done.status, await cluster.diagnose(id, clients)).toBe('COMPLETED');

    // Continued from the persisted phase, never restarted: each phase started, completed and was judged once.
    const events = await cluster.events(id);
    expect(events.filter((e) => e.type === 'PHASE_STARTED').map((e) => e.phase)).toEqual([1, 2, 3, 4]);
    expect(events.filter((e) => e.type === 'PHASE_COMPLETED').map((e) => e.phase)).toEqual([1, 2, 3, 4]);
    // (Periodic checks, "periodic check: …", may come in between; each phase's own judgment is there once.)
    expect(events.filter((e) => e.type === 'HEALTH_CHECKED' && !e.message?.startsWith('periodic')).map((e) => e.phase)).toEqual([1, 2, 3, 4]);
    expect(events.at(-1)!.type).toBe('COMPLETED');
    // Completed by the survivor: after the kill.
    expect(events.at(-1)!.at.getTime()).toBeGreaterThan(killedAt);
    await allOn(clients, name, 2);

    const report = await assertConsistent({
      query: cluster.query,
      instances: clients.map((c) => ({ id: c.id, service: name, version: (p: string) => c.version(p) })),
      registry: (s) => cluster.registryIds(s),
    });
    expect(report.deployments.find((d) => d.id === id)?.status).toBe('COMPLETED');
    figure(`kill -9 in phase ${phase} (${stage})`, 'lease takeover after kill', takeoverMs);
    figure(`kill -9 in phase ${phase} (${stage})`, 'kill to COMPLETED', completedMs);
    await Promise.all(clients.map((c) => c.stop()));
  }, 90_000);
});
