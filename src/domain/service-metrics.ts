/**
 * A service instance's heartbeat metrics from two scrapes of its own Prometheus
 * endpoint: what happened between them, never totals since start. Pure.
 *
 * - `requestCount`: the request counter's increase, summed over all its series.
 * - `errorRate`: the increase of its series whose status is an error, over the
 *   increase of its series that have a status at all.
 * - `latencyP99Ms`: PromQL's `histogram_quantile(0.99, sum by (le) (increase(<histogram>_bucket[interval])))`.
 * - `custom`: named gauges at the later scrape, named counters per second over the interval.
 *
 * Increases are Prometheus's: a value lower than before is a counter reset, the
 * new value the increase. Beyond Prometheus: a series the earlier scrape lacks
 * counts whole (clients create labelled series on first use: the first 500s
 * after a quiet spell would be lost otherwise); a histogram series resets as a
 * whole; a changed `process_start_time_seconds` resets every counter.
 * No data is an absent field, never a 0 that reads as healthy: no request in
 * the interval → neither `errorRate` nor `latencyP99Ms`.
 *
 * @example two scrapes, http_requests_total{code="200"} 90 → 180 and {code="503"} 10 → 20:
 *   metricsBetween(first, second) → { requestCount: 100, errorRate: 0.1 }
 */
import type { InstanceMetricsReport } from '../client/types.js';
import { type Exposition, parsePrometheusFloat, type Sample } from './prometheus-text.js';

/** Request counters tried in order; the first with a series in the later scrape is used. */
export const DEFAULT_REQUEST_COUNTERS: readonly string[] = [
  'http_requests_total', // prom-client's and the Go and Python clients' convention
  'http_request_duration_seconds_count', // express-prom-bundle and others count requests in their histogram only
  'http_server_requests_seconds_count', // Spring Boot (Micrometer)
  'http_server_requests_total',
  'http_server_request_duration_seconds_count', // OpenTelemetry semantic conventions ≥ 1.23
  'http_server_duration_milliseconds_count', // OpenTelemetry's earlier conventions
];
/** On each series, the first of these labels it carries (non-empty) is its status. */
export const DEFAULT_STATUS_LABELS: readonly string[] = ['code', 'status', 'status_code', 'http_response_status_code', 'http_status_code'];
/** Latency histograms (family names; the samples are `<name>_bucket`) tried in order, as the request counters are. */
export const DEFAULT_LATENCY_HISTOGRAMS: readonly string[] = ['http_request_duration_seconds', 'http_server_requests_seconds', 'http_server_request_duration_seconds', 'http_server_duration_milliseconds'];
const PROCESS_START = 'process_start_time_seconds';
/** Server errors: a status matching it whole is an error. */
export const DEFAULT_ERROR_STATUS = '5..';

/** A number the service exports, passed on in the heartbeat's `custom` (checked against a deployment's `customThresholds`). */
export interface CustomMetric {
  /** Its name in `custom`. */
  name: string;
  /** The sample name in the scrape; for a counter, `<metric>_total` is read when the scrape has no `<metric>`. */
  metric: string;
  /** gauge: its value at the later scrape; counter: its increase per second over the interval. */
  kind: 'gauge' | 'counter';
  /** Only the series with these label values (`''` for a label the series lacks). @default every series */
  labels?: Readonly<Record<string, string>>;
  /** How a gauge's series combine: labelled gauges (queue depths, connections, bytes) mostly add up; select one series with `labels` for one that does not. @default 'sum' */
  aggregate?: 'sum' | 'avg' | 'max';
}

export interface ServiceMetricsOptions {
  /** The request counter's sample name, or names tried in order. @default DEFAULT_REQUEST_COUNTERS */
  requestCounter?: string | readonly string[];
  /** The label(s) holding the status code; the first a series carries counts. @default DEFAULT_STATUS_LABELS */
  statusLabel?: string | readonly string[];
  /** Which statuses are errors: a string must match a status whole ('5..|429'); a RegExp is used as it is. @default '5..' */
  errorStatus?: string | RegExp;
  /** The latency histogram's family name (a `_bucket` suffix is dropped), or names tried in order. @default DEFAULT_LATENCY_HISTOGRAMS */
  latencyHistogram?: string | readonly string[];
  /** The unit of the histogram's `le` bounds. @default 'milliseconds' when the family's name ends in `_ms` or `_milliseconds`, else 'seconds' */
  latencyUnit?: 'seconds' | 'milliseconds';
  /** @default none */
  custom?: readonly CustomMetric[];
}

/** One scrape and when it began (ms since the epoch): the counters' rates are per second of the time between two. */
export type Scrape = { exposition: Exposition; takenAtMs: number };

