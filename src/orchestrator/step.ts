import { summarizeCounts } from '../domain/deployment.js';
import type { DeploymentEventRecord, DeploymentRecord, EventType, StrategyState } from '../domain/deployment-model.js';
import type { HealthReport } from '../domain/health.js';
import type { JsonObject } from '../domain/json.js';
import type { PushMessage } from '../delivery/push-message.js';
import type { InstanceRegistry } from '../registry/instance-registry.js';
import type { Repositories } from '../store/database.js';
import type { DeploymentPatch } from '../store/deployment.repository.js';
import { DeploymentStatus } from '../domain/enums.js';
import { DEFAULT_REPUSH_PER_SECOND, type RepushBudget } from '../domain/repush-pacing.js';
import { type PhaseStage, stageOf, withStage } from '../domain/lifecycle/stage.js';
import { transitionEvent } from '../domain/lifecycle/status.js';
import type { DeploymentTracing } from './deployment-tracing.js';
import type { HealthMonitor } from './health-monitor.js';
import type { Strategy } from './strategies/strategy.js';

/** A status move with the rest of the deployment it changes. */
export type StatusMove = DeploymentPatch & { status: DeploymentStatus };

/** What the runner does after a step. */
export interface StepResult {
  /** The deployment reached a terminal state: stop running it. */
  done: boolean;
  /** Run the next step after at most this long (sooner when woken by an ack or a control). */
  waitMs: number;
}

/** A deployment's targets as its strategy planned them. */
export type PlannedTargets = ReadonlyArray<{ instanceId: string; phase: number }>;

export interface VersionPayload {
  hash: string;
  data: JsonObject;
}

/** The orchestrator's tunables. */
export interface OrchestratorSettings {
  /** How long a target that disconnected may take to come back and ack before it is LEFT. @default 15000 */
  reconnectGraceMs: number;
  /**
   * How long a phase keeps observing past its bake for evidence when its policy
   * names no evidenceTimeoutSeconds. @default 60000 (6 heartbeat intervals of 10 s)
   */
  evidenceTimeoutMs: number;
  /** Unanswered pushes this replica may send again per second, all deployments together. @default DEFAULT_REPUSH_PER_SECOND */
  repushPerSecond: number;
}

export const DEFAULT_ORCHESTRATOR_SETTINGS: Readonly<OrchestratorSettings> = Object.freeze({
  reconnectGraceMs: 15_000,
  evidenceTimeoutMs: 60_000,
  repushPerSecond: DEFAULT_REPUSH_PER_SECOND,
});

/** What a step needs beyond its transaction. */
export interface StepDependencies {
  registry: InstanceRegistry;
  settings: OrchestratorSettings;
  health: HealthMonitor;
  tracing: DeploymentTracing;
  /** The replica's budget of re-sends (acks.ts). */
  repushBudget: RepushBudget;
  /** The content of a version, cached per deployment (versions are immutable). */
  payload(r: Repositories, d: DeploymentRecord, version: number): Promise<VersionPayload>;
}

/**
 * One step of one deployment inside its transaction: writes go to `r` at once,
 * pushes and events are collected and published by the orchestrator only after
 * the commit (persist, then publish).
 */
export class Step {
  readonly pushes: PushMessage[] = [];
  readonly events: DeploymentEventRecord[] = [];

  constructor(
    readonly r: Repositories,
    /** The deployment as this step has written it so far. */
    public d: DeploymentRecord,
    readonly now: Date,
    readonly strategy: Strategy,
    readonly deps: StepDependencies,
  ) {}

  /** Where the current phase stands. */
  get stage(): PhaseStage {
    return stageOf(this.d.status, this.d.state);
  }

  /**
   * The one writer of a deployment's status (src/domain/lifecycle/status.ts):
   * checks the move against the transition table, writes the status with the
   * rest of `move`, then records the move's event, in that order.
   * @throws ConflictError when the table does not allow the move
   */
  async transition(move: StatusMove, message: string, health: HealthReport | null = null): Promise<void> {
    const type = transitionEvent(this.d.status, move.status);
    await this.write(move);
    await this.emit(type, message, health);
  }

  /** Writes anything but the status (that is `transition`'s). */
  update(patch: Omit<DeploymentPatch, 'status'>): Promise<void> {
    return this.write(patch);
  }

  setState(patch: Partial<StrategyState>): Promise<void> {
    return this.update({ state: { ...this.d.state, ...patch } });
  }

  setStage(stage: PhaseStage): Promise<void> {
    return this.update({ state: withStage(this.d.state, stage) });
  }

  private async write(patch: DeploymentPatch): Promise<void> {
    await this.r.deployments.update(this.d.id, patch, this.now);
    this.d = {
      ...this.d,
      ...(patch.status !== undefined && { status: patch.status }),
      ...(patch.phase !== undefined && { phase: patch.phase }),
      ...(patch.state !== undefined && { state: patch.state }),
      ...(patch.rollbackReason !== undefined && { rollbackReason: patch.rollbackReason }),
      ...(patch.failureReason !== undefined && { failureReason: patch.failureReason }),
    };
  }

  /** Records an event with the deployment's current status, phase and progress. */
  async emit(type: EventType, message: string | null, health: HealthReport | null = null): Promise<void> {
    const counts = await this.r.targets.counts(this.d.id, null);
    const event: DeploymentEventRecord = {
      deploymentId: this.d.id,
      type,
      status: this.d.status,
      phase: this.d.phase,
      progress: summarizeCounts(counts).progress,
      message,
      health,
      at: this.now,
    };
    await this.r.deployments.insertEvent(event);
    this.events.push(event);
  }

  /** Queues `version` for the given instances (sent after the commit). */
  async push(version: number, instanceIds: string[]): Promise<void> {
    if (instanceIds.length === 0) return;
    const d = this.d;
    const payload = await this.deps.payload(this.r, d, version);
    const parent = d.status === DeploymentStatus.ROLLING_BACK ? d.state.rollbackTrace : d.state.phaseTrace;
    const traceparent = this.deps.tracing.push(d, parent, version, instanceIds) ?? d.traceContext;
    this.pushes.push({
      service: d.service,
      environment: d.environment,
      targets: instanceIds,
      update: { profileName: d.profileName, version, ...payload, deploymentId: d.id, traceparent },
    });
  }
}
