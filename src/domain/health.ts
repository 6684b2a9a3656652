/**
 * The health judgement of a phase, as a pure function of the samples: each
 * check of the policy (a rank test per metric, the fixed limits it sets) gives
 * a per-metric verdict, and the verdicts combine into the phase's PASS, FAIL or
 * INCONCLUSIVE (statistics/score.ts). Never a PASS on no evidence.
 */
import { HealthVerdict } from './enums.js';
import { describeMissingEvidence, type Evidence, isEnough } from './health-evidence.js';
import { type HealthCheck, healthChecks, type HealthPolicy, sourceKey, TOLERANCE_FLOOR } from './health-policy.js';
import type { HealthSnapshot } from './health-snapshot.js';
import { outliersOf } from './outliers.js';
import { checkFixedLimit } from './statistics/fixed-limit.js';
import { median } from './statistics/mann-whitney.js';
import { compareMetric } from './statistics/metric-comparison.js';
import { MetricCheck, MetricOutcome, type MetricVerdict, verdictsOf } from './statistics/metric-verdict.js';
import { healthVerdictOf, scorePhase } from './statistics/score.js';

export type { HealthSnapshot, MetricsSample } from './health-snapshot.js';

export interface HealthReport {
  verdict: HealthVerdict;
  /** verdict === PASS. */
  healthy: boolean;
  /** The targets' metrics before the deployment, summed up. */
  baseline: HealthSnapshot;
  /** The updated instances' metrics since they applied, summed up. */
  current: HealthSnapshot;
  /** Why it FAILed, or why it is INCONCLUSIVE, one readable sentence each; empty when it passed. */
  reasons: string[];
  /** Every check's verdict, in the policy's order. */
  metrics: MetricVerdict[];
  /** The weighted share of the metrics with data that passed (statistics/score.ts); null when none has data or a critical one decided. */
  score: number | null;
  /** Updated instances whose own samples are beyond a failed metric's tolerance: the ones to mark DEGRADED. */
  outliers: string[];
  checkedAt: Date;
  /** verdict === INCONCLUSIVE. */
  insufficientData: boolean;
  /** How much of the updated instances' reporting there was to judge. */
  evidence: Evidence;
}

/** The samples of one source for both groups. */
export interface SourceSamples {
  /** The updated instances' samples since they applied, per instance (a query's come under one key, ''). */
  canary: ReadonlyMap<string, readonly number[]>;
  /** The control group's over the same window. */
  control: readonly number[];
  /** What the control group is, as it reads in a reason: "control" (instances not yet updated) or "baseline". */
  reference: string;
  /** Why the source could not answer (a failed query): its metrics have NO_DATA, never a PASS. */
  error: string | null;
}

/** A metric whose source failed: NO_DATA, with the failure as its reason. */
function unavailable(check: HealthCheck, reference: string, error: string): MetricVerdict {
  const kind = check.kind === 'rank' ? MetricCheck.MANN_WHITNEY : MetricCheck.FIXED_LIMIT;
  const of = verdictsOf({ ...check.spec, reference }, kind, { canaryCount: 0, controlCount: 0, canaryMedian: null, controlMedian: null });
  return of(MetricOutcome.NO_DATA, { effect: null, pValue: null, tolerance: null }, `${check.spec.label ?? check.spec.name}: ${error}`);
}

function judgeCheck(check: HealthCheck, samples: SourceSamples | undefined, policy: HealthPolicy): MetricVerdict {
  const reference = samples?.reference ?? 'control';
  if (samples?.error) return unavailable(check, reference, samples.error);
  const canary = [...(samples?.canary.values() ?? [])].flat();
  const control = samples?.control ?? [];
  const spec = { ...check.spec, reference, minSamples: policy.minSamples };
  if (check.kind === 'limit') return checkFixedLimit({ ...spec, limit: check.limit }, canary, control);
  const controlMedian = median(control.filter(Number.isFinite)) ?? 0;
  const tolerance = check.tolerance ?? (Math.max(Math.abs(controlMedian), TOLERANCE_FLOOR) * check.tolerancePct) / 100;
  return compareMetric({ ...spec, tolerance, confidence: policy.confidence }, canary, control);
}

/**
 * Judges the updated instances under `policy`, from each source's samples
 * (keyed by health-policy.ts's sourceKey; a missing source has no samples):
 * - INCONCLUSIVE while the evidence is not enough (health-evidence.ts): too few
 *   updated instances reporting, whatever the samples say (unless every check
 *   is on a query: instances then need not send metrics at all);
 * - otherwise the score of the per-metric verdicts: a critical FAIL fails the
 *   phase, a critical NO_DATA leaves it INCONCLUSIVE, the rest are weighed
 *   against the pass threshold and the marginal band (a marginal score is
 *   INCONCLUSIVE: the phase keeps observing).
 * The caller decides how long it waits for evidence.
 */
export function judgeHealth(input: {
  policy: HealthPolicy;
  samples: ReadonlyMap<string, SourceSamples>;
  evidence: Evidence;
  baseline: HealthSnapshot;
  current: HealthSnapshot;
  now: Date;
}): HealthReport {
  const { policy, samples, evidence } = input;
  const checks = healthChecks(policy);
  const metrics = checks.map((check) => judgeCheck(check, samples.get(sourceKey(check.source)), policy));
  const phase = scorePhase(metrics, { pass: policy.passThreshold, marginal: policy.marginalThreshold });
  // Heartbeat evidence matters only to checks on heartbeats: a policy judged on queries alone has its evidence in each query's samples.
  const enough = isEnough(evidence) || checks.every((c) => c.source.kind === 'query');
  const verdict = enough ? healthVerdictOf(phase.verdict) : HealthVerdict.INCONCLUSIVE;
  const failed = metrics.filter((m) => m.verdict === MetricOutcome.FAIL);
  const missing = metrics.filter((m) => m.verdict === MetricOutcome.NO_DATA && (m.critical || m.weight > 0));
  const byScore = phase.score !== null ? [phase.reason] : [];
  let reasons: string[] = [];
  if (!enough) reasons = [describeMissingEvidence(evidence)];
  else if (verdict === HealthVerdict.FAIL) reasons = [...failed.map((m) => m.reason), ...byScore];
  else if (verdict === HealthVerdict.INCONCLUSIVE) reasons = [...missing.map((m) => m.reason), ...failed.map((m) => m.reason), ...byScore];
  return {
    verdict,
    healthy: verdict === HealthVerdict.PASS,
    baseline: input.baseline,
    current: input.current,
    // A rank test and a fixed limit of one metric may say the same (not enough samples): once is enough.
    reasons: [...new Set(reasons)],
    metrics,
    score: phase.score,
    outliers: verdict === HealthVerdict.FAIL ? outliersOf(checks, metrics, samples) : [],
    checkedAt: new Date(input.now.getTime()),
    insufficientData: verdict === HealthVerdict.INCONCLUSIVE,
    evidence,
  };
}
