import { DeploymentStatus as S } from './enums.js';
import { ConflictError } from './errors.js';

/** Allowed moves of a deployment's status; a status missing a move may not make it. */
export const DEPLOYMENT_TRANSITIONS: Readonly<Record<S, readonly S[]>> = {
  [S.PENDING]: [S.IN_PROGRESS, S.CANCELLED, S.FAILED],
  [S.IN_PROGRESS]: [S.PAUSED, S.COMPLETED, S.FAILED, S.ROLLING_BACK, S.CANCELLED],
  [S.PAUSED]: [S.IN_PROGRESS, S.ROLLING_BACK, S.CANCELLED],
  [S.ROLLING_BACK]: [S.ROLLED_BACK, S.FAILED],
  // A completed deployment can still be rolled back by hand.
  [S.COMPLETED]: [S.ROLLING_BACK],
  [S.FAILED]: [],
  [S.ROLLED_BACK]: [],
  [S.CANCELLED]: [],
};

/** Statuses of a deployment that is still running (at most one per profile). */
export const ACTIVE_STATUSES: readonly S[] = [S.PENDING, S.IN_PROGRESS, S.PAUSED, S.ROLLING_BACK];

/** True when the transition table allows `from` → `to`. */
export function canTransition(from: S, to: S): boolean {
  return DEPLOYMENT_TRANSITIONS[from]?.includes(to) ?? false;
}

/**
 * @throws ConflictError "deployment is COMPLETED; cannot move to PAUSED" (with
 *   the allowed moves) when the table does not allow `from` → `to`
 */
export function assertTransition(from: S, to: S): void {
  if (canTransition(from, to)) return;
  const allowed = DEPLOYMENT_TRANSITIONS[from] ?? [];
  const hint = allowed.length === 0 ? `${from} is final` : `from ${from} it may move to ${allowed.join(', ')}`;
  throw new ConflictError(`deployment is ${from}; cannot move to ${to} (${hint})`, { from, to });
}

/** True for FAILED, ROLLED_BACK and CANCELLED: no move leaves them. */
export function isTerminal(status: S): boolean {
  return (DEPLOYMENT_TRANSITIONS[status] ?? []).length === 0;
}

/** True for PENDING, IN_PROGRESS, PAUSED and ROLLING_BACK. */
export function isActive(status: S): boolean {
  return ACTIVE_STATUSES.includes(status);
}

/** Where one target instance of a deployment stands. */
export enum TargetState {
  /** Not pushed yet. */
  PENDING = 'PENDING',
  /** Pushed, waiting for the ack. */
  PUSHED = 'PUSHED',
  APPLIED = 'APPLIED',
  FAILED = 'FAILED',
  /** Connected, but no ack within the ack timeout: counts against the deployment. */
  TIMED_OUT = 'TIMED_OUT',
  /**
   * Disconnected (or deregistered) and not back within the reconnect grace by
   * its ack deadline: the instance is gone, which does not fail the deployment.
   */
  LEFT = 'LEFT',
  /** Got the previous version back after a rollback. */
  ROLLED_BACK = 'ROLLED_BACK',
}

/** Counts of a deployment's targets by outcome. */
export interface DeploymentResult {
  total: number;
  applied: number;
  failed: number;
  timedOut: number;
  /** PENDING and PUSHED (not yet answered). */
  pending: number;
  /** Targets whose instance went away before answering (they count neither for nor against it). */
  left: number;
  /** applied / (total - left); 0 when no target is left to count. */
  progress: number;
  /** Targets given the previous version back (counted in `total` only otherwise). */
  rolledBack?: number;
}

/** Summarises target states: counts per outcome and `progress = applied / total`. */
export function summarizeTargets(targets: ReadonlyArray<{ state: TargetState }>): DeploymentResult {
  const counts: Partial<Record<TargetState, number>> = {};
  for (const { state } of targets) counts[state] = (counts[state] ?? 0) + 1;
  return summarizeCounts(counts);
}

/** The same summary from counts per state (as a GROUP BY gives them). */
export function summarizeCounts(counts: Partial<Record<TargetState, number>>): DeploymentResult {
  const n = (s: TargetState) => counts[s] ?? 0;
  const total = Object.values(counts).reduce((a: number, b) => a + (b ?? 0), 0);
  const applied = n(TargetState.APPLIED);
  const left = n(TargetState.LEFT);
  return {
    total,
    applied,
    failed: n(TargetState.FAILED),
    timedOut: n(TargetState.TIMED_OUT),
    pending: n(TargetState.PENDING) + n(TargetState.PUSHED),
    left,
    rolledBack: n(TargetState.ROLLED_BACK),
    progress: total - left === 0 ? 0 : applied / (total - left),
  };
}
