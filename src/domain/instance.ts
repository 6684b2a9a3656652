import { InstanceStatus } from './enums.js';
import { BadInputError } from './errors.js';
import { isJsonObject } from './json.js';

/** Longest host accepted. */
export const MAX_HOST_LENGTH = 255;

/** Most custom metrics one heartbeat may carry. */
export const MAX_CUSTOM_METRICS = 50;

/** Health numbers an instance reports with a heartbeat; all optional. */
export interface InstanceMetrics {
  errorRate?: number | null;
  latencyP99Ms?: number | null;
  requestCount?: number | null;
  custom?: Record<string, number> | null;
}

/** @throws BadInputError (`details.field = 'host'`) unless 1–255 characters without whitespace or control characters */
export function validateHost(host: string): void {
  if (typeof host !== 'string' || host.length === 0 || host.length > MAX_HOST_LENGTH) {
    throw new BadInputError(`host must be 1–${MAX_HOST_LENGTH} characters long`, { field: 'host' });
  }
  if (/[\s\p{Cc}]/u.test(host)) {
    throw new BadInputError('host must not contain whitespace or control characters', { field: 'host' });
  }
}

/**
 * Checks heartbeat metrics: errorRate in 0..1, latencyP99Ms finite and ≥ 0,
 * requestCount an integer ≥ 0, custom an object of at most 50 finite numbers.
 * null/undefined (the whole or any field) means "not reported".
 *
 * @throws BadInputError with `details.field`, e.g. 'metrics.errorRate'
 */
export function validateMetrics(m: InstanceMetrics | null | undefined): void {
  if (m === null || m === undefined) return;
  const { errorRate, latencyP99Ms, requestCount, custom } = m;
  if (errorRate !== null && errorRate !== undefined && !(isFiniteNumber(errorRate) && errorRate >= 0 && errorRate <= 1)) {
    throw bad('errorRate', `errorRate must be a number from 0 to 1 (a share, 0.05 = 5%), got ${String(errorRate)}`);
  }
  if (latencyP99Ms !== null && latencyP99Ms !== undefined && !(isFiniteNumber(latencyP99Ms) && latencyP99Ms >= 0)) {
    throw bad('latencyP99Ms', `latencyP99Ms must be a finite number of milliseconds ≥ 0, got ${String(latencyP99Ms)}`);
  }
  if (requestCount !== null && requestCount !== undefined && !(Number.isSafeInteger(requestCount) && requestCount >= 0)) {
    throw bad('requestCount', `requestCount must be an integer ≥ 0, got ${String(requestCount)}`);
  }
  if (custom === null || custom === undefined) return;
  if (!isJsonObject(custom)) {
    throw bad('custom', 'custom metrics must be an object of metric name to number');
  }
  const entries = Object.entries(custom);
  if (entries.length > MAX_CUSTOM_METRICS) {
    throw bad('custom', `at most ${MAX_CUSTOM_METRICS} custom metrics are allowed, got ${entries.length}`);
  }
  for (const [name, value] of entries) {
    if (!isFiniteNumber(value)) {
      throw bad('custom', `custom metric ${JSON.stringify(name.slice(0, 40))} must be a finite number, got ${typeof value === 'number' ? String(value) : typeof value}`);
    }
  }
}

function isFiniteNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

function bad(field: string, message: string): BadInputError {
  return new BadInputError(message, { field: `metrics.${field}` });
}

/**
 * HEALTHY or STALE from heartbeat timing: STALE once more than
 * `missedBeats × heartbeatIntervalMs` has passed since the last heartbeat.
 * (DEGRADED is decided from metrics elsewhere.) A heartbeat "in the future"
 * (clock skew) counts as fresh; an invalid date counts as STALE.
 *
 * @param missedBeats - heartbeats that may be missed before STALE @default 3
 * @throws BadInputError when the interval or missedBeats is not a positive number
 */
export function instanceStatusAt(lastHeartbeatAt: Date, now: Date, heartbeatIntervalMs: number, missedBeats = 3): InstanceStatus {
  if (!(heartbeatIntervalMs > 0) || !(missedBeats > 0)) {
    throw new BadInputError(`heartbeat interval and missed beats must be positive, got ${heartbeatIntervalMs} ms and ${missedBeats}`);
  }
  const silentMs = now.getTime() - lastHeartbeatAt.getTime();
  // Written so an invalid date (NaN) counts as STALE.
  return silentMs <= heartbeatIntervalMs * missedBeats ? InstanceStatus.HEALTHY : InstanceStatus.STALE;
}
