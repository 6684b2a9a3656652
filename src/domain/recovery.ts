/**
 * When a DEGRADED instance is HEALTHY again. A failed health verdict marks the
 * updated instances whose own samples were beyond a metric's tolerance
 * DEGRADED (outliers.ts); they stay so until their own heartbeats say they
 * recovered, judged here on error rate and p99 latency with the tolerances of
 * the default policy (health-policy.ts's DEFAULT_METRICS). Never on no data:
 * an instance that sends no metrics stays DEGRADED until it does.
 *
 * The rule, for an instance marked DEGRADED at `degradedAt` (the last verdict
 * that named it):
 * 1. Evidence: its RECOVERY_HEARTBEATS (3) newest heartbeats with metrics
 *    received after `degradedAt`, at least one of the two metrics in each.
 *    Samples from before the verdict never count, so a verdict is not undone
 *    by the samples it was judged on, and old samples do not make an instance
 *    that went silent on metrics recover.
 * 2. Per metric it reports in them, its median there must not be beyond the
 *    reference by more than the tolerance (error rate +0.5 points, p99 latency
 *    +10 % of the reference; better is always fine):
 *    - the reference is the median of the HEALTHY peers of its service and
 *      environment over the same window (each peer's newest 3 samples since
 *      `degradedAt`), when they have at least 3 values of the metric: the
 *      fleet says what healthy is;
 *    - with no such peers (every instance of the service DEGRADED, or a
 *      single-instance service) there is no fleet to compare with, and the
 *      instance is compared with itself: with the median of its samples from
 *      before the verdict (the ones that made it an outlier, as far as its
 *      kept history of 20 goes). It recovers once it is better than that by
 *      more than the tolerance, i.e. the regression the verdict saw is undone
 *      by at least what a phase tolerates. No samples from before either: no
 *      reference, no recovery.
 * 3. Every metric it reports must pass; one without a reference keeps it DEGRADED.
 *
 * Custom and queried metrics are not looked at: the registry does not know
 * which metric of which policy named the instance, and error rate and latency
 * are what every instance reports.
 */
import { DEFAULT_METRICS, type MetricPolicy, metricLabel, TOLERANCE_FLOOR } from './health-policy.js';
import { valuesOf } from './health-samples.js';
import type { MetricsSample } from './health-snapshot.js';
import { formatAmount, formatDifference, formatValue } from './statistics/format.js';
import { median } from './statistics/mann-whitney.js';
import { isBeyond } from './statistics/metric-verdict.js';

/** Heartbeats with metrics a DEGRADED instance sends after its last verdict before it can be HEALTHY again. */
export const RECOVERY_HEARTBEATS = 3;

/** The metrics recovery looks at: error rate and p99 latency, with the default policy's tolerances. */
export const RECOVERY_METRICS: readonly MetricPolicy[] = DEFAULT_METRICS;

export interface RecoveryInput {
  /** When a verdict last named the instance an outlier (InstanceRecord.degradedAt). */
  degradedAt: Date;
  /** Its kept samples, newest first (the registry's history). */
  own: readonly MetricsSample[];
  /** Each HEALTHY peer's samples (same service and environment), newest first. */
  peers: ReadonlyArray<readonly MetricsSample[]>;
}

export interface Recovery {
  recovered: boolean;
  /** Why, in a sentence, for the log: "error rate 1 % vs peers 1.1 % (-0.1 points, 0.5 allowed), p99 latency 101 ms vs peers 100 ms (+1 ms, 10 allowed): recovered". */
  reason: string;
}

/** Samples received after `since`, the newest `count` of them (input newest first). */
function newestAfter(samples: readonly MetricsSample[], since: Date, count: number): MetricsSample[] {
  return samples.filter((s) => s.at.getTime() > since.getTime()).slice(0, count);
}

/** How far `metric` may be worse than `reference`, as the phase judgement allows (health.ts). */
function toleranceOf(metric: MetricPolicy, reference: number): number {
  return metric.tolerance ?? (Math.max(Math.abs(reference), TOLERANCE_FLOOR) * metric.tolerancePct) / 100;
}

/** One metric: null when the instance does not report it in the window, else whether it passed and why. */
function judgeMetric(metric: MetricPolicy, input: RecoveryInput, recent: readonly MetricsSample[]): { ok: boolean; reason: string } | null {
  const since = new Date(0);
  const own = median(valuesOf(recent, metric.name, since));
  if (own === null) return null;
  const label = metricLabel(metric.name);
  const peerValues = input.peers.flatMap((p) => valuesOf(newestAfter(p, input.degradedAt, RECOVERY_HEARTBEATS), metric.name, since));
  const peerMedian = peerValues.length >= RECOVERY_HEARTBEATS ? median(peerValues) : null;
  if (peerMedian !== null) {
    const tolerance = toleranceOf(metric, peerMedian);
    const ok = !isBeyond(own - peerMedian, tolerance, metric.direction);
    const reason = `${label} ${formatValue(metric.unit, own)} vs peers ${formatValue(metric.unit, peerMedian)} (${formatDifference(metric.unit, own - peerMedian)}, ${formatAmount(metric.unit, tolerance)} allowed)`;
    return { ok, reason };
  }
  const before = median(valuesOf(input.own.filter((s) => s.at.getTime() <= input.degradedAt.getTime()), metric.name, since));
  if (before === null) return { ok: false, reason: `${label} ${formatValue(metric.unit, own)}: no HEALTHY peers and no samples from before the verdict to compare with` };
  const tolerance = toleranceOf(metric, before);
  // Better than before the verdict by more than the tolerance: the reverse of the outlier test.
  const ok = isBeyond(before - own, tolerance, metric.direction);
  const reason = `${label} ${formatValue(metric.unit, own)} vs ${formatValue(metric.unit, before)} before the verdict, no HEALTHY peers (${formatDifference(metric.unit, own - before)}, better by more than ${formatAmount(metric.unit, tolerance)} needed)`;
  return { ok, reason };
}

/**
 * Whether a DEGRADED instance has recovered, by the rule above.
 *
 * @example degradedAt 12:00; own samples after it 1 %, 0.9 %, 1.2 % error rate and 100, 104, 98 ms;
 *   peers' at 1 % and 100 ms → recovered (medians 1 % and 100 ms: 0 points ≤ 0.5, 0 ms ≤ 10)
 * @example the same with own error rate 2 %, 2 %, 2 % → still DEGRADED (+1 point > 0.5)
 * @example own samples after it: two → still DEGRADED (2 of 3 heartbeats with metrics since the verdict)
 */
export function recoveryOf(input: RecoveryInput): Recovery {
  const recent = newestAfter(input.own, input.degradedAt, RECOVERY_HEARTBEATS);
  const reporting = recent.filter((s) => RECOVERY_METRICS.some((m) => valuesOf([s], m.name, new Date(0)).length > 0));
  if (reporting.length < RECOVERY_HEARTBEATS) {
    return { recovered: false, reason: `${reporting.length} of ${RECOVERY_HEARTBEATS} heartbeats with error rate or p99 latency since the verdict` };
  }
  const judged = RECOVERY_METRICS.map((m) => judgeMetric(m, input, recent)).filter((j) => j !== null);
  const recovered = judged.every((j) => j.ok);
  return { recovered, reason: `${judged.map((j) => j.reason).join(', ')}: ${recovered ? 'recovered' : 'still DEGRADED'}` };
}
