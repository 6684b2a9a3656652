import { expect } from 'vitest';
import type { PushMessage } from '../../src/delivery/push-message.js';
import type { Principal } from '../../src/domain/authorization.js';
import { INITIAL_STRATEGY_STATE, type StrategyOptions, type StrategyState } from '../../src/domain/deployment-model.js';
import { withPolicyDefaults } from '../../src/domain/health-policy.js';
import { Color, type DeploymentStatus, DeploymentStrategy, type InconclusiveAction, Role } from '../../src/domain/enums.js';
import type { HealthReport } from '../../src/domain/health.js';
import type { InstanceMetrics } from '../../src/domain/instance.js';
import type { StepResult } from '../../src/orchestrator/orchestrator.js';
import { HEALTHY as FLEET_HEALTHY } from './fleet.js';
import { startTestGraph, type StoreGraph } from './graph.js';
import { newDeployment, seedDeployment, seedInstances, seedProfile } from './seed.js';

/**
 * The orchestrator driven step by step, as a runner would, on a real
 * PostgreSQL (tests: test/integration/orchestrator-*.test.ts): pushes are
 * recorded instead of sent, acks are written with the repository the ack
 * service uses, heartbeats go to the in-process registry.
 */

export const HEALTHY: InstanceMetrics = FLEET_HEALTHY;
export const DEGRADED: InstanceMetrics = { errorRate: 0.3, latencyP99Ms: 480, requestCount: 200 };
export const ADMIN: Principal = { sub: 'test-admin', role: Role.ADMIN };
export const LEASE_MS = 60_000;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface DeploymentRow {
  status: DeploymentStatus;
  phase: number;
  strategy_state: StrategyState;
  rollback_reason: string | null;
  failure_reason: string | null;
  lease_owner: string | null;
  finished_at: Date | null;
}

export interface TargetRow {
  instance_id: string;
  phase: number;
  state: string;
  version: number | null;
}

export interface EventRow {
  type: string;
  phase: number;
  status: string;
  message: string | null;
  health: (Omit<HealthReport, 'checkedAt'> & { checkedAt: string }) | null;
}

