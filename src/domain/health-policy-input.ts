/**
 * A health policy as startDeployment receives it, checked field by field and
 * completed with the defaults, so the judge only ever sees a valid policy.
 */
import { InconclusiveAction, isEnumValue } from './enums.js';
import { BadInputError } from './errors.js';
import { DEFAULT_MIN_HEARTBEATS } from './health-evidence.js';
import { DEFAULT_METRICS, DEFAULT_TOLERANCE_PCT, defaultUnit, type HealthPolicy, type MetricPolicy, withDefaultMetrics } from './health-policy.js';
import { DEFAULT_CONFIDENCE, DEFAULT_MIN_SAMPLES } from './statistics/metric-comparison.js';
import type { MetricUnit } from './statistics/format.js';
import type { MetricDirection } from './statistics/metric-verdict.js';
import { DEFAULT_MARGINAL_THRESHOLD, DEFAULT_PASS_THRESHOLD } from './statistics/score.js';

const DAY = 86_400;
/** A policy names at most this many metrics: each costs a rank test (and maybe two queries) at every check. */
export const MAX_POLICY_METRICS = 20;
const UNITS: readonly MetricUnit[] = ['share', 'ms', 'plain'];
const DIRECTIONS: readonly MetricDirection[] = ['increase', 'decrease'];

/** One entry of HealthPolicyInput.metrics (GraphQL's SHARE, INCREASE … arrive as these values). */
export interface MetricPolicyRequest {
  name: string;
  query?: string | null;
  unit?: MetricUnit | null;
  direction?: MetricDirection | null;
  critical?: boolean | null;
  weight?: number | null;
  tolerance?: number | null;
  tolerancePct?: number | null;
}

export interface HealthPolicyRequest {
  maxErrorRateIncrease?: number | null;
  maxLatencyIncreasePct?: number | null;
  customThresholds?: unknown;
  autoRollback?: boolean | null;
  minHeartbeats?: number | null;
  evidenceTimeoutSeconds?: number | null;
  onInconclusive?: InconclusiveAction | null;
  confidence?: number | null;
  minSamples?: number | null;
  passThreshold?: number | null;
  marginalThreshold?: number | null;
  metrics?: MetricPolicyRequest[] | null;
}

function bad(field: string, message: string): BadInputError {
  return new BadInputError(message, { field });
}

function wholeNumber(field: string, n: number, min: number, max: number): number {
  if (!Number.isInteger(n) || n < min || n > max) throw bad(field, `${field} must be a whole number from ${min} to ${max}, got ${n}`);
  return n;
}

function inRange(field: string, n: number, ok: (n: number) => boolean, what: string): number {
  if (!(Number.isFinite(n) && ok(n))) throw bad(field, `${field} must be ${what}, got ${n}`);
  return n;
}

function oneOf<T extends string>(field: string, value: T, allowed: readonly T[]): T {
  if (!allowed.includes(value)) throw bad(field, `${field} must be one of ${allowed.join(', ')}, got ${String(value).slice(0, 40)}`);
  return value;
}

function metricPolicy(m: MetricPolicyRequest, i: number): MetricPolicy {
  const at = `health.metrics[${i}]`;
  if (typeof m.name !== 'string' || !/^[A-Za-z_][\w.:-]{0,63}$/.test(m.name)) {
    throw bad(`${at}.name`, `${at}.name must be 1 to 64 letters, digits, _ . : - starting with a letter or _`);
  }
  const query = m.query ?? null;
  if (query !== null && (query.trim() === '' || query.length > 2000)) throw bad(`${at}.query`, `${at}.query must be a PromQL query of 1 to 2000 characters`);
  // Naming errorRate or latencyP99Ms (from heartbeats) changes only the fields given: the rest keep their defaults.
  const base = query === null ? DEFAULT_METRICS.find((d) => d.name === m.name) : undefined;
  const tolerance = m.tolerance ?? base?.tolerance ?? null;
  if (tolerance !== null) inRange(`${at}.tolerance`, tolerance, (t) => t >= 0, 'a number ≥ 0 in the metric\'s unit');
  return {
    name: m.name,
    query,
    unit: oneOf(`${at}.unit`, m.unit ?? base?.unit ?? defaultUnit(m.name), UNITS),
    direction: oneOf(`${at}.direction`, m.direction ?? 'increase', DIRECTIONS),
    critical: m.critical ?? base?.critical ?? false,
    weight: inRange(`${at}.weight`, m.weight ?? base?.weight ?? 1, (w) => w >= 0 && w <= 1000, 'a weight from 0 to 1000'),
    tolerance,
    tolerancePct: inRange(`${at}.tolerancePct`, m.tolerancePct ?? DEFAULT_TOLERANCE_PCT, (p) => p >= 0, 'a percentage ≥ 0'),
  };
}

