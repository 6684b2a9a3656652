/**
 * The health judge before issue 16, frozen: mean-based snapshots of the
 * updated instances, of the instances not yet updated and of the baseline,
 * compared with fixed limits. Copied from `git show 2b1a4cb:src/domain/health.ts`
 * (evaluateHealth; its aggregate lives on unchanged in src/domain/health-snapshot.ts) and `2b1a4cb:src/orchestrator/health-monitor.ts`
 * (the gathering of check()), without what bench/judge.bench.ts does not use.
 * Kept only so the bench can compare the rank-test judge with it: nothing in
 * src/ uses it, and it is not to be fixed or updated.
 */
import { HealthVerdict } from '../src/domain/enums.js';
import { describeMissingEvidence, type Evidence, evidenceOf, isEnough } from '../src/domain/health-evidence.js';
import { aggregate, type HealthSnapshot, type MetricsSample } from '../src/domain/health-snapshot.js';

export { aggregate, type HealthSnapshot, type MetricsSample };

/** The fields of the health policy the previous judge read (its defaults then: 0.05, 50, none). */
export interface PreviousPolicy {
  maxErrorRateIncrease: number | null;
  maxLatencyIncreasePct: number | null;
  customThresholds: Record<string, number> | null;
  minHeartbeats: number;
}

export interface PreviousReport {
  verdict: HealthVerdict;
  healthy: boolean;
  baseline: HealthSnapshot;
  current: HealthSnapshot;
  reasons: string[];
  checkedAt: Date;
  insufficientData: boolean;
  evidence: Evidence;
}

const LATENCY_FLOOR_MS = 1;
const EPSILON = 1e-9;
const WINDOW_MS = 10 * 60_000;

function finite(v: number | null | undefined): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

function num(n: number, decimals = 1): string {
  const rounded = Number(n.toFixed(decimals));
  return String(Object.is(rounded, -0) ? 0 : rounded);
}

function percent(share: number): string {
  const pct = share * 100;
  if (pct !== 0 && Math.abs(pct) < 0.05) return `${Number(pct.toPrecision(2))}%`;
  return `${pct.toFixed(1)}%`;
}

function points(share: number): string {
  return percent(share).slice(0, -1);
}

function plain(n: number): string {
  return String(Number(n.toPrecision(12)));
}

function errorRateReason(current: number, reference: number, label: string, max: number): string | null {
  const increase = current - reference;
  if (!(increase > max + EPSILON)) return null;
  return `error rate ${percent(current)} vs ${label} ${percent(reference)}: +${points(increase)} points > ${points(max)}`;
}

function latencyReason(current: number, reference: number, label: string, maxPct: number): string | null {
  const increase = current - reference;
  const base = Math.max(reference, LATENCY_FLOOR_MS);
  const allowed = (base * maxPct) / 100;
  if (!(increase > allowed + EPSILON * Math.max(1, base))) return null;
  const head = `p99 latency ${num(current)} ms vs ${label} ${num(reference)} ms`;
  if (reference >= LATENCY_FLOOR_MS) return `${head}: +${num((increase / reference) * 100)}% > ${num(maxPct)}%`;
  return `${head}: +${num(increase)} ms > ${num(allowed, 3)} ms allowed (${num(maxPct)}% of ${LATENCY_FLOOR_MS} ms)`;
}