export interface Scenario {
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

export interface ScenarioOptions {
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

export type StepHarness = ReturnType<typeof stepHarness>;

/**
 * The helpers that drive the orchestrator of a test graph of its own: call
 * start() in beforeAll and stop() in afterAll; `graph` is there in between.
 */
export function stepHarness() {
  const published: PushMessage[] = [];
  let started: StoreGraph | undefined;
  const g = (): StoreGraph => {
    if (!started) throw new Error('start() the step harness (in beforeAll) first');
    return started;
  };
  let counter = 0;

  /** A profile with versions 1 and 2, a registered fleet with a healthy baseline, and a PENDING deployment of version 2 leased by a fresh owner. */
  async function scenario(o: ScenarioOptions): Promise<Scenario> {
    const n = ++counter;
    const strategy = o.strategy ?? DeploymentStrategy.CANARY;
    const svc = `svc-${n}`;
    const previousVersion = o.previousVersion === undefined ? 1 : o.previousVersion;
    const profile = await seedProfile(g().db, { name: `progressive-${n}`, service: svc, versions: 2, activeVersion: previousVersion });
    const blueGreen = strategy === DeploymentStrategy.BLUE_GREEN;
    const phases = o.phaseSizes.map((size, p) => Array.from({ length: size }, (_, k) => `${svc}-p${p + 1}-${k}`));
    const others = Array.from({ length: o.activeColorInstances ?? 0 }, (_, k) => `${svc}-blue-${k}`);
    const all = [...phases.flat(), ...others];
    await seedInstances(g().registry, all, {
      service: svc,
      registeredAt: new Date(Date.now() - 60_000),
      color: (id) => (blueGreen ? (others.includes(id) ? Color.BLUE : Color.GREEN) : null),
      beats: { agoMs: [3000, 2000, 1000], metrics: HEALTHY },
    });
    const judges = strategy !== DeploymentStrategy.DIRECT;
    const baseline = judges ? await g().health.baseline(phases.flat(), new Date()) : null;
    const options: StrategyOptions =
      strategy === DeploymentStrategy.CANARY
        ? { strategy, canary: { phases: o.phaseSizes.map((_, i) => (i + 1) / o.phaseSizes.length), bakeSeconds: o.bakeSeconds ?? 0 } }
        : strategy === DeploymentStrategy.BLUE_GREEN
          ? { strategy, blueGreen: { verifySeconds: o.verifySeconds ?? 0 } }
          : strategy === DeploymentStrategy.ROLLING
            ? { strategy, rolling: { batchSize: 1, batchPercent: null, intervalSeconds: o.intervalSeconds ?? 0 } }
            : { strategy, direct: { maxConcurrency: 10 } };
    const id = await seedDeployment(
      g().db,
      newDeployment(profile, {
        version: 2,
        options,
        // The fixed limits alone judge here, on 2 samples a group: these tests are about what the orchestrator does with a verdict.
        healthPolicy: withPolicyDefaults({
          maxErrorRateIncrease: 0.05,
          maxLatencyIncreasePct: 50,
          customThresholds: null,
          metrics: [],
          minSamples: 2,
          autoRollback: o.autoRollback ?? true,
          evidenceTimeoutSeconds: o.evidenceTimeoutSeconds ?? null,
          onInconclusive: o.onInconclusive,
        }),
        ackTimeoutSeconds: o.ackTimeoutSeconds ?? 30,
        phaseCount: phases.length,
        state: {
          ...INITIAL_STRATEGY_STATE,
          baseline: baseline?.snapshot ?? null,
          baselineSamples: baseline?.samples ?? null,
          color: blueGreen ? Color.GREEN : null,
          previousColor: blueGreen ? Color.BLUE : null,
        },
      }),
      phases.flatMap((ids, p) => ids.map((instanceId) => ({ instanceId, phase: p + 1 }))),
    );
    const owner = `owner-${n}`;
    await lease(id, owner);
    published.length = 0;
    return { id, profileId: profile.id, profileName: profile.name, service: svc, owner, phases, all, baseline: baseline?.snapshot ?? null };
  }

  /** Takes the lease of `id` for `owner` the way a runner does (claim), checking it was among the claimed. */
  async function lease(id: string, owner: string, leaseMs = LEASE_MS): Promise<void> {
    const claimed = await g().db.transaction((r) => r.deployments.claim(owner, leaseMs, 100));
    expect(claimed).toContain(id);
  }

  const step = (s: Scenario, owner = s.owner): Promise<StepResult> => g().orchestrator.step(s.id, owner);
  /** The pushes published since the last call. */
  const drain = (): PushMessage[] => published.splice(0);
  const pushedIds = (pushes: PushMessage[], version?: number) =>
    pushes.filter((p) => version === undefined || p.update.version === version).flatMap((p) => p.targets ?? []).sort();

  async function ack(s: Scenario, ids: string[], version: number, success = true, error: string | null = null) {
    return g().db.transaction((r) =>
      r.instanceConfigs.recordAcks(
        ids.map((instanceId) => ({ instanceId, profileName: s.profileName, version, success, reloadMs: success ? 5 : null, error })),
      ),
    );
  }

  /** Heartbeats after the acks just written (their acked_at is the transaction's time), so they count for the updated instances. */
  async function beat(ids: string[], metrics: InstanceMetrics, times = 2): Promise<void> {
    await sleep(20);
    for (let k = 0; k < times; k++) for (const id of ids) await g().registry.heartbeat(id, new Date(), metrics);
  }

  async function row(id: string): Promise<DeploymentRow> {
    const [r] = await g().tdb.query<DeploymentRow>(
      'select status, phase, strategy_state, rollback_reason, failure_reason, lease_owner, finished_at from deployment where id = $1',
      [id],
    );
    return r!;
  }
  const targets = (id: string) =>
    g().tdb.query<TargetRow>('select instance_id, phase, state, version from deployment_target where deployment_id = $1 order by instance_id', [id]);
  const stateOf = async (id: string, instanceId: string) => (await targets(id)).find((t) => t.instance_id === instanceId)!;
  const eventRows = (id: string) =>
    g().tdb.query<EventRow>('select type, phase, status, message, health from deployment_event where deployment_id = $1 order by id', [id]);
  const activeVersion = async (s: Scenario) => (await g().db.read((r) => r.profiles.findByName(s.profileName)))!.activeVersion;

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

  return {
    /** `env`: configuration variables over the defaults (HOTSWAP_REPUSH_PER_SECOND, say). */
    async start(env?: Record<string, string>) {
      started = await startTestGraph({ published, poolMax: 4, env });
    },
    async stop() {
      await started?.stop();
    },
    /** The graph: its orchestrator, deployment service, event publisher, database. */
    get graph(): StoreGraph {
      return g();
    },
    scenario, lease, step, drain, pushedIds, ack, beat, row, targets, stateOf, eventRows, activeVersion, waitObservation, runPhase,
  };
}
