/**
 * When the updated instances' metrics are evidence enough to judge a phase.
 * A gate never passes on no evidence: without enough of it the verdict is
 * INCONCLUSIVE, and the phase keeps observing up to a bound.
 */

/**
 * Heartbeats with metrics an updated instance must send after it applied the
 * new version before it counts as reporting. Why two: an instance reports
 * rates over its heartbeat interval, and the interval of the first heartbeat
 * after the apply began before it, on the old config; only from the second on
 * does a whole interval run on the new one.
 */
export const DEFAULT_MIN_HEARTBEATS = 2;

/**
 * How many heartbeat intervals a phase may keep observing past its bake for
 * that evidence, by default: six (60 s at the default 10 s) gives an instance
 * that applied just as the bake ended its two heartbeats with room for a
 * missed one or a slow reload, and bounds what a silent fleet costs.
 */
export const DEFAULT_EVIDENCE_INTERVALS = 6;

export interface Evidence {
  /** Updated instances (applied the new version). */
  updated: number;
  /** Of them, those that sent at least `minHeartbeats` heartbeats with metrics since they applied. */
  reporting: number;
  /** How many must report: half of the updated instances, rounded up, and at least one. */
  required: number;
  minHeartbeats: number;
}

/**
 * @param samplesSinceApply - per updated instance, its heartbeats with metrics since it applied
 * @example evidenceOf([2, 0, 3], 2) → { updated: 3, reporting: 2, required: 2, minHeartbeats: 2 }: enough
 */
export function evidenceOf(samplesSinceApply: readonly number[], minHeartbeats: number): Evidence {
  const updated = samplesSinceApply.length;
  return {
    updated,
    reporting: samplesSinceApply.filter((n) => n >= minHeartbeats).length,
    required: Math.max(1, Math.ceil(updated / 2)),
    minHeartbeats,
  };
}

export function isEnough(e: Evidence): boolean {
  return e.reporting >= e.required;
}

/** "not enough evidence: 1 of 4 updated instances sent 2 heartbeats with metrics since applying (2 needed)" */
export function describeMissingEvidence(e: Evidence): string {
  if (e.updated === 0) return 'not enough evidence: no instance has applied the new version';
  const heartbeats = `${e.minHeartbeats} heartbeat${e.minHeartbeats === 1 ? '' : 's'}`;
  return `not enough evidence: ${e.reporting} of ${e.updated} updated instance${e.updated === 1 ? '' : 's'} sent ${heartbeats} with metrics since applying (${e.required} needed)`;
}
