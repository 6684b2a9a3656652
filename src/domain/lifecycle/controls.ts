import type { DeploymentRecord, StrategyState } from '../deployment-model.js';
import { DeploymentStatus } from '../enums.js';
import { BadInputError, ConflictError } from '../errors.js';
import { assertTransition } from './status.js';
import { withStage } from './stage.js';

/** Longest reason kept for a rollback or a cancellation. */
export const MAX_ROLLBACK_REASON_LENGTH = 1000;

/** A status move an operator asked for, with the rest of the deployment it changes and the event's message. */
export interface ControlMove {
  status: DeploymentStatus;
  state?: StrategyState;
  rollbackReason?: string;
  failureReason?: string;
  finished?: boolean;
  message: string;
}

/**
 * The trimmed reason an operator gave.
 * @throws BadInputError for an empty or too long reason
 */
function checkReason(reason: string, purpose: string): string {
  const trimmed = reason.trim();
  if (trimmed.length === 0) throw new BadInputError(`reason must say why the deployment is ${purpose}`, { field: 'reason' });
  if (trimmed.length > MAX_ROLLBACK_REASON_LENGTH) {
    throw new BadInputError(`reason must be at most ${MAX_ROLLBACK_REASON_LENGTH} characters`, { field: 'reason' });
  }
  return trimmed;
}

/** @throws ConflictError unless the deployment may pause (IN_PROGRESS) */
export function pauseMove(d: DeploymentRecord, by: string): ControlMove {
  assertTransition(d.status, DeploymentStatus.PAUSED);
  return { status: DeploymentStatus.PAUSED, message: `paused by ${by}` };
}

/** @throws ConflictError unless the deployment is PAUSED */
export function resumeMove(d: DeploymentRecord, by: string): ControlMove {
  if (d.status !== DeploymentStatus.PAUSED) {
    throw new ConflictError(`deployment is ${d.status}; only a PAUSED deployment can be resumed`, { status: d.status });
  }
  return { status: DeploymentStatus.IN_PROGRESS, message: `resumed by ${by}` };
}

/**
 * Ends a deployment that has pushed nothing yet.
 * @throws BadInputError for an empty or too long reason
 * @throws ConflictError once it has started pushing (roll it back instead) or has ended
 */
export function cancelMove(d: DeploymentRecord, reason: string, by: string): ControlMove {
  const why = checkReason(reason, 'cancelled');
  if (d.status === DeploymentStatus.IN_PROGRESS || d.status === DeploymentStatus.PAUSED) {
    throw new ConflictError(
      `deployment is ${d.status}: it has started pushing version ${d.version}, so it cannot be cancelled; roll it back instead`,
      { status: d.status },
    );
  }
  assertTransition(d.status, DeploymentStatus.CANCELLED);
  return { status: DeploymentStatus.CANCELLED, failureReason: `cancelled by ${by}: ${why}`, finished: true, message: `cancelled by ${by}: ${why}` };
}

/**
 * Checks that `d` may be rolled back by hand and returns the trimmed reason.
 * @throws BadInputError for an empty or too long reason, or when there is no previous version to go back to
 * @throws ConflictError when the status does not allow it (only IN_PROGRESS, PAUSED and COMPLETED do)
 */
export function checkManualRollback(d: DeploymentRecord, reason: string): string {
  const trimmed = checkReason(reason, 'rolled back');
  assertTransition(d.status, DeploymentStatus.ROLLING_BACK);
  if (d.previousVersion === null) {
    throw new BadInputError(
      `version ${d.version} was the first active version of profile "${d.profileName}": there is no previous version to roll back to`,
      { field: 'id' },
    );
  }
  return trimmed;
}

/** A rollback an operator asked for (see checkManualRollback). */
export function rollbackMove(d: DeploymentRecord, reason: string, by: string): ControlMove {
  const why = checkManualRollback(d, reason);
  return { ...rollbackStart(d, why), message: `rollback requested by ${by}: ${why}` };
}

/** The state a deployment moves into when a rollback starts (automatic or by hand). */
export function rollbackStart(d: DeploymentRecord, reason: string): {
  status: DeploymentStatus;
  rollbackReason: string;
  state: StrategyState;
  finished?: false;
} {
  return {
    status: DeploymentStatus.ROLLING_BACK,
    rollbackReason: reason,
    // A new rollback gets a span of its own; the phase's trace is kept.
    state: { ...withStage(d.state, { kind: 'ROLLBACK', from: d.status, pushed: false }), rollbackTrace: null },
    ...(d.status === DeploymentStatus.COMPLETED && { finished: false as const }),
  };
}
