import type { MikroORM } from '@mikro-orm/postgresql';
import { DeploymentLauncher } from '../../src/orchestrator/launcher.js';
import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PushMessage } from '../../src/delivery/push-message.js';
import type { Principal } from '../../src/domain/authorization.js';
import {
  type DeploymentEventRecord,
  INITIAL_STRATEGY_STATE,
  type StrategyOptions,
  type StrategyState,
  withPolicyDefaults,
} from '../../src/domain/deployment-model.js';
import { Color, DeploymentStatus, DeploymentStrategy, Environment, InconclusiveAction, Role } from '../../src/domain/enums.js';
import type { HealthReport } from '../../src/domain/health.js';
import type { InstanceMetrics } from '../../src/domain/instance.js';
import { DeploymentEventPublisher } from '../../src/orchestrator/events.js';
import { HealthMonitor } from '../../src/orchestrator/health-monitor.js';
import { LeaseLostError, Orchestrator, type StepResult } from '../../src/orchestrator/orchestrator.js';
import { createPubSub, type PubSub } from '../../src/pubsub/pubsub.js';
import { MemoryInstanceRegistry } from '../../src/registry/memory-registry.js';
import { DeploymentService } from '../../src/services/deployment.service.js';
import { Database } from '../../src/store/database.js';
import { openOrm } from '../../src/store/orm.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { recordingHub } from '../support/recording-hub.js';
import { HEALTHY as FLEET_HEALTHY } from '../support/fleet.js';

/**
 * The orchestrator driven step by step, as a runner would, on a real
 * PostgreSQL: pushes are recorded by a spy hub, acks are written with the
 * repository the ack service uses, heartbeats go to an in-process registry.
 */

const HEALTHY: InstanceMetrics = FLEET_HEALTHY;
const DEGRADED: InstanceMetrics = { errorRate: 0.3, latencyP99Ms: 480, requestCount: 200 };
const ADMIN: Principal = { sub: 'test-admin', role: Role.ADMIN };
const LEASE_MS = 60_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface DeploymentRow {
  status: DeploymentStatus;
  phase: number;
  strategy_state: StrategyState;
  rollback_reason: string | null;
  failure_reason: string | null;
  lease_owner: string | null;
  finished_at: Date | null;
}

interface TargetRow {
  instance_id: string;
  phase: number;
  state: string;
  version: number | null;
}

interface EventRow {
  type: string;
  phase: number;
  status: string;
  message: string | null;
  health: (Omit<HealthReport, 'checkedAt'> & { checkedAt: string }) | null;
}

interface Scenario {
  id: string;
  profileId: string;
  profileName: string;
  service: string;
  owner: string;
  /** Target ids per phase (index 0 = phase 1). */
  phases: string[][];
  /** Every instance registered for the service (targets and, for blue-green, the active color). */
  all: string[];
  baseline: StrategyState['baseline'];
}

interface ScenarioOptions {
  strategy?: DeploymentStrategy;
  /** How many targets each phase has. */
  phaseSizes: number[];
  bakeSeconds?: number;
  verifySeconds?: number;
  intervalSeconds?: number;
  /** null: the profile has no active version (its first deployment). */
  previousVersion?: number | null;
  autoRollback?: boolean;
  ackTimeoutSeconds?: number;
  /** Blue-green: instances of the active (BLUE) color that are not targets. */
  activeColorInstances?: number;
  evidenceTimeoutSeconds?: number;
  onInconclusive?: InconclusiveAction;
}

