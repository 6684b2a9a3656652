import type { Logger } from 'pino';
import { TargetState } from '../domain/deployment.js';
import { type DeploymentEventRecord, type DeploymentRecord, EventType } from '../domain/deployment-model.js';
import { DeploymentStatus } from '../domain/enums.js';
import { NotFoundError } from '../domain/errors.js';
import { summarizeHealth } from '../domain/health-report.js';
import type { ControlMove } from '../domain/lifecycle/controls.js';
import { healthAction } from '../domain/lifecycle/judgement.js';
import { healthAccepted } from '../domain/lifecycle/stage.js';
import { isFinished } from '../domain/lifecycle/status.js';
import { RepushBudget } from '../domain/repush-pacing.js';
import type { ConfigPushHub } from '../delivery/push-hub.js';
import type { InstanceRegistry } from '../registry/instance-registry.js';
import type { Database, Repositories } from '../store/database.js';
import { repush } from './acks.js';
import type { DeploymentEventPublisher } from './events.js';
import { DeploymentTracing } from './deployment-tracing.js';
import type { HealthMonitor } from './health-monitor.js';
import { act, runStep } from './run-step.js';
import {
  DEFAULT_ORCHESTRATOR_SETTINGS,
  type OrchestratorSettings,
  type PlannedTargets,
  Step,
  type StepDependencies,
  type StepResult,
  type VersionPayload,
} from './step.js';
import { strategyFor } from './strategies/select-strategy.js';

export type { PlannedTargets, StepResult } from './step.js';

/** The lease on a deployment is gone: another replica may be running it. */
export class LeaseLostError extends Error {
  constructor(deploymentId: string) {
    super(`lost the lease on deployment ${deploymentId}`);
  }
}

/** What the orchestrator reports besides events: spans, and the ends of deployments for metrics. */
export interface OrchestratorObservers {
  tracing: DeploymentTracing;
  ended?: (d: DeploymentRecord, status: DeploymentStatus, at: Date) => void;
}

/** A first step run in the creating transaction, and how to publish it after the commit. */
export interface FirstStep {
  result: StepResult;
  /** Its pushes, then `before` (the creation's events) and its own events. */
  publish(before: DeploymentEventRecord[]): Promise<void>;
}

/** How often a running deployment looks for pushes to send again. */
const REPUSH_CHECK_MS = 1000;

/**
 * Advances deployments one step at a time under a lease. Each step is one
 * transaction that checks the lease, writes the new state and its events, and
 * only after the commit publishes pushes and events (persist, then publish).
 * What a step does is decided by domain/lifecycle/decide.ts and applied by
 * run-step.ts; operators' controls go through the same status writer (Step.transition).
 */
export class Orchestrator {
  /** Version content per deployment and version, read once (versions are immutable). */
  private readonly payloads = new Map<string, VersionPayload>();
  /** When each running deployment last looked for pushes to send again. */
  private readonly lastRepushCheck = new Map<string, number>();
  private readonly deps: StepDependencies;

  constructor(
    private readonly db: Database,
    private readonly hub: ConfigPushHub,
    private readonly events: DeploymentEventPublisher,
    registry: InstanceRegistry,
    health: HealthMonitor,
    private readonly logger: Logger,
    private readonly observers: OrchestratorObservers = { tracing: new DeploymentTracing() },
    settings: OrchestratorSettings = DEFAULT_ORCHESTRATOR_SETTINGS,
  ) {
    this.deps = {
      registry, settings, health, tracing: observers.tracing,
      repushBudget: new RepushBudget(settings.repushPerSecond, Date.now()),
      payload: (r, d, version) => this.payload(r, d, version),
    };
  }

  /** Re-sends pushes still awaiting an ack: after a takeover, the pushes of the replica that died may never have gone out. */
  async resume(deploymentId: string, owner: string): Promise<void> {
    const sent = await this.inStep(deploymentId, owner, (s) => repush(s, 0));
    if (sent > 0) this.logger.info({ deploymentId, pushes: sent }, 'resumed a deployment: re-sent unacknowledged pushes');
  }

  async step(deploymentId: string, owner: string): Promise<StepResult> {
    const result = await this.inStep(deploymentId, owner, (s) => this.advance(s));
    if (result.done) this.forget(deploymentId);
    return result;
  }

  /**
   * The first step of a deployment, inside the transaction that creates it
   * with its lease held by `owner`: it writes the planned targets with its
   * first pushes, which commit with it, and `publish` sends them after the
   * commit (no hand-over to a runner between), then the creation's own events
   * and the step's.
   */
  async firstStep(r: Repositories, deploymentId: string, owner: string, targets: PlannedTargets): Promise<FirstStep> {
    const { step, result } = await this.stepIn(r, deploymentId, owner, (s) => {
      // Only a PENDING deployment's step writes the planned targets: anything else would commit none.
      if (s.d.status !== DeploymentStatus.PENDING) throw new Error(`deployment ${deploymentId} is ${s.d.status}, not new`);
      return this.advance(s, targets);
    });
    return {
      result,
      publish: async (before) => {
        await this.publish(step, before);
        if (result.done) this.forget(deploymentId);
      },
    };
  }

