import type { DeploymentResult, TargetState } from './deployment.js';
import { type Color, type DeploymentStatus, type DeploymentStrategy, type Environment } from './enums.js';
import type { HealthReport, HealthSnapshot } from './health.js';
import type { HealthPolicy } from './health-policy.js';

export type { HealthPolicy } from './health-policy.js';

/** Event types of API.md, plus CURRENT_STATE: the first message of a deploymentEvents subscription. */
export const EventType = {
  STARTED: 'STARTED',
  PHASE_STARTED: 'PHASE_STARTED',
  PHASE_COMPLETED: 'PHASE_COMPLETED',
  HEALTH_CHECKED: 'HEALTH_CHECKED',
  PAUSED: 'PAUSED',
  RESUMED: 'RESUMED',
  ROLLBACK_STARTED: 'ROLLBACK_STARTED',
  ROLLED_BACK: 'ROLLED_BACK',
  COMPLETED: 'COMPLETED',
  FAILED: 'FAILED',
  /** Ended before it pushed anything (cancelDeployment). */
  CANCELLED: 'CANCELLED',
  TRAFFIC_SWITCHED: 'TRAFFIC_SWITCHED',
  /** A phase's health stayed INCONCLUSIVE to its evidence bound, and the deployment pauses for an operator. */
  HEALTH_INCONCLUSIVE: 'HEALTH_INCONCLUSIVE',
  CURRENT_STATE: 'CURRENT_STATE',
} as const;
export type EventType = (typeof EventType)[keyof typeof EventType];

export interface CanaryOptions {
  /** Cumulative shares of the fleet, ascending, the last one 1. */
  phases: number[];
  bakeSeconds: number;
}
export interface RollingOptions {
  batchSize: number | null;
  batchPercent: number | null;
  intervalSeconds: number;
}
export interface BlueGreenOptions {
  verifySeconds: number;
}
export interface DirectOptions {
  maxConcurrency: number;
}

/** The options of the deployment's strategy (only its own are kept). */
export type StrategyOptions =
  | { strategy: DeploymentStrategy.CANARY; canary: CanaryOptions }
  | { strategy: DeploymentStrategy.ROLLING; rolling: RollingOptions }
  | { strategy: DeploymentStrategy.BLUE_GREEN; blueGreen: BlueGreenOptions }
  | { strategy: DeploymentStrategy.DIRECT; direct: DirectOptions };

/**
 * Where a deployment stands inside its current phase, persisted with it so a
 * replica that takes it over continues exactly there (strategy_state column).
 */
export interface StrategyState {
  /** ROLLOUT: pushing the phase and awaiting acks; OBSERVE: every target answered, watching health until observeUntil. */
  stage: 'ROLLOUT' | 'OBSERVE';
  /** ISO time the bake / verify / interval of the current phase ends. */
  observeUntil: string | null;
  /** Health of the targets captured when the deployment started (null for strategies that do not judge health). */
  baseline: HealthSnapshot | null;
  /**
   * The targets' heartbeat samples before the deployment, per metric, at most
   * BASELINE_SAMPLES (1,000) each: the control group once no instance is left on the
   * previous version. null before this was kept, or for strategies that do not judge health.
   */
  baselineSamples?: Record<string, number[]> | null;
  /** An operator resumed the current phase after it was paused as degraded: its health no longer blocks it. */
  healthOverridden: boolean;
  /** Blue-green: the color the new version goes to, and the color that was active before. */
  color: Color | null;
  previousColor: Color | null;
  /** Blue-green: traffic was switched to `color`. */
  switched: boolean;
  /** Rollback: the previous version has been pushed; from which status the rollback started. */
  rollbackPushed: boolean;
  rollbackFrom: DeploymentStatus | null;
  /** W3C traceparents of the current phase's span and of the rollback's span (pushes hang under them). */
  phaseTrace: string | null;
  rollbackTrace: string | null;
}

export const INITIAL_STRATEGY_STATE: Readonly<StrategyState> = Object.freeze({
  stage: 'ROLLOUT',
  observeUntil: null,
  baseline: null,
  healthOverridden: false,
  color: null,
  previousColor: null,
  switched: false,
  rollbackPushed: false,
  rollbackFrom: null,
  phaseTrace: null,
  rollbackTrace: null,
});

export interface DeploymentRecord {
  id: string;
  profileId: string;
  profileName: string;
  service: string;
  environment: Environment;
  version: number;
  previousVersion: number | null;
  options: StrategyOptions;
  healthPolicy: HealthPolicy;
  ackTimeoutSeconds: number;
  status: DeploymentStatus;
  /** 0 before the first phase. */
  phase: number;
  phaseCount: number;
  state: StrategyState;
  rollbackReason: string | null;
  /** Why it FAILED, in a sentence (per-instance reasons are on the targets). */
  failureReason: string | null;
  startedBy: string;
  /** W3C traceparent of the mutation that started it. */
  traceContext: string | null;
  createdAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
  result: DeploymentResult;
}

export interface TargetRecord {
  instanceId: string;
  phase: number;
  state: TargetState;
  /** The version pushed to it (the new one, or the previous one on rollback). */
  version: number | null;
  pushedAt: Date | null;
  deadlineAt: Date | null;
  ackedAt: Date | null;
  reloadMs: number | null;
  error: string | null;
}

export interface DeploymentEventRecord {
  deploymentId: string;
  type: EventType;
  status: DeploymentStatus;
  phase: number;
  progress: number;
  message: string | null;
  /** The verdict of a HEALTH_CHECKED event (and of the event that acted on it). */
  health: HealthReport | null;
  at: Date;
}