describe('orchestrator: progressive deployments step by step', () => {
  let tdb: TestDatabase;
  let orm: MikroORM;
  let db: Database;
  let pubsub: PubSub;
  let registry: MemoryInstanceRegistry;
  let health: HealthMonitor;
  let events: DeploymentEventPublisher;
  let orchestrator: Orchestrator;
  let service: DeploymentService;
  const published: PushMessage[] = [];
  let counter = 0;

  beforeAll(async () => {
    tdb = await createTestDatabase();
    orm = await openOrm(tdb.url, { poolMax: 4 });
    db = new Database(orm);
    const logger = pino({ level: 'silent' });
    pubsub = createPubSub(undefined, logger);
    const spy = recordingHub(pubsub, published);
    registry = new MemoryInstanceRegistry();
    health = new HealthMonitor(registry);
    events = new DeploymentEventPublisher(pubsub);
    orchestrator = new Orchestrator(db, spy, events, registry, health, logger);
    service = new DeploymentService(db, registry, new DeploymentLauncher(db, orchestrator, health, events), orchestrator);
  });
  afterAll(async () => {
    await orm?.close();
    await tdb?.drop();
  });

  // ---------------------------------------------------------------- helpers

  /** A profile with versions 1 and 2, a registered fleet with a healthy baseline, and a PENDING deployment of version 2 leased by a fresh owner. */
  async function scenario(o: ScenarioOptions): Promise<Scenario> {
    const n = ++counter;
    const strategy = o.strategy ?? DeploymentStrategy.CANARY;
    const profileName = `progressive-${n}`;
    const svc = `svc-${n}`;
    const profileId = randomUUID();
    const previousVersion = o.previousVersion === undefined ? 1 : o.previousVersion;
    await tdb.query(
      `insert into config_profile (id, name, service, environment, last_version, active_version, created_at, updated_at)
       values ($1, $2, $3, 'STAGING', 2, $4, now(), now())`,
      [profileId, profileName, svc, previousVersion],
    );
    for (const v of [1, 2]) {
      await tdb.query(
        `insert into config_version (id, profile_id, version, data, hash, created_by, created_at) values ($1, $2, $3, $4, $5, 't', now())`,
        [randomUUID(), profileId, v, JSON.stringify({ v }), `h${v}`],
      );
    }
    const blueGreen = strategy === DeploymentStrategy.BLUE_GREEN;
    const phases = o.phaseSizes.map((size, p) => Array.from({ length: size }, (_, k) => `${svc}-p${p + 1}-${k}`));
    const others = Array.from({ length: o.activeColorInstances ?? 0 }, (_, k) => `${svc}-blue-${k}`);
    const registeredAt = new Date(Date.now() - 60_000);
    for (const id of [...phases.flat(), ...others]) {
      await registry.register({
        id,
        service: svc,
        environment: Environment.STAGING,
        host: id,
        color: blueGreen ? (others.includes(id) ? Color.BLUE : Color.GREEN) : null,
        metadata: null,
        registeredAt,
      });
      await registry.connected(id);
    }
    const all = [...phases.flat(), ...others];
    for (const ago of [3000, 2000, 1000]) for (const id of all) await registry.heartbeat(id, new Date(Date.now() - ago), HEALTHY);
    const judges = strategy !== DeploymentStrategy.DIRECT;
    const baseline = judges ? await health.baseline(phases.flat(), new Date()) : null;
    const options: StrategyOptions =
      strategy === DeploymentStrategy.CANARY
        ? { strategy, canary: { phases: o.phaseSizes.map((_, i) => (i + 1) / o.phaseSizes.length), bakeSeconds: o.bakeSeconds ?? 0 } }
        : strategy === DeploymentStrategy.BLUE_GREEN
          ? { strategy, blueGreen: { verifySeconds: o.verifySeconds ?? 0 } }
          : strategy === DeploymentStrategy.ROLLING
            ? { strategy, rolling: { batchSize: 1, batchPercent: null, intervalSeconds: o.intervalSeconds ?? 0 } }
            : { strategy, direct: { maxConcurrency: 10 } };
    const id = randomUUID();
    await db.transaction(async (r) => {
      await r.deployments.insert(
        {
          id,
          profileId,
          service: svc,
          environment: Environment.STAGING,
          version: 2,
          previousVersion,
          options,
          healthPolicy: withPolicyDefaults({
            maxErrorRateIncrease: 0.05,
            maxLatencyIncreasePct: 50,
            customThresholds: null,
            autoRollback: o.autoRollback ?? true,
            evidenceTimeoutSeconds: o.evidenceTimeoutSeconds ?? null,
            onInconclusive: o.onInconclusive,
          }),
          ackTimeoutSeconds: o.ackTimeoutSeconds ?? 30,
          status: DeploymentStatus.PENDING,
          phaseCount: phases.length,
          state: {
            ...INITIAL_STRATEGY_STATE,
            baseline,
            color: blueGreen ? Color.GREEN : null,
            previousColor: blueGreen ? Color.BLUE : null,
          },
          startedBy: 'test',
          traceContext: null,
        },
        new Date(),
      );
      await r.targets.insert(id, phases.flatMap((ids, p) => ids.map((instanceId) => ({ instanceId, phase: p + 1 }))), null);
    });
    const owner = `owner-${n}`;
    await lease(id, owner);
    published.length = 0;
    return { id, profileId, profileName, service: svc, owner, phases, all, baseline };
  }

  /** Takes the lease of `id` for `owner` the way a runner does (claim), checking it was among the claimed. */
  async function lease(id: string, owner: string, leaseMs = LEASE_MS): Promise<void> {
    const claimed = await db.transaction((r) => r.deployments.claim(owner, leaseMs, 100));
    expect(claimed).toContain(id);
  }

  const step = (s: Scenario, owner = s.owner): Promise<StepResult> => orchestrator.step(s.id, owner);
  /** The pushes published since the last call. */
  const drain = (): PushMessage[] => published.splice(0);
  const pushedIds = (pushes: PushMessage[], version?: number) =>
    pushes.filter((p) => version === undefined || p.update.version === version).flatMap((p) => p.targets ?? []).sort();

  async function ack(s: Scenario, ids: string[], version: number, success = true, error: string | null = null) {
    return db.transaction((r) =>
      r.instanceConfigs.recordAcks(
        ids.map((instanceId) => ({ instanceId, profileName: s.profileName, version, success, reloadMs: success ? 5 : null, error })),
      ),
    );
  }

  /** Heartbeats after the acks just written (their acked_at is the transaction's time), so they count for the updated instances. */
  async function beat(ids: string[], metrics: InstanceMetrics, times = 2): Promise<void> {
    await sleep(20);
    for (let k = 0; k < times; k++) for (const id of ids) await registry.heartbeat(id, new Date(), metrics);
  }

  async function row(id: string): Promise<DeploymentRow> {
    const [r] = await tdb.query<DeploymentRow>(
      'select status, phase, strategy_state, rollback_reason, failure_reason, lease_owner, finished_at from deployment where id = $1',
      [id],
    );
    return r!;
  }
  const targets = (id: string) =>
    tdb.query<TargetRow>('select instance_id, phase, state, version from deployment_target where deployment_id = $1 order by instance_id', [id]);
  const stateOf = async (id: string, instanceId: string) => (await targets(id)).find((t) => t.instance_id === instanceId)!;
  const eventRows = (id: string) =>
    tdb.query<EventRow>('select type, phase, status, message, health from deployment_event where deployment_id = $1 order by id', [id]);
  const activeVersion = async (s: Scenario) =>
    (await tdb.query<{ active_version: number | null }>('select active_version from config_profile where id = $1', [s.profileId]))[0]!.active_version;

  /** Sleeps until the persisted observeUntil of the current phase has passed. */
  async function waitObservation(id: string): Promise<void> {
    const until = Date.parse((await row(id)).strategy_state.observeUntil ?? '');
    expect(Number.isNaN(until)).toBe(false);
    await sleep(Math.max(0, until - Date.now()) + 30);
  }

  /**
   * Runs one phase the way healthy instances answer: pushes it, acks every
   * push of the new version, reports `metrics` from the updated instances, and
   * steps until the phase is judged (observation waited out).
   */
  async function runPhase(s: Scenario, phase: number, metrics: InstanceMetrics = HEALTHY): Promise<void> {
    await step(s);
    const pushes = drain();
    expect(pushedIds(pushes)).toEqual([...s.phases[phase - 1]!].sort());
    await ack(s, s.phases[phase - 1]!, 2);
    await beat(s.phases[phase - 1]!, metrics);
    const observed = await step(s);
    if ((await row(s.id)).strategy_state.stage === 'OBSERVE') {
      expect(observed.waitMs).toBeGreaterThan(0);
      await waitObservation(s.id);
      await step(s);
    }
  }

  // ---------------------------------------------------------------- scenarios

  describe('a healthy canary, one step at a time', () => {
    let s: Scenario;
    const live: DeploymentEventRecord[] = [];
    const everyPush: PushMessage[] = [];
    let lastWait = 0;

    beforeAll(async () => {
      s = await scenario({ phaseSizes: [1, 1, 2], bakeSeconds: 1 });
      await events.subscribe(s.id, (e) => live.push(e));
    });

    it('starts phase 1 from PENDING and pushes the new version to the phase-1 targets only', async () => {
      const result = await step(s);
      expect(result.done).toBe(false);
      expect(result.waitMs).toBeGreaterThan(0);
      const pushes = drain();
      everyPush.push(...pushes);
      expect(pushes).toHaveLength(1);
      expect(pushes[0]!.targets).toEqual(s.phases[0]);
      expect(pushes[0]!.update).toMatchObject({ profileName: s.profileName, version: 2, hash: 'h2', data: { v: 2 }, deploymentId: s.id });
      const r = await row(s.id);
      expect(r).toMatchObject({ status: 'IN_PROGRESS', phase: 1 });
      const t = await targets(s.id);
      expect(t.filter((x) => x.state === 'PUSHED').map((x) => x.instance_id)).toEqual(s.phases[0]);
      expect(t.filter((x) => x.state === 'PENDING')).toHaveLength(3);
      expect((await eventRows(s.id)).map((e) => [e.type, e.phase])).toEqual([['PHASE_STARTED', 1]]);
    });

    it('pushes nothing more while the phase awaits its acks', async () => {
      const result = await step(s);
      expect(result.done).toBe(false);
      expect(result.waitMs).toBeGreaterThan(0);
      expect(result.waitMs).toBeLessThanOrEqual(1000);
      expect(drain()).toEqual([]);
      expect((await row(s.id)).strategy_state.stage).toBe('ROLLOUT');
    });

    it('once every phase-1 target acked, persists the OBSERVE stage with its end and records PHASE_COMPLETED', async () => {
      expect((await ack(s, s.phases[0]!, 2)).accepted).toEqual([true]);
      await beat(s.phases[0]!, HEALTHY);
      const before = Date.now();
      const result = await step(s);
      expect(result.done).toBe(false);
      expect(result.waitMs).toBe(1000);
      const state = (await row(s.id)).strategy_state;
      expect(state.stage).toBe('OBSERVE');
      const until = Date.parse(state.observeUntil!);
      expect(until).toBeGreaterThan(before);
      expect(until).toBeLessThanOrEqual(Date.now() + 1000);
      const last = (await eventRows(s.id)).at(-1)!;
      expect(last).toMatchObject({ type: 'PHASE_COMPLETED', phase: 1, status: 'IN_PROGRESS' });
      expect(last.message).toMatch(/^phase 1 of 3: 1 of 1 applied; baking 1 s before judging health$/);
      expect(drain()).toEqual([]);
    });

    it('before observeUntil, a step only says how long is left: no push, no event', async () => {
      const eventsBefore = (await eventRows(s.id)).length;
      const result = await step(s);
      lastWait = result.waitMs;
      expect(result.done).toBe(false);
      expect(result.waitMs).toBeGreaterThan(0);
      expect(result.waitMs).toBeLessThanOrEqual(1000);
      expect(drain()).toEqual([]);
      expect(await eventRows(s.id)).toHaveLength(eventsBefore);
      expect((await row(s.id)).strategy_state.stage).toBe('OBSERVE');
    });

    it('after observeUntil, records HEALTH_CHECKED with its report and starts phase 2', async () => {
      await sleep(lastWait + 30);
      const result = await step(s);
      expect(result).toEqual({ done: false, waitMs: 0 });
      const evs = await eventRows(s.id);
      const check = evs.find((e) => e.type === 'HEALTH_CHECKED')!;
      expect(check.phase).toBe(1);
      expect(check.message).toBe('phase 1 of 3: healthy: 1 updated instance reporting');
      expect(check.health).toMatchObject({ healthy: true, reasons: [], insufficientData: false });
      expect(check.health!.current).toMatchObject({ errorRate: 0.01, latencyP99Ms: 100, instances: 1 });
      expect(check.health!.baseline).toEqual(s.baseline);
      expect(evs.at(-1)).toMatchObject({ type: 'PHASE_STARTED', phase: 2 });
      const r = await row(s.id);
      expect(r.phase).toBe(2);
      expect(r.strategy_state).toMatchObject({ stage: 'ROLLOUT', observeUntil: null });
    });

    it('the next step pushes the phase-2 targets only, never the phase-1 ones again', async () => {
      await step(s);
      const pushes = drain();
      everyPush.push(...pushes);
      expect(pushedIds(pushes)).toEqual(s.phases[1]);
      expect(pushes.every((p) => p.update.version === 2)).toBe(true);
    });

    it('after the last phase: COMPLETED, version 2 active, every target applied once, lease released', async () => {
      await ack(s, s.phases[1]!, 2);
      await beat(s.phases[1]!, HEALTHY);
      await step(s); // OBSERVE
      await waitObservation(s.id);
      await step(s); // judged: phase 3
      await step(s); // pushes phase 3
      const pushes = drain();
      everyPush.push(...pushes);
      expect(pushedIds(pushes)).toEqual([...s.phases[2]!].sort());
      await ack(s, s.phases[2]!, 2);
      await beat(s.phases[2]!, HEALTHY);
      await step(s); // OBSERVE
      await waitObservation(s.id);
      const result = await step(s);
      expect(result.done).toBe(true);

      const r = await row(s.id);
      expect(r.status).toBe('COMPLETED');
      expect(r.finished_at).not.toBeNull();
      expect(r.lease_owner).toBeNull();
      expect(await activeVersion(s)).toBe(2);
      expect((await targets(s.id)).every((t) => t.state === 'APPLIED' && t.version === 2)).toBe(true);
      // Each instance was pushed the new version exactly once over the whole deployment.
      expect(pushedIds(everyPush)).toEqual([...s.phases.flat()].sort());
      const evs = await eventRows(s.id);
      expect(evs.filter((e) => e.type === 'HEALTH_CHECKED').map((e) => e.phase)).toEqual([1, 2, 3]);
      expect(evs.filter((e) => e.type === 'PHASE_STARTED').map((e) => e.phase)).toEqual([1, 2, 3]);
      expect(evs.at(-1)).toMatchObject({ type: 'COMPLETED', status: 'COMPLETED', message: 'version 2 is active' });
    });

    it('published every persisted event on the deployment topic, in order, with its health', async () => {
      const persisted = await eventRows(s.id);
      expect(live.map((e) => e.type)).toEqual(persisted.map((e) => e.type));
      const liveCheck = live.find((e) => e.type === 'HEALTH_CHECKED')!;
      expect(liveCheck.health?.healthy).toBe(true);
      expect(liveCheck.health?.checkedAt).toBeInstanceOf(Date);
    });

    it('a finished deployment has no lease: stepping it again is refused', async () => {
      await expect(step(s)).rejects.toBeInstanceOf(LeaseLostError);
      expect(drain()).toEqual([]);
    });
  });

  describe('a canary that degrades in phase 2 (autoRollback)', () => {
    let s: Scenario;

    beforeAll(async () => {
      s = await scenario({ phaseSizes: [1, 1, 1], bakeSeconds: 0 });
      await runPhase(s, 1);
      await runPhase(s, 2, DEGRADED);
    });

    it('judges the phase degraded and starts the rollback, recording the verdict and the reason', async () => {
      const r = await row(s.id);
      expect(r.status).toBe('ROLLING_BACK');
      // Phases 1 (healthy) and 2 (degraded) are judged together: every instance that runs the new version.
      expect(r.rollback_reason).toBe(
        'phase 2 of 3: health degraded: error rate 15.5% vs baseline 1.0%: +14.5 points > 5.0; p99 latency 290 ms vs baseline 100 ms: +190% > 50%',
      );
      const evs = await eventRows(s.id);
      const checks = evs.filter((e) => e.type === 'HEALTH_CHECKED');
      expect(checks.map((e) => e.health?.healthy)).toEqual([true, false]);
      expect(checks[1]!.health!.reasons).toHaveLength(2);
      expect(evs.at(-1)).toMatchObject({ type: 'ROLLBACK_STARTED', status: 'ROLLING_BACK', phase: 2 });
      expect(evs.at(-1)!.health).toMatchObject({ healthy: false });
      expect(drain()).toEqual([]);
    });

    it('pushes the previous version to the targets that got the new one, not to those never pushed', async () => {
      const result = await step(s);
      expect(result.done).toBe(false);
      const pushes = drain();
      expect(pushes).toHaveLength(1);
      expect(pushes[0]!.update).toMatchObject({ version: 1, hash: 'h1', data: { v: 1 }, deploymentId: s.id });
      expect(pushedIds(pushes)).toEqual([...s.phases[0]!, ...s.phases[1]!].sort());
      expect(await stateOf(s.id, s.phases[2]![0]!)).toMatchObject({ state: 'PENDING', version: null });
      expect((await row(s.id)).strategy_state.rollbackPushed).toBe(true);
      expect(await activeVersion(s)).toBe(1);
    });

    it('ignores a late ack of the new version from an instance that was sent the previous one', async () => {
      const late = s.phases[0]![0]!;
      await ack(s, [late], 2);
      expect(await stateOf(s.id, late)).toMatchObject({ state: 'PUSHED', version: 1 });
      const result = await step(s);
      expect(result.done).toBe(false);
      expect((await row(s.id)).status).toBe('ROLLING_BACK');
      expect(drain()).toEqual([]);
    });

    it('ends ROLLED_BACK once the previous version is acked: those targets ROLLED_BACK, the rest PENDING', async () => {
      await ack(s, [...s.phases[0]!, ...s.phases[1]!], 1);
      const result = await step(s);
      expect(result.done).toBe(true);
      const r = await row(s.id);
      expect(r.status).toBe('ROLLED_BACK');
      expect(r.lease_owner).toBeNull();
      const t = await targets(s.id);
      expect(t.filter((x) => x.state === 'ROLLED_BACK').map((x) => x.instance_id).sort()).toEqual([...s.phases[0]!, ...s.phases[1]!].sort());
      expect(t.filter((x) => x.state === 'PENDING').map((x) => x.instance_id)).toEqual(s.phases[2]);
      const applied = await tdb.query<{ instance_id: string; applied_version: number }>(
        'select instance_id, applied_version from instance_config where profile_id = $1 order by instance_id',
        [s.profileId],
      );
      expect(applied.map((a) => a.applied_version)).toEqual([1, 1]);
      const last = (await eventRows(s.id)).at(-1)!;
      expect(last.type).toBe('ROLLED_BACK');
      expect(last.message).toMatch(/^version 1 restored on 2 instances: phase 2 of 3: health degraded/);
      expect(drain()).toEqual([]);
    });
  });

  describe('rollback outcomes', () => {
    it('FAILED, naming the instance, when a target does not ack the previous version in time', async () => {
      const s = await scenario({ phaseSizes: [2, 1], ackTimeoutSeconds: 2 });
      await runPhase(s, 1, DEGRADED);
      expect((await row(s.id)).status).toBe('ROLLING_BACK');
      await step(s);
      expect(pushedIds(drain(), 1)).toEqual([...s.phases[0]!].sort());
      const [answers, silent] = [...s.phases[0]!].sort() as [string, string];
      await ack(s, [answers], 1);
      let result = await step(s);
      expect(result.done).toBe(false);
      await sleep(2100);
      result = await step(s);
      expect(result.done).toBe(true);
      const r = await row(s.id);
      expect(r.status).toBe('FAILED');
      expect(r.failure_reason).toContain('rollback to version 1 incomplete: 1 of 3 instances did not come back to version 1');
      expect(r.failure_reason).toContain(`${silent} (TIMED_OUT: no ack within 2 s)`);
      expect(await stateOf(s.id, answers)).toMatchObject({ state: 'ROLLED_BACK' });
      expect(await stateOf(s.id, silent)).toMatchObject({ state: 'TIMED_OUT' });
      expect(await stateOf(s.id, s.phases[1]![0]!)).toMatchObject({ state: 'PENDING' });
      expect((await eventRows(s.id)).at(-1)).toMatchObject({ type: 'FAILED', status: 'FAILED' });
    });

    it('FAILED with "no previous version" when the profile had no active version before', async () => {
      const s = await scenario({ phaseSizes: [1, 1], previousVersion: null });
      await runPhase(s, 1, DEGRADED);
      expect((await row(s.id)).status).toBe('ROLLING_BACK');
      const result = await step(s);
      expect(result.done).toBe(true);
      expect(drain()).toEqual([]);
      const r = await row(s.id);
      expect(r.status).toBe('FAILED');
      expect(r.failure_reason).toMatch(/^phase 1 of 2: health degraded: .*; version 2 was the profile's first active version, so there is no previous version to restore/);
      expect(await stateOf(s.id, s.phases[0]![0]!)).toMatchObject({ state: 'APPLIED', version: 2 });
      expect((await eventRows(s.id)).at(-1)!.type).toBe('FAILED');
    });

    it('rolls back when an instance fails to apply a phase, without judging its health', async () => {
      const s = await scenario({ phaseSizes: [2, 1], bakeSeconds: 5 });
      await step(s);
      drain();
      const [good, bad] = s.phases[0] as [string, string];
      await ack(s, [good], 2);
      await ack(s, [bad], 2, false, 'bad config');
      await step(s);
      const r = await row(s.id);
      expect(r.status).toBe('ROLLING_BACK');
      expect(r.rollback_reason).toBe(`phase 1 of 2: 1 of 2 instances did not apply: ${bad} (FAILED: bad config)`);
      const types = (await eventRows(s.id)).map((e) => e.type);
      expect(types).toEqual(['PHASE_STARTED', 'PHASE_COMPLETED', 'ROLLBACK_STARTED']);
      // The failed instance was sent the new version too: it gets the previous one back as well.
      await step(s);
      expect(pushedIds(drain(), 1)).toEqual([good, bad].sort());
    });

    it('FAILED instead of rolling back when a phase does not apply and autoRollback is off', async () => {
      const s = await scenario({ phaseSizes: [1, 1], autoRollback: false });
      await step(s);
      drain();
      await ack(s, s.phases[0]!, 2, false, 'nope');
      const result = await step(s);
      expect(result.done).toBe(true);
      const r = await row(s.id);
      expect(r.status).toBe('FAILED');
      expect(r.failure_reason).toBe(`phase 1 of 2: 1 of 1 instances did not apply: ${s.phases[0]![0]!} (FAILED: nope)`);
      expect(drain()).toEqual([]);
    });
  });

  describe('degraded with autoRollback off', () => {
    let s: Scenario;
    beforeAll(async () => {
      s = await scenario({ phaseSizes: [1, 1], autoRollback: false, bakeSeconds: 1 });
      await runPhase(s, 1, DEGRADED);
    });

    it('pauses with the verdict instead of rolling back', async () => {
      const r = await row(s.id);
      expect(r.status).toBe('PAUSED');
      expect(r.strategy_state.healthOverridden).toBe(true);
      const last = (await eventRows(s.id)).at(-1)!;
      expect(last.type).toBe('PAUSED');
      expect(last.message).toMatch(/^phase 1 of 2: health degraded: .*; autoRollback is off: resume to go on, or roll back$/);
      expect(last.health).toMatchObject({ healthy: false });
      expect(drain()).toEqual([]);
    });

    it('a step on a PAUSED deployment is not done, pushes nothing and records nothing', async () => {
      const before = await eventRows(s.id);
      const result = await step(s);
      expect(result.done).toBe(false);
      expect(result.waitMs).toBeGreaterThan(0);
      expect(drain()).toEqual([]);
      expect(await eventRows(s.id)).toHaveLength(before.length);
      expect((await row(s.id)).status).toBe('PAUSED');
    });

    it('resumed, it accepts the phase as it is and goes on with the next phase', async () => {
      await service.resume(ADMIN, s.id);
      let result = await step(s);
      expect(result.done).toBe(false);
      const evs = await eventRows(s.id);
      expect(evs.at(-1)).toMatchObject({ type: 'PHASE_STARTED', phase: 2 });
      expect(evs.at(-2)).toMatchObject({ type: 'HEALTH_CHECKED', phase: 1 });
      expect(evs.at(-2)!.health!.healthy).toBe(false);
      expect(evs.filter((e) => e.type === 'PHASE_COMPLETED').map((e) => e.phase)).toEqual([1]);
      expect(evs.map((e) => e.type)).toContain('RESUMED');
      result = await step(s);
      expect(result.done).toBe(false);
      expect(pushedIds(drain())).toEqual(s.phases[1]);
      expect((await row(s.id)).strategy_state.healthOverridden).toBe(false);
    });
  });

  describe('degraded with autoRollback off and no bake', () => {
    it('resumed, completes the judged phase only once (no second PHASE_COMPLETED)', async () => {
      const s = await scenario({ phaseSizes: [1, 1], autoRollback: false, bakeSeconds: 0 });
      await runPhase(s, 1, DEGRADED);
      expect((await row(s.id)).status).toBe('PAUSED');
      await service.resume(ADMIN, s.id);
      await step(s);
      const evs = await eventRows(s.id);
      expect(evs.filter((e) => e.type === 'PHASE_COMPLETED').map((e) => e.phase)).toEqual([1]);
      expect(evs.at(-1)).toMatchObject({ type: 'PHASE_STARTED', phase: 2 });
    });
  });

  describe('a phase without evidence (no heartbeats since the apply)', () => {
    /** Phase 1 pushed and acked, no heartbeat since: the bake (0 s) is over at once. */
    async function silentPhase(o: Partial<ScenarioOptions> = {}): Promise<Scenario> {
      const s = await scenario({ phaseSizes: [2, 1], bakeSeconds: 0, evidenceTimeoutSeconds: 1, ...o });
      await step(s);
      drain();
      await ack(s, s.phases[0]!, 2);
      return s;
    }

    it('keeps observing, deciding and recording nothing, while the evidence bound is ahead', async () => {
      const s = await silentPhase();
      const first = await step(s);
      expect(first.done).toBe(false);
      expect(first.waitMs).toBeGreaterThan(0);
      expect(first.waitMs).toBeLessThanOrEqual(1000);
      const again = await step(s);
      expect(again.waitMs).toBeLessThanOrEqual(1000);
      expect((await row(s.id)).status).toBe('IN_PROGRESS');
      const types = (await eventRows(s.id)).map((e) => e.type);
      expect(types).not.toContain('HEALTH_CHECKED');
      expect(types).not.toContain('HEALTH_INCONCLUSIVE');
      expect(drain()).toEqual([]);
    });

    it('judges as soon as the evidence comes within the bound: two heartbeats since the apply promote', async () => {
      const s = await silentPhase({ evidenceTimeoutSeconds: 30 });
      await step(s);
      expect((await row(s.id)).phase).toBe(1);
      await beat(s.phases[0]!, HEALTHY);
      await step(s);
      const r = await row(s.id);
      expect(r.phase).toBe(2);
      const checked = (await eventRows(s.id)).find((e) => e.type === 'HEALTH_CHECKED');
      expect(checked?.message).toBe('phase 1 of 2: healthy: 2 updated instances reporting');
    });

    it('one heartbeat since the apply is not evidence', async () => {
      const s = await silentPhase({ evidenceTimeoutSeconds: 30 });
      await beat(s.phases[0]!, HEALTHY, 1);
      await step(s);
      expect((await row(s.id)).phase).toBe(1);
      expect((await eventRows(s.id)).map((e) => e.type)).not.toContain('HEALTH_CHECKED');
    });

    it('past the bound: HEALTH_INCONCLUSIVE with the report, then PAUSED with the reason; resume promotes it as it is', async () => {
      const s = await silentPhase();
      await step(s);
      await sleep(1100);
      const paused = await step(s);
      expect(paused.done).toBe(false);
      expect((await row(s.id)).status).toBe('PAUSED');
      const evs = await eventRows(s.id);
      const inconclusive = evs.find((e) => e.type === 'HEALTH_INCONCLUSIVE');
      expect(inconclusive?.message).toBe(
        'phase 1 of 2: inconclusive: not enough evidence: 0 of 2 updated instances sent 2 heartbeats with metrics since applying (1 needed)',
      );
      expect(inconclusive?.health).toMatchObject({ verdict: 'INCONCLUSIVE', healthy: false, evidence: { updated: 2, reporting: 0, required: 1 } });
      expect(evs.at(-1)).toMatchObject({ type: 'PAUSED' });
      expect(evs.at(-1)!.message).toMatch(/^phase 1 of 2: health inconclusive: not enough evidence: .*; resume to promote it as it is, or roll back$/);
      expect(evs.map((e) => e.type)).not.toContain('HEALTH_CHECKED');
      expect(drain()).toEqual([]);

      await service.resume(ADMIN, s.id);
      await step(s);
      expect((await row(s.id)).phase).toBe(2);
      await step(s);
      expect(pushedIds(drain())).toEqual(s.phases[1]);
    });

    it('past the bound, rolls back on an operator\'s word', async () => {
      const s = await silentPhase();
      await step(s);
      await sleep(1100);
      await step(s);
      await service.rollback(ADMIN, s.id, 'no metrics, no promotion');
      await step(s);
      expect((await row(s.id)).status).toBe('ROLLING_BACK');
    });

    it('with onInconclusive PROMOTE, goes on at the bound and says so', async () => {
      const s = await silentPhase({ onInconclusive: InconclusiveAction.PROMOTE });
      await step(s);
      expect((await row(s.id)).phase).toBe(1);
      await sleep(1100);
      await step(s);
      expect((await row(s.id)).phase).toBe(2);
      const checked = (await eventRows(s.id)).find((e) => e.type === 'HEALTH_CHECKED');
      expect(checked?.message).toMatch(/^phase 1 of 2: inconclusive: not enough evidence: .*; promoted all the same \(health.onInconclusive is PROMOTE\)$/);
    });
  });

  describe('the lease', () => {
    it('a step after the lease expired throws LeaseLostError and changes nothing', async () => {
      const s = await scenario({ phaseSizes: [1, 1] });
      await step(s);
      drain();
      await tdb.query(`update deployment set lease_expires_at = now() - interval '1 second' where id = $1`, [s.id]);
      const before = await row(s.id);
      await expect(step(s)).rejects.toBeInstanceOf(LeaseLostError);
      await expect(orchestrator.checkHealth(s.id, s.owner)).rejects.toBeInstanceOf(LeaseLostError);
      expect(drain()).toEqual([]);
      expect(await row(s.id)).toEqual(before);
    });

    it('another owner can neither step, resume, check nor claim a deployment whose lease is held', async () => {
      const s = await scenario({ phaseSizes: [1, 1] });
      await expect(step(s, 'intruder')).rejects.toThrow(LeaseLostError);
      await expect(orchestrator.resume(s.id, 'intruder')).rejects.toThrow(/lost the lease/);
      await expect(orchestrator.checkHealth(s.id, 'intruder')).rejects.toThrow(LeaseLostError);
      const claimed = await db.transaction((r) => r.deployments.claim('intruder', LEASE_MS, 100));
      expect(claimed).not.toContain(s.id);
      expect(drain()).toEqual([]);
      expect(await row(s.id)).toMatchObject({ status: 'PENDING', phase: 0, lease_owner: s.owner });
    });
  });

  describe('checkHealth (the periodic check)', () => {
    it('healthy: records HEALTH_CHECKED and changes nothing', async () => {
      const s = await scenario({ phaseSizes: [1, 1], bakeSeconds: 30 });
      await step(s);
      drain();
      await ack(s, s.phases[0]!, 2);
      await beat(s.phases[0]!, HEALTHY);
      await step(s); // baking
      expect(await orchestrator.checkHealth(s.id, s.owner)).toBe(false);
      const last = (await eventRows(s.id)).at(-1)!;
      expect(last.type).toBe('HEALTH_CHECKED');
      expect(last.message).toBe('periodic check: healthy: 1 updated instance reporting');
      expect(last.health).toMatchObject({ healthy: true });
      expect(await row(s.id)).toMatchObject({ status: 'IN_PROGRESS', phase: 1 });
      expect(drain()).toEqual([]);
    });

    it('degraded during a bake: records the check and starts the rollback at once', async () => {
      const s = await scenario({ phaseSizes: [1, 1], bakeSeconds: 30 });
      await step(s);
      drain();
      await ack(s, s.phases[0]!, 2);
      await step(s); // baking for 30 s
      expect((await row(s.id)).strategy_state.stage).toBe('OBSERVE');
      await beat(s.phases[0]!, DEGRADED);
      expect(await orchestrator.checkHealth(s.id, s.owner)).toBe(true);
      const r = await row(s.id);
      expect(r.status).toBe('ROLLING_BACK');
      expect(r.rollback_reason).toMatch(/^periodic check in phase 1 of 2: health degraded: error rate 30\.0%/);
      const evs = await eventRows(s.id);
      expect(evs.slice(-2).map((e) => e.type)).toEqual(['HEALTH_CHECKED', 'ROLLBACK_STARTED']);
      expect(evs.at(-2)!.message).toMatch(/^periodic check: degraded: /);
      // The runner's next step gives the previous version back without waiting for the bake.
      await step(s);
      expect(pushedIds(drain(), 1)).toEqual(s.phases[0]);
    });

    it('degraded without autoRollback: pauses once, and only records checks while paused', async () => {
      const s = await scenario({ phaseSizes: [1, 1], bakeSeconds: 30, autoRollback: false });
      await step(s);
      drain();
      await ack(s, s.phases[0]!, 2);
      await step(s);
      await beat(s.phases[0]!, DEGRADED);
      expect(await orchestrator.checkHealth(s.id, s.owner)).toBe(true);
      expect((await row(s.id)).status).toBe('PAUSED');
      expect(await orchestrator.checkHealth(s.id, s.owner)).toBe(false);
      const types = (await eventRows(s.id)).map((e) => e.type);
      expect(types.slice(-3)).toEqual(['HEALTH_CHECKED', 'PAUSED', 'HEALTH_CHECKED']);
      expect((await row(s.id)).status).toBe('PAUSED');
    });

    it('returns false and records nothing while no target applied the new version', async () => {
      const s = await scenario({ phaseSizes: [1, 1] });
      await step(s); // pushed, not acked
      drain();
      const before = (await eventRows(s.id)).length;
      expect(await orchestrator.checkHealth(s.id, s.owner)).toBe(false);
      expect(await eventRows(s.id)).toHaveLength(before);
    });

    it('returns false and records nothing for a DIRECT deployment, even with degraded instances', async () => {
      const s = await scenario({ strategy: DeploymentStrategy.DIRECT, phaseSizes: [2] });
      await step(s);
      drain();
      await ack(s, [s.phases[0]![0]!], 2);
      await beat(s.phases[0]!, DEGRADED);
      const before = (await eventRows(s.id)).length;
      expect(await orchestrator.checkHealth(s.id, s.owner)).toBe(false);
      expect(await eventRows(s.id)).toHaveLength(before);
      expect((await row(s.id)).status).toBe('IN_PROGRESS');
    });
  });

  describe('blue-green', () => {
    let s: Scenario;

    beforeAll(async () => {
      s = await scenario({ strategy: DeploymentStrategy.BLUE_GREEN, phaseSizes: [2], verifySeconds: 1, activeColorInstances: 2 });
    });

    it('pushes to the idle color only, verifies, then switches traffic and completes', async () => {
      await step(s);
      expect(pushedIds(drain())).toEqual([...s.phases[0]!].sort());
      await ack(s, s.phases[0]!, 2);
      await beat(s.phases[0]!, HEALTHY);
      await step(s);
      const last = (await eventRows(s.id)).at(-1)!;
      expect(last.message).toMatch(/verifying 1 s before judging health$/);
      await waitObservation(s.id);
      expect((await step(s)).done).toBe(true);
      const evs = await eventRows(s.id);
      expect(evs.slice(-3).map((e) => e.type)).toEqual(['HEALTH_CHECKED', 'TRAFFIC_SWITCHED', 'COMPLETED']);
      expect(evs.at(-2)!.message).toBe('traffic switched from BLUE to GREEN');
      const [traffic] = await tdb.query<{ active_color: string; deployment_id: string }>(
        'select active_color, deployment_id from traffic_color where service = $1 and environment = $2',
        [s.service, 'STAGING'],
      );
      expect(traffic).toEqual({ active_color: 'GREEN', deployment_id: s.id });
      expect((await row(s.id)).strategy_state.switched).toBe(true);
      expect(await activeVersion(s)).toBe(2);
      expect(drain()).toEqual([]);
    });

    it('rolled back after the switch, switches traffic back at once without pushing anything', async () => {
      await service.rollback(ADMIN, s.id, 'errors on GREEN');
      expect((await row(s.id)).status).toBe('ROLLING_BACK');
      await lease(s.id, s.owner);
      const result = await step(s);
      expect(result.done).toBe(true);
      expect(drain()).toEqual([]);
      const r = await row(s.id);
      expect(r.status).toBe('ROLLED_BACK');
      expect(r.strategy_state.switched).toBe(false);
      const [traffic] = await tdb.query<{ active_color: string }>('select active_color from traffic_color where service = $1', [s.service]);
      expect(traffic!.active_color).toBe('BLUE');
      expect(await activeVersion(s)).toBe(1);
      const evs = await eventRows(s.id);
      expect(evs.slice(-2).map((e) => e.type)).toEqual(['TRAFFIC_SWITCHED', 'ROLLED_BACK']);
      expect(evs.at(-2)!.message).toBe('traffic switched back from GREEN to BLUE, which runs version 1');
      expect(evs.at(-1)!.message).toBe('BLUE takes traffic again: errors on GREEN');
      // GREEN keeps the new version: nothing was pushed to it.
      expect((await targets(s.id)).every((t) => t.state === 'APPLIED' && t.version === 2)).toBe(true);
    });

    it('degraded before the switch: pushes the previous version to the idle color only, traffic never moves', async () => {
      const g = await scenario({ strategy: DeploymentStrategy.BLUE_GREEN, phaseSizes: [2], verifySeconds: 0, activeColorInstances: 2 });
      await step(g);
      drain();
      await ack(g, g.phases[0]!, 2);
      await beat(g.phases[0]!, DEGRADED);
      await step(g); // judged degraded: rollback
      expect((await row(g.id)).status).toBe('ROLLING_BACK');
      await step(g);
      const pushes = drain();
      expect(pushedIds(pushes, 1)).toEqual([...g.phases[0]!].sort());
      expect(pushedIds(pushes)).toEqual([...g.phases[0]!].sort());
      await ack(g, g.phases[0]!, 1);
      expect((await step(g)).done).toBe(true);
      expect((await row(g.id)).status).toBe('ROLLED_BACK');
      expect(await tdb.query('select 1 from traffic_color where service = $1', [g.service])).toEqual([]);
      expect((await eventRows(g.id)).some((e) => e.type === 'TRAFFIC_SWITCHED')).toBe(false);
    });
  });

  describe('takeover by another owner', () => {
    it('continues from the persisted phase and stage with the baseline captured at the start', async () => {
      const s = await scenario({ phaseSizes: [1, 1, 1], bakeSeconds: 1 });
      await step(s);
      drain();
      await ack(s, s.phases[0]!, 2);
      await beat(s.phases[0]!, HEALTHY);
      await step(s); // phase 1 baking
      const persisted = await row(s.id);
      expect(persisted.strategy_state.stage).toBe('OBSERVE');

      // The first owner stops renewing (it died): its lease runs out and another owner claims.
      await tdb.query(`update deployment set lease_expires_at = now() - interval '1 millisecond' where id = $1`, [s.id]);
      const next = `${s.owner}-successor`;
      await lease(s.id, next);
      await expect(step(s)).rejects.toBeInstanceOf(LeaseLostError);
      await orchestrator.resume(s.id, next);
      expect(drain()).toEqual([]); // nothing awaited an ack

      // The new owner first waits out the rest of the same bake, then judges phase 1 with the original baseline.
      const r0 = await step(s, next);
      if (r0.waitMs > 0) {
        expect((await row(s.id)).strategy_state.observeUntil).toBe(persisted.strategy_state.observeUntil);
        await waitObservation(s.id);
        await step(s, next);
      }
      const evs = await eventRows(s.id);
      expect(evs.filter((e) => e.type === 'PHASE_STARTED').map((e) => e.phase)).toEqual([1, 2]);
      expect(evs.find((e) => e.type === 'HEALTH_CHECKED')!.health!.baseline).toEqual(s.baseline);
      expect((await row(s.id)).strategy_state.baseline).toEqual(s.baseline);
      await step(s, next);
      expect(pushedIds(drain())).toEqual(s.phases[1]);
      expect((await row(s.id)).lease_owner).toBe(next);
    });

    it('after a short lease ran out, resume re-sends only the pushes awaiting an ack, never to instances that applied', async () => {
      const s = await scenario({ phaseSizes: [1, 2] });
      await runPhase(s, 1);
      await step(s); // pushes phase 2
      expect(pushedIds(drain())).toEqual([...s.phases[1]!].sort());
      const [acked, silent] = [...s.phases[1]!].sort() as [string, string];
      await ack(s, [acked], 2);

      // The owner's lease is short and not renewed; a successor claims once it has run out.
      await db.transaction((r) => r.deployments.renewLease(s.id, s.owner, 300));
      await sleep(400);
      const next = `${s.owner}-successor`;
      await lease(s.id, next);
      await orchestrator.resume(s.id, next);
      const resent = drain();
      expect(resent).toHaveLength(1);
      expect(resent[0]!.targets).toEqual([silent]);
      expect(resent[0]!.update).toMatchObject({ version: 2, deploymentId: s.id });

      await ack(s, [silent], 2);
      await beat([silent], HEALTHY);
      const result = await step(s, next);
      expect(result.done).toBe(true);
      expect(drain()).toEqual([]);
      expect((await row(s.id)).status).toBe('COMPLETED');
      expect((await targets(s.id)).map((t) => t.state)).toEqual(['APPLIED', 'APPLIED', 'APPLIED']);
    });
  });

  describe('rolling', () => {
    it('waits intervalSeconds after every batch, the last one too, and rolls back a last batch that degrades meanwhile', async () => {
      const s = await scenario({ strategy: DeploymentStrategy.ROLLING, phaseSizes: [1, 1], intervalSeconds: 1 });
      await step(s);
      drain();
      await ack(s, s.phases[0]!, 2);
      await beat(s.phases[0]!, HEALTHY);
      const first = await step(s);
      expect(first.waitMs).toBe(1000);
      expect((await eventRows(s.id)).at(-1)!.message).toBe('phase 1 of 2: 1 of 1 applied; waiting 1 s before judging health');
      await waitObservation(s.id);
      await step(s);
      await step(s);
      expect(pushedIds(drain())).toEqual(s.phases[1]);
      await ack(s, s.phases[1]!, 2);
      const last = await step(s);
      expect(last).toEqual({ done: false, waitMs: 1000 });
      expect((await eventRows(s.id)).at(-1)!.message).toBe('phase 2 of 2: 1 of 1 applied; waiting 1 s before judging health');
      // The last batch reports degraded metrics while it is watched.
      await beat(s.phases[1]!, DEGRADED);
      await waitObservation(s.id);
      await step(s);
      const r = await row(s.id);
      expect(r.status).toBe('ROLLING_BACK');
      expect(r.rollback_reason).toMatch(/^phase 2 of 2: health degraded: /);
      await step(s);
      expect(pushedIds(drain(), 1)).toEqual([...s.phases.flat()].sort());
    });
  });
});
