import { HealthVerdict } from './enums.js';
import type { HealthReport } from './health.js';

/**
 * A HealthReport read back from JSON (stored with an event, or sent between
 * replicas): `checkedAt` as a Date again. Reports stored before per-metric
 * verdicts get none (and no score or outliers); reports stored before verdicts
 * existed get theirs from healthy and insufficientData (which then meant
 * "counted healthy": INCONCLUSIVE is what it was).
 */
export function healthReportFromJson(json: unknown): HealthReport {
  type Stored = Omit<HealthReport, 'checkedAt' | 'verdict' | 'evidence' | 'metrics' | 'score' | 'outliers'> &
    Partial<Pick<HealthReport, 'verdict' | 'evidence' | 'metrics' | 'score' | 'outliers'>> & { checkedAt: string };
  const r = json as Stored;
  const verdict = r.verdict ?? (r.insufficientData ? HealthVerdict.INCONCLUSIVE : r.healthy ? HealthVerdict.PASS : HealthVerdict.FAIL);
  const evidence = r.evidence ?? { updated: r.current.instances, reporting: r.current.instances, required: 1, minHeartbeats: 1 };
  return {
    ...r,
    verdict,
    healthy: verdict === HealthVerdict.PASS,
    evidence,
    metrics: r.metrics ?? [],
    score: r.score ?? null,
    outliers: r.outliers ?? [],
    checkedAt: new Date(r.checkedAt),
  };
}

/** One line for an event: "healthy: 3 updated instances reporting", or why it failed or is inconclusive. */
export function summarizeHealth(report: HealthReport): string {
  if (report.verdict === HealthVerdict.INCONCLUSIVE) return `inconclusive: ${report.reasons.join('; ')}`;
  if (report.verdict === HealthVerdict.PASS) return `healthy: ${report.current.instances} updated instance${report.current.instances === 1 ? '' : 's'} reporting`;
  return `degraded: ${report.reasons.join('; ')}`;
}
