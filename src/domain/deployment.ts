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
