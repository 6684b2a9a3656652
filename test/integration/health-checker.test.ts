import type { MikroORM } from '@mikro-orm/postgresql';
import { randomUUID } from 'node:crypto';
import { type Logger, pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { PushMessage } from '../../src/delivery/push-message.js';
import { INITIAL_STRATEGY_STATE, type StrategyOptions, withPolicyDefaults } from '../../src/domain/deployment-model.js';
import { DeploymentStatus, DeploymentStrategy, Environment } from '../../src/domain/enums.js';
import type { InstanceMetrics } from '../../src/domain/instance.js';
import { DeploymentEventPublisher } from '../../src/orchestrator/events.js';
import { HealthMonitor } from '../../src/orchestrator/health-monitor.js';
import { Orchestrator } from '../../src/orchestrator/orchestrator.js';
import { createPubSub } from '../../src/pubsub/pubsub.js';
import { MemoryInstanceRegistry } from '../../src/registry/memory-registry.js';
import { Database } from '../../src/store/database.js';
import { openOrm } from '../../src/store/orm.js';
import { HealthChecker, type LeaseHolder } from '../../src/workers/health-checker.js';
import { Scheduler } from '../../src/workers/scheduler.js';
import { api, type Api, createProfile, ok, publish } from '../support/api.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { deployAndWait, type Fleet, HEALTH_FIELDS, type SimInstance, startDeployment, startFleet, waitForDeployment } from '../support/fleet.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { pollUntil } from '../support/wait.js';
import { recordingHub } from '../support/recording-hub.js';
import { HEALTHY as FLEET_HEALTHY } from '../support/fleet.js';

const HEALTHY: InstanceMetrics = FLEET_HEALTHY;
const DEGRADED: InstanceMetrics = { errorRate: 0.3, latencyP99Ms: 480, requestCount: 200 };
const LEASE_MS = 60_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Held {
  id: string;
  profileName: string;
  service: string;
  /** Phase-1 targets (the rest are in phase 2). */
  first: string[];
}

interface EventRow {
  type: string;
  message: string | null;
}

/** The worker with a real orchestrator on PostgreSQL, and a fake lease holder in place of the deployment runner. */
describe('health-check worker', () => {
  let tdb: TestDatabase;
  let orm: MikroORM;
  let db: Database;
  let registry: MemoryInstanceRegistry;
  let health: HealthMonitor;
  let orchestrator: Orchestrator;
  const published: PushMessage[] = [];
  const logLines: Array<Record<string, unknown>> = [];
  let logger: Logger;
  const OWNER = 'checker-replica';
  let counter = 0;

  beforeAll(async () => {
    tdb = await createTestDatabase();
    orm = await openOrm(tdb.url, { poolMax: 4 });
    db = new Database(orm);
    logger = pino({ level: 'warn' }, { write: (line: string) => void logLines.push(JSON.parse(line) as Record<string, unknown>) });
    const pubsub = createPubSub(undefined, pino({ level: 'silent' }));
    const spy = recordingHub(pubsub, published);
    registry = new MemoryInstanceRegistry();
    health = new HealthMonitor(registry);
    orchestrator = new Orchestrator(db, spy, new DeploymentEventPublisher(pubsub), registry, health, pino({ level: 'silent' }));
  });
  afterAll(async () => {
    await orm?.close();
    await tdb?.drop();
  });

  const holder = (ids: () => string[], wake: (id: string) => void = () => {}): LeaseHolder & { wake: ReturnType<typeof vi.fn> } => ({
    owner: OWNER,
    heldIds: ids,
    wake: vi.fn(wake),
  });
  const checker = (h: LeaseHolder, intervalMs = 30_000) => new HealthChecker(orchestrator, h, logger, { intervalMs });

  /**
   * A deployment of version 2 over version 1 with two phases, leased by OWNER,
   * run until phase 1 applied and bakes (30 s), its updated instances then
   * reporting `metrics`. `applied: false` stops after the push, before any ack.
   */
  async function deployment(
    o: { strategy?: DeploymentStrategy; autoRollback?: boolean; metrics?: InstanceMetrics; applied?: boolean; owner?: string } = {},
  ): Promise<Held> {
    const n = ++counter;
    const strategy = o.strategy ?? DeploymentStrategy.CANARY;
    const profileName = `checked-${n}`;
    const service = `checked-svc-${n}`;
    const profileId = randomUUID();
    await tdb.query(
      `insert into config_profile (id, name, service, environment, last_version, active_version, created_at, updated_at)
       values ($1, $2, $3, 'STAGING', 2, 1, now(), now())`,
      [profileId, profileName, service],
    );
    for (const v of [1, 2]) {
      await tdb.query(
        `insert into config_version (id, profile_id, version, data, hash, created_by, created_at) values ($1, $2, $3, $4, $5, 't', now())`,
        [randomUUID(), profileId, v, JSON.stringify({ v }), `h${v}`],
      );
    }
    const first = [`${service}-a`];
    const second = [`${service}-b`];
    for (const id of [...first, ...second]) {
      await registry.register({ id, service, environment: Environment.STAGING, host: id, color: null, metadata: null, registeredAt: new Date(Date.now() - 60_000) });
      await registry.connected(id);
      for (const ago of [2000, 1000]) await registry.heartbeat(id, new Date(Date.now() - ago), HEALTHY);
    }
    const direct = strategy === DeploymentStrategy.DIRECT;
    const options: StrategyOptions = direct
      ? { strategy: DeploymentStrategy.DIRECT, direct: { maxConcurrency: 10 } }
      : { strategy: DeploymentStrategy.CANARY, canary: { phases: [0.5, 1], bakeSeconds: 30 } };
    const id = randomUUID();
    const baseline = direct ? null : await health.baseline([...first, ...second], new Date());
    const targets = direct ? [...first, ...second].map((instanceId) => ({ instanceId, phase: 1 })) : [
      ...first.map((instanceId) => ({ instanceId, phase: 1 })),
      ...second.map((instanceId) => ({ instanceId, phase: 2 })),
    ];
    await db.transaction(async (r) => {
      await r.deployments.insert(
        {
          id,
          profileId,
          service,
          environment: Environment.STAGING,
          version: 2,
          previousVersion: 1,
          options,
          healthPolicy: withPolicyDefaults({ maxErrorRateIncrease: 0.05, maxLatencyIncreasePct: 50, customThresholds: null, autoRollback: o.autoRollback ?? true }),
          ackTimeoutSeconds: 30,
          status: DeploymentStatus.PENDING,
          phaseCount: direct ? 1 : 2,
          state: { ...INITIAL_STRATEGY_STATE, baseline },
          startedBy: 'test',
          traceContext: null,
        },
        new Date(),
      );
      await r.targets.insert(id, targets, null);
    });
    const owner = o.owner ?? OWNER;
    expect(await db.transaction((r) => r.deployments.claim(owner, LEASE_MS, 100))).toContain(id);
    await orchestrator.step(id, owner); // phase 1 pushed
    if (o.applied !== false) {
      // DIRECT: one of its two targets answers, so it is still running.
      const acked = first;
      await db.transaction((r) =>
        r.instanceConfigs.recordAcks(acked.map((instanceId) => ({ instanceId, profileName, version: 2, success: true, reloadMs: 5, error: null }))),
      );
      await orchestrator.step(id, owner); // baking (DIRECT: awaiting the other ack)
      await sleep(20);
      for (let k = 0; k < 2; k++) for (const i of acked) await registry.heartbeat(i, new Date(), o.metrics ?? HEALTHY);
    }
    published.length = 0;
    return { id, profileName, service, first };
  }

  const eventsOf = (id: string) => tdb.query<EventRow>('select type, message from deployment_event where deployment_id = $1 order by id', [id]);
  const periodicChecks = async (id: string) =>
    (await eventsOf(id)).filter((e) => e.type === 'HEALTH_CHECKED' && e.message?.startsWith('periodic check: '));
  const statusOf = async (id: string) =>
    (await tdb.query<{ status: string; rollback_reason: string | null }>('select status, rollback_reason from deployment where id = $1', [id]))[0]!;

  it('is a scheduled job named health-checker that runs at the configured interval and checks when run', async () => {
    const d = await deployment();
    const job = checker(holder(() => [d.id]), 1234).job();
    expect(job.name).toBe('health-checker');
    expect(job.intervalMs).toBe(1234);
    await job.run(new AbortController().signal);
    expect(await periodicChecks(d.id)).toHaveLength(1);
  });

  it('checks every deployment it holds, and wakes no runner while they are healthy', async () => {
    const [d1, d2] = [await deployment(), await deployment()];
    const h = holder(() => [d1.id, d2.id]);
    await checker(h).checkAll();
    for (const d of [d1, d2]) {
      const checks = await periodicChecks(d.id);
      expect(checks).toHaveLength(1);
      expect(checks[0]!.message).toBe('periodic check: healthy: 1 updated instance reporting');
      expect((await statusOf(d.id)).status).toBe('IN_PROGRESS');
    }
    expect(h.wake).not.toHaveBeenCalled();
  });

  it('starts the rollback of a deployment degraded during its bake and wakes its runner', async () => {
    const healthy = await deployment();
    const degraded = await deployment({ metrics: DEGRADED });
    const h = holder(() => [healthy.id, degraded.id]);
    await checker(h).checkAll();
    expect(h.wake).toHaveBeenCalledTimes(1);
    expect(h.wake).toHaveBeenCalledWith(degraded.id);
    const s = await statusOf(degraded.id);
    expect(s.status).toBe('ROLLING_BACK');
    expect(s.rollback_reason).toMatch(/^periodic check in phase 1 of 2: health degraded: error rate 30\.0% vs baseline 1\.0%/);
    expect((await eventsOf(degraded.id)).slice(-2).map((e) => e.type)).toEqual(['HEALTH_CHECKED', 'ROLLBACK_STARTED']);
    expect((await statusOf(healthy.id)).status).toBe('IN_PROGRESS');
    // The woken runner's step gives the previous version back to the phase-1 instance, 28 s before the bake would have ended.
    await orchestrator.step(degraded.id, OWNER);
    expect(published.map((p) => [p.update.version, p.targets])).toEqual([[1, degraded.first]]);
  });

  it('pauses a degraded deployment when autoRollback is off, wakes its runner, and does not pause it again', async () => {
    const d = await deployment({ metrics: DEGRADED, autoRollback: false });
    const h = holder(() => [d.id]);
    await checker(h).checkAll();
    expect((await statusOf(d.id)).status).toBe('PAUSED');
    expect(h.wake).toHaveBeenCalledWith(d.id);
    const paused = (await eventsOf(d.id)).filter((e) => e.type === 'PAUSED');
    expect(paused).toHaveLength(1);
    expect(paused[0]!.message).toMatch(/^periodic check in phase 1 of 2: health degraded: .*; autoRollback is off/);

    h.wake.mockClear();
    await checker(h).checkAll();
    expect(h.wake).not.toHaveBeenCalled();
    expect((await eventsOf(d.id)).filter((e) => e.type === 'PAUSED')).toHaveLength(1);
    const checks = await periodicChecks(d.id);
    expect(checks).toHaveLength(2);
    expect(checks.every((c) => c.message!.startsWith('periodic check: degraded: error rate 30.0%'))).toBe(true);
  });

  it('leaves alone the deployments it does not hold, even degraded ones whose lease this replica has', async () => {
    const held = await deployment();
    const notHeld = await deployment({ metrics: DEGRADED });
    const h = holder(() => [held.id]);
    await checker(h).checkAll();
    expect(await periodicChecks(held.id)).toHaveLength(1);
    expect((await eventsOf(notHeld.id)).some((e) => e.type === 'HEALTH_CHECKED')).toBe(false);
    expect((await statusOf(notHeld.id)).status).toBe('IN_PROGRESS');
    expect(h.wake).not.toHaveBeenCalled();
  });

  it('skips a deployment whose lease was lost and goes on with the next, without logging a failure', async () => {
    const lost = await deployment({ metrics: DEGRADED, owner: 'other-replica' });
    const good = await deployment({ metrics: DEGRADED });
    const h = holder(() => [lost.id, good.id]);
    logLines.length = 0;
    await checker(h).checkAll();
    expect((await eventsOf(lost.id)).some((e) => e.type === 'HEALTH_CHECKED')).toBe(false);
    expect((await statusOf(lost.id)).status).toBe('IN_PROGRESS');
    expect((await statusOf(good.id)).status).toBe('ROLLING_BACK');
    expect(h.wake.mock.calls).toEqual([[good.id]]);
    expect(logLines).toEqual([]);
  });

  it('logs a check that fails and goes on with the next deployment', async () => {
    const good = await deployment({ metrics: DEGRADED });
    const h = holder(() => ['not-a-deployment-id', good.id]);
    logLines.length = 0;
    await expect(checker(h).checkAll()).resolves.toBeUndefined();
    expect(logLines).toHaveLength(1);
    expect(logLines[0]).toMatchObject({ msg: 'health check failed; trying again at the next interval', deploymentId: 'not-a-deployment-id' });
    expect(logLines[0]!.error).toBeDefined();
    expect((await statusOf(good.id)).status).toBe('ROLLING_BACK');
    expect(h.wake.mock.calls).toEqual([[good.id]]);
  });

  it('checks nothing once its signal is aborted', async () => {
    const d = await deployment({ metrics: DEGRADED });
    const h = holder(() => [d.id]);
    const controller = new AbortController();
    controller.abort();
    await checker(h).checkAll(controller.signal);
    expect((await eventsOf(d.id)).some((e) => e.type === 'HEALTH_CHECKED')).toBe(false);
    expect((await statusOf(d.id)).status).toBe('IN_PROGRESS');
    expect(h.wake).not.toHaveBeenCalled();
  });

  it('stops between two deployments when the signal aborts during a run', async () => {
    const [d1, d2] = [await deployment({ metrics: DEGRADED }), await deployment({ metrics: DEGRADED })];
    const controller = new AbortController();
    // The scheduler stops while the first check runs (here: as it wakes the first runner).
    const h = holder(() => [d1.id, d2.id], () => controller.abort());
    await checker(h).checkAll(controller.signal);
    expect((await statusOf(d1.id)).status).toBe('ROLLING_BACK');
    expect((await statusOf(d2.id)).status).toBe('IN_PROGRESS');
    expect((await eventsOf(d2.id)).some((e) => e.type === 'HEALTH_CHECKED')).toBe(false);
  });

  it('records nothing and wakes nobody for a deployment with no instance on the new version yet, or a DIRECT one', async () => {
    const pushedOnly = await deployment({ metrics: DEGRADED, applied: false });
    const direct = await deployment({ strategy: DeploymentStrategy.DIRECT, metrics: DEGRADED });
    const h = holder(() => [pushedOnly.id, direct.id]);
    await checker(h).checkAll();
    for (const d of [pushedOnly, direct]) {
      expect((await eventsOf(d.id)).some((e) => e.type === 'HEALTH_CHECKED')).toBe(false);
      expect((await statusOf(d.id)).status).toBe('IN_PROGRESS');
    }
    expect(h.wake).not.toHaveBeenCalled();
  });

  it('in the scheduler, checks again every interval and stops checking once the scheduler stops', async () => {
    const d = await deployment();
    const scheduler = new Scheduler(pino({ level: 'silent' }));
    scheduler.register(checker(holder(() => [d.id]), 100).job());
    scheduler.start();
    try {
      await pollUntil(() => periodicChecks(d.id), (c) => c.length >= 3, { timeoutMs: 10_000, what: '3 periodic checks' });
    } finally {
      await scheduler.stop();
    }
    const after = (await periodicChecks(d.id)).length;
    await sleep(400);
    expect(await periodicChecks(d.id)).toHaveLength(after);
  });
});

const DETAILS = `query($id: ID!) { deployment(id: $id) {
  status phase rollbackReason
  health { ${HEALTH_FIELDS} }
  healthChecks(last: 100) { healthy reasons insufficientData }
  events(last: 200) { type phase message }
  targets { instanceId phase state }
} }`;

interface Details {
  status: string;
  phase: number;
  rollbackReason: string | null;
  health: { healthy: boolean; reasons: string[] } | null;
  healthChecks: Array<{ healthy: boolean; reasons: string[]; insufficientData: boolean }>;
  events: Array<{ type: string; phase: number; message: string | null }>;
  targets: Array<{ instanceId: string; phase: number; state: string }>;
}

/** The worker in the real server, checking a canary every 200 ms during a 30 s bake. */
describe('health-check worker in the server', () => {
  let server: TestServer;
  let a: Api;
  const fleets: Fleet[] = [];

  beforeAll(async () => {
    server = await startTestServer({ HOTSWAP_HEALTH_CHECK_INTERVAL_MS: '200' });
    a = api(server);
  });
  afterAll(async () => {
    await Promise.allSettled(fleets.map((f) => f.stop()));
    await server?.stop();
  });

  const details = async (id: string) => ok(await a.gql<{ deployment: Details }>(DETAILS, { id })).deployment;

  async function setUp(name: string, metricsOf: (i: SimInstance) => Record<string, unknown>): Promise<Fleet> {
    await createProfile(a, name, { service: `${name}-svc`, environment: Environment.STAGING });
    await publish(a, name, { v: 1 });
    await publish(a, name, { v: 2 });
    const f = await startFleet(a, { service: `${name}-svc`, count: 5 });
    fleets.push(f);
    expect((await deployAndWait(a, name, 1)).status).toBe('COMPLETED');
    f.reportMetrics(100, metricsOf);
    await sleep(400);
    return f;
  }

  it('rolls back a canary that degrades during a 30 s bake long before the bake ends', async () => {
    const f = await setUp('worker-bad', (i) => (i.appliedVersion() === 2 ? DEGRADED : HEALTHY) as Record<string, unknown>);
    const started = await startDeployment(a, { profileName: 'worker-bad', version: 2, strategy: 'CANARY', canary: { bakeSeconds: 30 }, ackTimeoutSeconds: 5 });
    // Ends well within the 30 s bake: only the periodic check can have judged it.
    const d = await waitForDeployment(a, started.id, 20_000);
    expect(d.status).toBe('ROLLED_BACK');
    const got = await details(started.id);
    expect(got.rollbackReason).toMatch(/^periodic check in phase 1 of 4: health degraded: error rate 30\.0% vs baseline 1\.0%/);
    const types = got.events.map((e) => e.type);
    expect(types.filter((t) => t === 'PHASE_STARTED')).toHaveLength(1);
    expect(types).toContain('PHASE_COMPLETED');
    expect(types.slice(-1)).toEqual(['ROLLED_BACK']);
    const judged = got.events.find((e) => e.type === 'HEALTH_CHECKED' && e.message?.startsWith('periodic check: degraded: '));
    expect(judged).toBeDefined();
    expect(got.healthChecks.at(-1)).toMatchObject({ healthy: false });
    const canary = got.targets.filter((t) => t.phase === 1);
    expect(canary.length).toBeGreaterThan(0);
    expect(canary.every((t) => t.state === 'ROLLED_BACK')).toBe(true);
    expect(got.targets.filter((t) => t.phase > 1).every((t) => t.state === 'PENDING')).toBe(true);
    for (const i of f.instances) expect(i.appliedVersion()).toBe(1);
  }, 40_000);

  it('keeps checking a healthy canary during its bake: periodic HEALTH_CHECKED events accumulate', async () => {
    await setUp('worker-ok', () => HEALTHY as Record<string, unknown>);
    const started = await startDeployment(a, { profileName: 'worker-ok', version: 2, strategy: 'CANARY', canary: { bakeSeconds: 30 }, ackTimeoutSeconds: 5 });
    const got = await pollUntil(
      () => details(started.id),
      (d) => d.events.filter((e) => e.type === 'HEALTH_CHECKED' && e.message?.startsWith('periodic check: healthy')).length >= 4,
      { timeoutMs: 15_000, intervalMs: 100, what: '4 healthy periodic checks' },
    );
    expect(got.status).toBe('IN_PROGRESS');
    expect(got.phase).toBe(1);
    const checks = got.events.filter((e) => e.type === 'HEALTH_CHECKED');
    expect(checks.every((e) => e.phase === 1)).toBe(true);
    expect(got.events.filter((e) => e.type === 'PHASE_STARTED')).toHaveLength(1);
    expect(got.healthChecks.length).toBeGreaterThanOrEqual(4);
    // The first checks after the acks may come before two heartbeats: INCONCLUSIVE then, never degraded.
    expect(got.healthChecks.every((c) => c.healthy || c.insufficientData)).toBe(true);
    expect(got.health).toMatchObject({ healthy: true, reasons: [] });
    // Still baking: phase 2 has not been pushed.
    expect(got.targets.filter((t) => t.phase > 1).every((t) => t.state === 'PENDING')).toBe(true);
  }, 40_000);
});