  /** `planned`: the targets of a deployment created in this transaction, not written yet. */
  private advance(s: Step, planned?: PlannedTargets): Promise<StepResult> {
    const id = s.d.id;
    const repushDue = Date.now() - (this.lastRepushCheck.get(id) ?? 0) > REPUSH_CHECK_MS;
    if (repushDue) this.lastRepushCheck.set(id, Date.now());
    return runStep(s, repushDue, planned);
  }

  /**
   * The periodic health check of a running (or paused) deployment that judges
   * health: compares the updated instances with the baseline and records a
   * HEALTH_CHECKED event; a FAIL acts on it as at the end of a phase
   * (healthAction: roll back, or pause when autoRollback is off), while an
   * INCONCLUSIVE check waits for the phase's own judgement. True when it
   * changed the status (the runner should look now).
   */
  async checkHealth(deploymentId: string, owner: string): Promise<boolean> {
    return this.inStep(deploymentId, owner, async (s) => {
      const { d, strategy } = s;
      if (!strategy.judgesHealth || (d.status !== DeploymentStatus.IN_PROGRESS && d.status !== DeploymentStatus.PAUSED)) return false;
      const targets = await s.r.deployments.targets(d.id);
      if (!targets.some((t) => t.state === TargetState.APPLIED && t.version === d.version)) return false;
      const report = await s.deps.health.check(d, targets, s.now);
      s.deps.tracing.healthChecked(d, d.state.phaseTrace, report, true);
      await s.emit(EventType.HEALTH_CHECKED, `periodic check: ${summarizeHealth(report)}`, report);
      const where = `periodic check in phase ${d.phase} of ${d.phaseCount}`;
      const action = healthAction(report, d.healthPolicy, where, { accepted: healthAccepted(s.stage), evidenceDue: false });
      if (action.kind === 'rollback' || (action.kind === 'pause' && d.status !== DeploymentStatus.PAUSED)) {
        await act(s, action, report);
        return true;
      }
      return false;
    });
  }

  /**
   * An operator's pause, resume, rollback or cancel: with the deployment row
   * locked (so it applies between two steps of its runner), `move` checks it
   * and the status writer applies it; then its event goes out and the runner
   * is woken. `move` may read more in the same transaction.
   */
  async control(deploymentId: string, move: (r: Repositories, d: DeploymentRecord) => Promise<ControlMove> | ControlMove): Promise<void> {
    const step = await this.db.transaction(async (r) => {
      const d = await r.deployments.lock(deploymentId);
      if (!d) throw new NotFoundError(`deployment ${deploymentId} not found`, { deploymentId });
      const { message, ...change } = await move(r, d);
      const s = new Step(r, d, new Date(), strategyFor(d.options.strategy), this.deps);
      await s.transition(change, message);
      return s;
    });
    await this.publish(step);
    await this.events.wake(deploymentId, 'control');
  }

  /** Runs `work` as one step under the lease, then publishes what it queued. */
  private async inStep<T>(deploymentId: string, owner: string, work: (s: Step) => Promise<T>): Promise<T> {
    const { step, result } = await this.db.transaction((r) => this.stepIn(r, deploymentId, owner, work));
    await this.publish(step);
    return result;
  }

  private async stepIn<T>(r: Repositories, deploymentId: string, owner: string, work: (s: Step) => Promise<T>): Promise<{ step: Step; result: T }> {
    const d = await r.deployments.lockLeased(deploymentId, owner);
    if (!d) throw new LeaseLostError(deploymentId);
    const step = new Step(r, d, new Date(), strategyFor(d.options.strategy), this.deps);
    return { step, result: await work(step) };
  }

  /** After the step's commit: its pushes go out, then `before` and its events. */
  private async publish(step: Step, before: DeploymentEventRecord[] = []): Promise<void> {
    // Observed before publishing: the outcome is committed even if a publish fails.
    for (const e of step.events) {
      if (!isFinished(e.status)) continue;
      this.observers.tracing.finished(step.d, e.type);
      this.observers.ended?.(step.d, e.status, e.at);
    }
    for (const p of step.pushes) await this.hub.publish(p);
    await this.events.publish([...before, ...step.events]);
  }

  private forget(deploymentId: string): void {
    this.lastRepushCheck.delete(deploymentId);
    for (const key of this.payloads.keys()) if (key.startsWith(`${deploymentId}:`)) this.payloads.delete(key);
  }

  private async payload(r: Repositories, d: DeploymentRecord, version: number): Promise<VersionPayload> {
    const key = `${d.id}:${version}`;
    let payload = this.payloads.get(key);
    if (!payload) {
      const v = await r.versions.get({ id: d.profileId, name: d.profileName }, version);
      if (!v) throw new Error(`version ${version} of ${d.profileName} is gone`);
      payload = { hash: v.hash, data: v.data };
      this.payloads.set(key, payload);
    }
    return payload;
  }
}