function customThresholds(thresholds: unknown): Record<string, number> | null {
  if (thresholds === null || thresholds === undefined) return null;
  if (typeof thresholds !== 'object' || Array.isArray(thresholds)) {
    throw bad('health.customThresholds', 'health.customThresholds must be an object of metric name to maximum value');
  }
  for (const [name, max] of Object.entries(thresholds)) {
    if (typeof max !== 'number' || !Number.isFinite(max)) {
      throw bad('health.customThresholds', `health.customThresholds.${name.slice(0, 40)} must be a finite number`);
    }
  }
  return thresholds as Record<string, number>;
}

/**
 * Applies API.md's defaults and checks every field of a health policy.
 * @throws BadInputError naming the field
 */
export function normalizeHealthPolicy(h: HealthPolicyRequest | null | undefined): HealthPolicy {
  const onInconclusive = h?.onInconclusive ?? InconclusiveAction.PAUSE;
  if (!isEnumValue(InconclusiveAction, onInconclusive)) {
    throw bad('health.onInconclusive', `health.onInconclusive must be PAUSE or PROMOTE, got ${String(onInconclusive).slice(0, 40)}`);
  }
  const named = h?.metrics ?? [];
  if (named.length > MAX_POLICY_METRICS) throw bad('health.metrics', `health.metrics may name at most ${MAX_POLICY_METRICS} metrics`);
  const metrics = named.map(metricPolicy);
  const duplicate = metrics.find((m, i) => metrics.findIndex((o) => o.name === m.name) !== i);
  if (duplicate) throw bad('health.metrics', `health.metrics names ${duplicate.name} twice`);
  const pass = inRange('health.passThreshold', h?.passThreshold ?? DEFAULT_PASS_THRESHOLD, (p) => p >= 0 && p <= 1, 'a score from 0 to 1');
  const marginal = inRange('health.marginalThreshold', h?.marginalThreshold ?? DEFAULT_MARGINAL_THRESHOLD, (m) => m >= 0 && m <= pass, `a score from 0 to passThreshold (${pass})`);
  const evidenceTimeout = h?.evidenceTimeoutSeconds ?? null;
  const maxErrorRateIncrease = h?.maxErrorRateIncrease ?? null;
  const maxLatencyIncreasePct = h?.maxLatencyIncreasePct ?? null;
  return {
    maxErrorRateIncrease: maxErrorRateIncrease === null ? null : inRange('health.maxErrorRateIncrease', maxErrorRateIncrease, (x) => x >= 0 && x <= 1, 'in [0, 1] (0.05 = +5 points)'),
    maxLatencyIncreasePct: maxLatencyIncreasePct === null ? null : inRange('health.maxLatencyIncreasePct', maxLatencyIncreasePct, (x) => x >= 0, 'a percentage ≥ 0'),
    customThresholds: customThresholds(h?.customThresholds),
    autoRollback: h?.autoRollback ?? true,
    minHeartbeats: wholeNumber('health.minHeartbeats', h?.minHeartbeats ?? DEFAULT_MIN_HEARTBEATS, 1, 20),
    evidenceTimeoutSeconds: evidenceTimeout === null ? null : wholeNumber('health.evidenceTimeoutSeconds', evidenceTimeout, 0, DAY),
    onInconclusive,
    confidence: inRange('health.confidence', h?.confidence ?? DEFAULT_CONFIDENCE, (c) => c >= 0.5 && c < 1, 'a confidence from 0.5 to under 1 (0.98 = 98 %)'),
    minSamples: wholeNumber('health.minSamples', h?.minSamples ?? DEFAULT_MIN_SAMPLES, 1, 1000),
    passThreshold: pass,
    marginalThreshold: marginal,
    metrics: withDefaultMetrics(metrics),
  };
}
