import type { StrategyState } from '../deployment-model.js';
import { DeploymentStatus } from '../enums.js';

/**
 * Where the current phase of a running deployment stands.
 * - ROLLOUT: pushing the phase's targets and awaiting their acks;
 * - OBSERVE: every target answered; watching health until `until` (ms since the epoch), then judging;
 * - ROLLBACK: giving the previous version back (`pushed` once it went out), started from `from`.
 * `healthAccepted`: an operator resumed the phase after it paused on its health, which no longer blocks it.
 */
export type PhaseStage =
  | { kind: 'ROLLOUT'; healthAccepted: boolean }
  | { kind: 'OBSERVE'; until: number; healthAccepted: boolean }
  | { kind: 'ROLLBACK'; from: DeploymentStatus | null; pushed: boolean };

/**
 * The stage of a deployment, read from its persisted state. The row keeps the
 * flat fields the previous release wrote (stage, observeUntil,
 * healthOverridden, rollbackPushed, rollbackFrom), so replicas of two releases
 * can hand a deployment to each other during an upgrade.
 */
export function stageOf(status: DeploymentStatus, state: StrategyState): PhaseStage {
  if (status === DeploymentStatus.ROLLING_BACK) return { kind: 'ROLLBACK', from: state.rollbackFrom, pushed: state.rollbackPushed };
  if (state.stage === 'OBSERVE') {
    // An unreadable end has passed: judge now rather than observe for ever.
    const until = Date.parse(state.observeUntil ?? '');
    return { kind: 'OBSERVE', until: Number.isNaN(until) ? 0 : until, healthAccepted: state.healthOverridden };
  }
  return { kind: 'ROLLOUT', healthAccepted: state.healthOverridden };
}

/** `state` with `stage` written into its persisted fields. */
export function withStage(state: StrategyState, stage: PhaseStage): StrategyState {
  switch (stage.kind) {
    case 'ROLLOUT':
      return { ...state, stage: 'ROLLOUT', observeUntil: null, healthOverridden: stage.healthAccepted };
    case 'OBSERVE':
      return { ...state, stage: 'OBSERVE', observeUntil: new Date(stage.until).toISOString(), healthOverridden: stage.healthAccepted };
    case 'ROLLBACK':
      return { ...state, stage: 'ROLLOUT', observeUntil: null, rollbackPushed: stage.pushed, rollbackFrom: stage.from };
  }
}

/** True when an operator accepted the current phase's health (resumed it after a pause). */
export function healthAccepted(stage: PhaseStage): boolean {
  return stage.kind !== 'ROLLBACK' && stage.healthAccepted;
}

/** The stage once an operator's resume will accept its health: a pause for health marks it so. */
export function acceptingHealth(stage: PhaseStage): PhaseStage {
  return stage.kind === 'ROLLBACK' ? stage : { ...stage, healthAccepted: true };
}
