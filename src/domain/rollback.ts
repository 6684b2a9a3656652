import type { DeploymentRecord, StrategyState } from './deployment-model.js';
import { assertTransition } from './deployment.js';
import { DeploymentStatus } from './enums.js';
import { BadInputError } from './errors.js';

/** Longest rollback reason kept. */
export const MAX_ROLLBACK_REASON_LENGTH = 1000;

/**
 * Checks that `d` may be rolled back by hand and returns the trimmed reason.
 * @throws BadInputError for an empty or too long reason, or when there is no previous version to go back to
 * @throws ConflictError when the status does not allow it (only IN_PROGRESS, PAUSED and COMPLETED do)
 */
export function checkManualRollback(d: DeploymentRecord, reason: string): string {
  const trimmed = reason.trim();
  if (trimmed.length === 0) throw new BadInputError('reason must say why the deployment is rolled back', { field: 'reason' });
  if (trimmed.length > MAX_ROLLBACK_REASON_LENGTH) {
    throw new BadInputError(`reason must be at most ${MAX_ROLLBACK_REASON_LENGTH} characters`, { field: 'reason' });
  }
  assertTransition(d.status, DeploymentStatus.ROLLING_BACK);
  if (d.previousVersion === null) {
    throw new BadInputError(
      `version ${d.version} was the first active version of profile "${d.profileName}": there is no previous version to roll back to`,
      { field: 'id' },
    );
  }
  return trimmed;
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
    state: { ...d.state, stage: 'ROLLOUT', observeUntil: null, rollbackPushed: false, rollbackFrom: d.status, rollbackTrace: null },
    ...(d.status === DeploymentStatus.COMPLETED && { finished: false as const }),
  };
}