/** The updated instances' snapshot against the baseline's and the not-yet-updated instances', by fixed limits. */
export function evaluateHealth(input: {
  baseline: HealthSnapshot;
  updated: HealthSnapshot;
  notUpdated: HealthSnapshot | null;
  policy: PreviousPolicy;
  evidence: Evidence;
  now: Date;
}): PreviousReport {
  const { baseline, updated, policy, evidence } = input;
  const notUpdated = input.notUpdated !== null && input.notUpdated.instances > 0 ? input.notUpdated : null;
  const report = (verdict: HealthVerdict, reasons: string[]): PreviousReport => ({
    verdict,
    healthy: verdict === HealthVerdict.PASS,
    baseline,
    current: updated,
    reasons,
    checkedAt: new Date(input.now.getTime()),
    insufficientData: verdict === HealthVerdict.INCONCLUSIVE,
    evidence,
  });
  if (!isEnough(evidence)) return report(HealthVerdict.INCONCLUSIVE, [describeMissingEvidence(evidence)]);

  const references: Array<{ label: string; snapshot: HealthSnapshot }> = [{ label: 'baseline', snapshot: baseline }];
  if (notUpdated !== null) references.push({ label: 'instances not yet updated', snapshot: notUpdated });

  const reasons: string[] = [];
  let compared = 0;
  if (policy.maxErrorRateIncrease !== null && updated.errorRate !== null) {
    for (const { label, snapshot } of references) {
      if (snapshot.errorRate === null) continue;
      compared += 1;
      const r = errorRateReason(updated.errorRate, snapshot.errorRate, label, policy.maxErrorRateIncrease);
      if (r !== null) reasons.push(r);
    }
  }
  if (policy.maxLatencyIncreasePct !== null && updated.latencyP99Ms !== null) {
    for (const { label, snapshot } of references) {
      if (snapshot.latencyP99Ms === null) continue;
      compared += 1;
      const r = latencyReason(updated.latencyP99Ms, snapshot.latencyP99Ms, label, policy.maxLatencyIncreasePct);
      if (r !== null) reasons.push(r);
    }
  }
  const thresholds = Object.entries(policy.customThresholds ?? {});
  for (const [name, max] of thresholds) {
    const value = updated.custom !== null && Object.hasOwn(updated.custom, name) ? updated.custom[name] : undefined;
    if (!finite(value) || !finite(max)) continue;
    compared += 1;
    if (value > max + EPSILON * Math.max(1, Math.abs(max))) reasons.push(`custom metric ${name} ${plain(value)} > ${plain(max)}`);
  }
  if (reasons.length > 0) return report(HealthVerdict.FAIL, reasons);
  const checks = (policy.maxErrorRateIncrease !== null ? 1 : 0) + (policy.maxLatencyIncreasePct !== null ? 1 : 0) + thresholds.length;
  if (checks > 0 && compared === 0) return report(HealthVerdict.INCONCLUSIVE, ['nothing to compare']);
  return report(HealthVerdict.PASS, []);
}

/** A target as check() saw it: applied (with its ack time) or not pushed yet. */
export interface PreviousTarget {
  instanceId: string;
  applied: boolean;
  ackedAt: Date | null;
}

/**
 * What check() did with the histories the registry returned before it called
 * evaluateHealth: the updated instances' heartbeats since their ack and the
 * waiting instances' recent ones, each summed up.
 */
export function previousGather(input: {
  histories: ReadonlyMap<string, readonly MetricsSample[]>;
  updated: readonly PreviousTarget[];
  waiting: readonly PreviousTarget[];
  baseline: HealthSnapshot;
  policy: PreviousPolicy;
  createdAt: Date;
  now: Date;
}): Parameters<typeof evaluateHealth>[0] {
  const { histories, updated, waiting, now } = input;
  const recent = new Date(Math.max(input.createdAt.getTime(), now.getTime() - WINDOW_MS));
  const since = (t: PreviousTarget) => (t.applied && t.ackedAt !== null ? t.ackedAt : recent);
  const samplesOf = (group: readonly PreviousTarget[]) => {
    const samples = new Map<string, MetricsSample[]>();
    for (const t of group) {
      const from = since(t).getTime();
      samples.set(t.instanceId, (histories.get(t.instanceId) ?? []).filter((s) => s.at.getTime() >= from));
    }
    return samples;
  };
  const sinceApply = samplesOf(updated);
  return {
    baseline: input.baseline,
    updated: aggregate(sinceApply, new Date(0)),
    notUpdated: waiting.length > 0 ? aggregate(samplesOf(waiting), new Date(0)) : null,
    policy: input.policy,
    evidence: evidenceOf([...sinceApply.values()].map((samples) => samples.length), input.policy.minHeartbeats),
    now,
  };
}