type Index = ReadonlyMap<string, readonly Sample[]>;
type Increase = { labels: Readonly<Record<string, string>>; increase: number };

/**
 * `errorStatus` as the RegExp it is used as; for validating options at start-up.
 * @throws Error naming the pattern when it is not a regular expression
 */
export function errorStatusPattern(errorStatus: string | RegExp = DEFAULT_ERROR_STATUS): RegExp {
  // A global or sticky RegExp's test() remembers where it stopped: alternate statuses would be missed.
  if (errorStatus instanceof RegExp) return new RegExp(errorStatus.source, errorStatus.flags.replace(/[gy]/g, ''));
  try {
    return new RegExp(`^(?:${errorStatus})$`);
  } catch (error) {
    throw new Error(`errorStatus ${JSON.stringify(errorStatus)} is not a regular expression: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

/**
 * PromQL's `histogram_quantile` over classic buckets (`bucketQuantile` in Prometheus's promql/quantile.go),
 * for `q` in [0, 1] and cumulative counts by upper bound: linear interpolation inside the bucket holding
 * the rank; the lowest bucket starts at 0 if its bound is positive, else its bound is the answer; a rank
 * in the +Inf bucket answers the highest finite bound; counts lower than a lower bucket's are raised to it.
 * Undefined where PromQL answers NaN: no +Inf bucket, fewer than two buckets, no observations.
 *
 * @example bucketQuantile(0.99, new Map([[0.1, 98], [0.5, 100], [Infinity, 100]])) → 0.1 + 0.4 × (1 / 2) = 0.3
 */
export function bucketQuantile(q: number, cumulative: ReadonlyMap<number, number>): number | undefined {
  const buckets = [...cumulative].sort(([a], [b]) => a - b);
  if (buckets.length < 2 || buckets[buckets.length - 1]?.[0] !== Infinity) return undefined;
  for (let i = 1; i < buckets.length; i++) buckets[i]![1] = Math.max(buckets[i]![1], buckets[i - 1]![1]);
  const observations = buckets[buckets.length - 1]![1];
  if (!(observations > 0)) return undefined;
  const rank = q * observations;
  const b = buckets.findIndex(([, count]) => count >= rank);
  if (b === buckets.length - 1) return buckets[b - 1]![0];
  const [upper, count] = buckets[b]!;
  if (b === 0) return upper <= 0 ? upper : upper * (rank / count);
  const [lower, below] = buckets[b - 1]!;
  return lower + (upper - lower) * ((rank - below) / (count - below));
}

function indexByName(exposition: Exposition): Index {
  const index = new Map<string, Sample[]>();
  for (const sample of exposition.samples) {
    const list = index.get(sample.name) ?? [];
    if (list.length === 0) index.set(sample.name, list);
    list.push(sample);
  }
  return index;
}

/** Identifies a series by its labels (but `without`); an empty label is no label, as in Prometheus. */
function seriesKey(labels: Readonly<Record<string, string>>, without?: string): string {
  const names = Object.keys(labels).filter((name) => name !== without && labels[name] !== '');
  return JSON.stringify(names.sort().map((name) => [name, labels[name]]));
}

const namesOf = (value: string | readonly string[] | undefined, defaults: readonly string[]): readonly string[] => (value === undefined ? defaults : typeof value === 'string' ? [value] : value);
const firstPresent = (index: Index, names: readonly string[]): string | undefined => names.find((name) => (index.get(name)?.length ?? 0) > 0);
const sum = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0);

/** Each counter series' increase (first of duplicates wins; NaN and negative values skipped). */
function increases(before: readonly Sample[] = [], after: readonly Sample[] = []): Increase[] {
  const previous = new Map<string, number>();
  for (const s of before) if (!previous.has(seriesKey(s.labels))) previous.set(seriesKey(s.labels), s.value);
  const seen = new Set<string>();
  const result: Increase[] = [];
  for (const s of after) {
    const key = seriesKey(s.labels);
    if (seen.has(key) || !Number.isFinite(s.value) || s.value < 0) continue;
    seen.add(key);
    const old = previous.get(key);
    result.push({ labels: s.labels, increase: old !== undefined && s.value >= old ? s.value - old : s.value });
  }
  return result;
}

function requestMetrics(before: Index, after: Index, options: ServiceMetricsOptions, report: InstanceMetricsReport): void {
  const counter = firstPresent(after, namesOf(options.requestCounter, DEFAULT_REQUEST_COUNTERS));
  if (counter === undefined) return;
  const statusLabels = namesOf(options.statusLabel, DEFAULT_STATUS_LABELS);
  const isError = errorStatusPattern(options.errorStatus);
  let total = 0;
  let withStatus = 0;
  let errors = 0;
  for (const { labels, increase } of increases(before.get(counter), after.get(counter))) {
    total += increase;
    const status = statusLabels.map((label) => labels[label]).find((value) => value !== undefined && value !== '');
    if (status === undefined) continue;
    withStatus += increase;
    if (isError.test(status)) errors += increase;
  }
  report.requestCount = total;
  if (withStatus > 0) report.errorRate = errors / withStatus;
}

/** Bucket counts by bound per histogram series (its labels but `le`). */
function bucketsBySeries(samples: readonly Sample[] = []): Map<string, Map<number, number>> {
  const series = new Map<string, Map<number, number>>();
  for (const s of samples) {
    const le = parsePrometheusFloat(s.labels.le ?? '');
    if (le === undefined || Number.isNaN(le) || !Number.isFinite(s.value) || s.value < 0) continue;
    const key = seriesKey(s.labels, 'le');
    const buckets = series.get(key) ?? new Map<number, number>();
    series.set(key, buckets);
    if (!buckets.has(le)) buckets.set(le, s.value);
  }
  return series;
}

function latencyP99Ms(before: Index, after: Index, options: ServiceMetricsOptions): number | undefined {
  const families = namesOf(options.latencyHistogram, DEFAULT_LATENCY_HISTOGRAMS).map((name) => name.replace(/_bucket$/, ''));
  const family = families.find((name) => (after.get(`${name}_bucket`)?.length ?? 0) > 0);
  if (family === undefined) return undefined;
  const previous = bucketsBySeries(before.get(`${family}_bucket`));
  const summed = new Map<number, number>();
  for (const [key, buckets] of bucketsBySeries(after.get(`${family}_bucket`))) {
    const old = previous.get(key);
    const reset = old === undefined || [...buckets].some(([le, count]) => !(count >= (old.get(le) ?? NaN)));
    for (const [le, count] of buckets) summed.set(le, (summed.get(le) ?? 0) + count - (reset ? 0 : (old?.get(le) ?? 0)));
  }
  const p99 = bucketQuantile(0.99, summed);
  if (p99 === undefined) return undefined;
  const unit = options.latencyUnit ?? (/_(?:ms|milliseconds)$/.test(family) ? 'milliseconds' : 'seconds');
  return unit === 'seconds' ? p99 * 1000 : p99;
}

function customValue(spec: CustomMetric, before: Index, after: Index, seconds: number): number | undefined {
  const wanted = Object.entries(spec.labels ?? {});
  const matches = (s: Sample) => wanted.every(([label, value]) => (s.labels[label] ?? '') === value);
  if (spec.kind === 'gauge') {
    const values = (after.get(spec.metric) ?? []).filter(matches).map((s) => s.value).filter(Number.isFinite);
    if (values.length === 0) return undefined;
    if (spec.aggregate === 'max') return values.reduce((a, b) => Math.max(a, b));
    return spec.aggregate === 'avg' ? sum(values) / values.length : sum(values);
  }
  const name = after.has(spec.metric) ? spec.metric : `${spec.metric}_total`;
  const series = increases(before.get(name)?.filter(matches), after.get(name)?.filter(matches));
  return series.length === 0 || !(seconds > 0) ? undefined : sum(series.map((s) => s.increase)) / seconds;
}

/** The process restarted between the scrapes: its `process_start_time_seconds` (prom-client's, Go's, Python's) changed. */
function restarted(before: Index, after: Index): boolean {
  const start = (index: Index) => index.get(PROCESS_START)?.[0]?.value;
  return start(before) !== undefined && start(after) !== undefined && start(before) !== start(after);
}

/**
 * The heartbeat metrics for the interval between two scrapes; null for a first scrape (no `previous`).
 * @throws Error when `options.errorStatus` is not a regular expression (check it with errorStatusPattern first)
 */
export function metricsBetween(previous: Scrape | null | undefined, current: Scrape, options: ServiceMetricsOptions = {}): InstanceMetricsReport | null {
  if (!previous) return null;
  const after = indexByName(current.exposition);
  const earlier = indexByName(previous.exposition);
  const before = restarted(earlier, after) ? new Map<string, Sample[]>() : earlier;
  const report: InstanceMetricsReport = {};
  requestMetrics(before, after, options, report);
  const p99 = latencyP99Ms(before, after, options);
  if (p99 !== undefined) report.latencyP99Ms = p99;
  const seconds = (current.takenAtMs - previous.takenAtMs) / 1000;
  const custom = (options.custom ?? []).map((spec) => [spec.name, customValue(spec, before, after, seconds)] as const);
  const known = custom.filter((entry): entry is readonly [string, number] => entry[1] !== undefined && Number.isFinite(entry[1]));
  // fromEntries: a metric named __proto__ stays a plain entry.
  if (known.length > 0) report.custom = Object.fromEntries(known);
  return report;
}
