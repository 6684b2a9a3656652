import { type Logger, pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { PushMessage } from '../../src/delivery/push-message.js';
import { INITIAL_STRATEGY_STATE, type StrategyOptions } from '../../src/domain/deployment-model.js';
import { withPolicyDefaults } from '../../src/domain/health-policy.js';
import { DeploymentStrategy } from '../../src/domain/enums.js';
import type { InstanceMetrics } from '../../src/domain/instance.js';
import { Scheduler } from '../../src/workers/scheduler.js';
import { HEALTHY as FLEET_HEALTHY } from '../support/fleet.js';
import { startTestGraph, type StoreGraph } from '../support/graph.js';
import { newDeployment, seedDeployment, seedInstances, seedProfile } from '../support/seed.js';
import { pollUntil } from '../support/wait.js';

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

/** The worker with a real orchestrator on PostgreSQL; its runner (the lease holder) holds what each test says and wakes nothing. */
describe('health-check worker', () => {
  let g: StoreGraph;
  const published: PushMessage[] = [];
  const logLines: Array<Record<string, unknown>> = [];
  const OWNER = 'checker-replica';
  let counter = 0;

  beforeAll(async () => {
    const logger: Logger = pino({ level: 'warn' }, { write: (line: string) => void logLines.push(JSON.parse(line) as Record<string, unknown>) });
    g = await startTestGraph({ published, logger, runner: { owner: OWNER }, poolMax: 4 });
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });
  afterAll(async () => {
    await g?.stop();
  });

  /**
   * The health checker of a replica whose runner holds `ids` and whose wake is
   * a spy calling `wake`; `intervalMs` gives a replica checking at that interval.
   */
  const holder = (ids: () => string[], wake: (id: string) => void = () => {}, intervalMs?: number) => {
    const replica = intervalMs === undefined ? g : g.replica({ env: { HOTSWAP_HEALTH_CHECK_INTERVAL_MS: String(intervalMs) } });
    vi.spyOn(replica.runner, 'heldIds').mockImplementation(ids);
    return { checker: replica.healthChecker, wake: vi.spyOn(replica.runner, 'wake').mockImplementation(wake) };
  };

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
    const profile = await seedProfile(g.db, { name: profileName, service, versions: 2, activeVersion: 1 });
    const first = [`${service}-a`];
    const second = [`${service}-b`];
    await seedInstances(g.registry, [...first, ...second], {
      service,
      registeredAt: new Date(Date.now() - 60_000),
      beats: { agoMs: [2000, 1000], metrics: HEALTHY },
    });
    const direct = strategy === DeploymentStrategy.DIRECT;
    const options: StrategyOptions = direct
      ? { strategy: DeploymentStrategy.DIRECT, direct: { maxConcurrency: 10 } }
      : { strategy: DeploymentStrategy.CANARY, canary: { phases: [0.5, 1], bakeSeconds: 30 } };
    const baseline = direct ? null : await g.health.baseline([...first, ...second], new Date());
    const targets = direct ? [...first, ...second].map((instanceId) => ({ instanceId, phase: 1 })) : [
      ...first.map((instanceId) => ({ instanceId, phase: 1 })),
      ...second.map((instanceId) => ({ instanceId, phase: 2 })),
    ];
    const id = await seedDeployment(
      g.db,
      newDeployment(profile, {
        version: 2,
        options,
        // The fixed limits alone judge, on 2 samples a group: this is about the worker, not the statistics.
        healthPolicy: withPolicyDefaults({ maxErrorRateIncrease: 0.05, maxLatencyIncreasePct: 50, customThresholds: null, metrics: [], minSamples: 2, autoRollback: o.autoRollback ?? true }),
        phaseCount: direct ? 1 : 2,
        state: { ...INITIAL_STRATEGY_STATE, baseline: baseline?.snapshot ?? null, baselineSamples: baseline?.samples ?? null },
      }),
      targets,
    );
    const owner = o.owner ?? OWNER;
    expect(await g.db.transaction((r) => r.deployments.claim(owner, LEASE_MS, 100))).toContain(id);
    await g.orchestrator.step(id, owner); // phase 1 pushed
    if (o.applied !== false) {
      // DIRECT: one of its two targets answers, so it is still running.
      const acked = first;
      await g.db.transaction((r) =>
        r.instanceConfigs.recordAcks(acked.map((instanceId) => ({ instanceId, profileName, version: 2, success: true, reloadMs: 5, error: null }))),
      );
      await g.orchestrator.step(id, owner); // baking (DIRECT: awaiting the other ack)
      await sleep(20);
      for (let k = 0; k < 2; k++) for (const i of acked) await g.registry.heartbeat(i, new Date(), o.metrics ?? HEALTHY);
    }
    published.length = 0;
    return { id, profileName, service, first };
  }

  const eventsOf = (id: string) => g.tdb.query<EventRow>('select type, message from deployment_event where deployment_id = $1 order by id', [id]);
  const periodicChecks = async (id: string) =>
    (await eventsOf(id)).filter((e) => e.type === 'HEALTH_CHECKED' && e.message?.startsWith('periodic check: '));
  const statusOf = async (id: string) =>
    (await g.tdb.query<{ status: string; rollback_reason: string | null }>('select status, rollback_reason from deployment where id = $1', [id]))[0]!;

  it('is a scheduled job named health-checker that runs at the configured interval and checks when run', async () => {
    const d = await deployment();
    const job = holder(() => [d.id], undefined, 1234).checker.job();
    expect(job.name).toBe('health-checker');
    expect(job.intervalMs).toBe(1234);
    await job.run(new AbortController().signal);
    expect(await periodicChecks(d.id)).toHaveLength(1);
  });

  it('checks every deployment it holds, and wakes no runner while they are healthy', async () => {
    const [d1, d2] = [await deployment(), await deployment()];
    const h = holder(() => [d1.id, d2.id]);
    await h.checker.checkAll();
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
    await h.checker.checkAll();
    expect(h.wake).toHaveBeenCalledTimes(1);
    expect(h.wake).toHaveBeenCalledWith(degraded.id);
    const s = await statusOf(degraded.id);
    expect(s.status).toBe('ROLLING_BACK');
    expect(s.rollback_reason).toMatch(/^periodic check in phase 1 of 2: health degraded: error rate: canary median 30 % vs baseline 1 % \(n=2\/\d+\), \+29 points > limit 5: FAIL/);
    expect((await eventsOf(degraded.id)).slice(-2).map((e) => e.type)).toEqual(['HEALTH_CHECKED', 'ROLLBACK_STARTED']);
    expect((await statusOf(healthy.id)).status).toBe('IN_PROGRESS');
    // The woken runner's step gives the previous version back to the phase-1 instance, 28 s before the bake would have ended.
    await g.orchestrator.step(degraded.id, OWNER);
    expect(published.map((p) => [p.update.version, p.targets])).toEqual([[1, degraded.first]]);
  });

  it('pauses a degraded deployment when autoRollback is off, wakes its runner, and does not pause it again', async () => {
    const d = await deployment({ metrics: DEGRADED, autoRollback: false });
    const h = holder(() => [d.id]);
    await h.checker.checkAll();
    expect((await statusOf(d.id)).status).toBe('PAUSED');
    expect(h.wake).toHaveBeenCalledWith(d.id);
    const paused = (await eventsOf(d.id)).filter((e) => e.type === 'PAUSED');
    expect(paused).toHaveLength(1);
    expect(paused[0]!.message).toMatch(/^periodic check in phase 1 of 2: health degraded: .*; autoRollback is off/);

    h.wake.mockClear();
    await h.checker.checkAll();
    expect(h.wake).not.toHaveBeenCalled();
    expect((await eventsOf(d.id)).filter((e) => e.type === 'PAUSED')).toHaveLength(1);
    const checks = await periodicChecks(d.id);
    expect(checks).toHaveLength(2);
    expect(checks.every((c) => c.message!.startsWith('periodic check: degraded: error rate: canary median 30 %'))).toBe(true);
  });

  it('leaves alone the deployments it does not hold, even degraded ones whose lease this replica has', async () => {
    const held = await deployment();
    const notHeld = await deployment({ metrics: DEGRADED });
    const h = holder(() => [held.id]);
    await h.checker.checkAll();
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
    await h.checker.checkAll();
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
    await expect(h.checker.checkAll()).resolves.toBeUndefined();
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
    await h.checker.checkAll(controller.signal);
    expect((await eventsOf(d.id)).some((e) => e.type === 'HEALTH_CHECKED')).toBe(false);
    expect((await statusOf(d.id)).status).toBe('IN_PROGRESS');
    expect(h.wake).not.toHaveBeenCalled();
  });

  it('stops between two deployments when the signal aborts during a run', async () => {
    const [d1, d2] = [await deployment({ metrics: DEGRADED }), await deployment({ metrics: DEGRADED })];
    const controller = new AbortController();
    // The scheduler stops while the first check runs (here: as it wakes the first runner).
    const h = holder(() => [d1.id, d2.id], () => controller.abort());
    await h.checker.checkAll(controller.signal);
    expect((await statusOf(d1.id)).status).toBe('ROLLING_BACK');
    expect((await statusOf(d2.id)).status).toBe('IN_PROGRESS');
    expect((await eventsOf(d2.id)).some((e) => e.type === 'HEALTH_CHECKED')).toBe(false);
  });

  it('records nothing and wakes nobody for a deployment with no instance on the new version yet, or a DIRECT one', async () => {
    const pushedOnly = await deployment({ metrics: DEGRADED, applied: false });
    const direct = await deployment({ strategy: DeploymentStrategy.DIRECT, metrics: DEGRADED });
    const h = holder(() => [pushedOnly.id, direct.id]);
    await h.checker.checkAll();
    for (const d of [pushedOnly, direct]) {
      expect((await eventsOf(d.id)).some((e) => e.type === 'HEALTH_CHECKED')).toBe(false);
      expect((await statusOf(d.id)).status).toBe('IN_PROGRESS');
    }
    expect(h.wake).not.toHaveBeenCalled();
  });

  it('in the scheduler, checks again every interval and stops checking once the scheduler stops', async () => {
    const d = await deployment();
    const scheduler = new Scheduler(pino({ level: 'silent' }));
    scheduler.register(holder(() => [d.id], undefined, 100).checker.job());
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
