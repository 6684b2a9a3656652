/**
 * Which updated instances a failed verdict is about: those whose own samples
 * are beyond the failed metric's tolerance. They are marked DEGRADED in the
 * registry, so an operator sees where the regression shows, not only that the
 * phase failed.
 */
import type { HealthCheck } from './health-policy.js';
import { sourceKey } from './health-policy.js';
import type { SourceSamples } from './health.js';
import { median } from './statistics/mann-whitney.js';
import { isBeyond, MetricOutcome, type MetricVerdict } from './statistics/metric-verdict.js';

/**
 * The instances (sorted ids) whose median, for some metric that FAILed on
 * heartbeats, is beyond the control median by more than that metric's
 * tolerance in the worse direction; for a bound, beyond the bound. A query's
 * samples are not per instance, so a query metric names none.
 *
 * @example error rate FAILed with control median 1 %, tolerance 0.5 points:
 *   instances at 1.2 % and 9 % → only the one at 9 %
 */
export function outliersOf(
  checks: readonly HealthCheck[],
  verdicts: readonly MetricVerdict[],
  samples: ReadonlyMap<string, SourceSamples>,
): string[] {
  const found = new Set<string>();
  checks.forEach((check, i) => {
    const verdict = verdicts[i];
    if (verdict?.verdict !== MetricOutcome.FAIL || check.source.kind !== 'heartbeat' || verdict.tolerance === null) return;
    const group = samples.get(sourceKey(check.source));
    if (group === undefined) return;
    const bound = check.kind === 'limit' && check.limit.kind === 'bound' ? check.limit.value : null;
    const reference = bound ?? verdict.controlMedian;
    if (reference === null) return;
    for (const [instanceId, values] of group.canary) {
      const own = median(values.filter(Number.isFinite));
      if (own !== null && isBeyond(own - reference, verdict.tolerance, verdict.direction)) found.add(instanceId);
    }
  });
  return [...found].sort();
}
