import { DeploymentStatus as S } from '../enums.js';
import { ConflictError } from '../errors.js';
import { EventType } from '../deployment-model.js';

/**
 * The deployment lifecycle as data: every status, the moves it may make, and
 * the event each move records. The orchestrator's one status writer
 * (src/orchestrator/step.ts `transition`) refuses any move not listed here.
 */
export const DEPLOYMENT_TRANSITIONS: Readonly<Record<S, Readonly<Partial<Record<S, EventType>>>>> = {
  // A new deployment starts its first phase, or is cancelled before it pushed anything.
  [S.PENDING]: { [S.IN_PROGRESS]: EventType.PHASE_STARTED, [S.CANCELLED]: EventType.CANCELLED },
  [S.IN_PROGRESS]: {
    [S.PAUSED]: EventType.PAUSED,
    [S.COMPLETED]: EventType.COMPLETED,
    [S.FAILED]: EventType.FAILED,
    [S.ROLLING_BACK]: EventType.ROLLBACK_STARTED,
  },
  [S.PAUSED]: { [S.IN_PROGRESS]: EventType.RESUMED, [S.ROLLING_BACK]: EventType.ROLLBACK_STARTED },
  [S.ROLLING_BACK]: { [S.ROLLED_BACK]: EventType.ROLLED_BACK, [S.FAILED]: EventType.FAILED },
  // A completed deployment can still be rolled back by hand.
  [S.COMPLETED]: { [S.ROLLING_BACK]: EventType.ROLLBACK_STARTED },
  [S.FAILED]: {},
  [S.ROLLED_BACK]: {},
  [S.CANCELLED]: {},
};

const ALL = Object.values(S);

/** Statuses of a deployment that is still running: at most one per profile, claimed by runners, counted by metrics. */
export const ACTIVE_STATUSES: readonly S[] = Object.freeze([S.PENDING, S.IN_PROGRESS, S.PAUSED, S.ROLLING_BACK]);

/** Statuses no move leaves: FAILED, ROLLED_BACK, CANCELLED. */
export const TERMINAL_STATUSES: readonly S[] = Object.freeze(ALL.filter((s) => Object.keys(DEPLOYMENT_TRANSITIONS[s]).length === 0));

/** Statuses after which a deployment pushes nothing more unless an operator acts: terminal, or COMPLETED. */
export const FINISHED_STATUSES: readonly S[] = Object.freeze([S.COMPLETED, ...TERMINAL_STATUSES]);

/** True when the transition table allows `from` → `to`. */
export function canTransition(from: S, to: S): boolean {
  return DEPLOYMENT_TRANSITIONS[from]?.[to] !== undefined;
}

/** The moves `from` may make. */
export function movesFrom(from: S): S[] {
  return Object.keys(DEPLOYMENT_TRANSITIONS[from] ?? {}) as S[];
}

/**
 * The event the move `from` → `to` records.
 * @throws ConflictError "deployment is COMPLETED; cannot move to PAUSED" (with
 *   the allowed moves) when the table does not allow it
 */
export function transitionEvent(from: S, to: S): EventType {
  if (canTransition(from, to)) return DEPLOYMENT_TRANSITIONS[from][to]!;
  const allowed = movesFrom(from);
  const hint = allowed.length === 0 ? `${from} is final` : `from ${from} it may move to ${allowed.join(', ')}`;
  throw new ConflictError(`deployment is ${from}; cannot move to ${to} (${hint})`, { from, to });
}

/** @throws ConflictError when the table does not allow `from` → `to` (see transitionEvent) */
export function assertTransition(from: S, to: S): void {
  transitionEvent(from, to);
}

/** True for COMPLETED, FAILED, ROLLED_BACK and CANCELLED: nothing more is pushed unless an operator rolls a COMPLETED one back. */
export function isFinished(status: S): boolean {
  return FINISHED_STATUSES.includes(status);
}
