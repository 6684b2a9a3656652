/**
 * The health gate's queried metrics from Prometheus: a policy's PromQL, with
 * placeholders naming the group it judges, asked as a range query over the
 * judged window (HTTP API `POST /api/v1/query_range`).
 */
import { MetricQueryError, type MetricSource, type QueryScope, type QueryWindow } from './metric-source.js';

/** `{{name}}`, spaces inside the braces allowed. PromQL itself never writes `{{`. */
const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;
/** The placeholders a query may use. */
export const PLACEHOLDERS: readonly string[] = ['service', 'environment', 'version', 'group', 'instances'];
const KNOWN = new Set(PLACEHOLDERS);
/** Go's regexp.QuoteMeta set: what RE2 would read as syntax. */
const REGEX_META = /[\\.+*?()|[\]{}^$]/g;
/**
 * What `{{instances}}` becomes for an empty group: a regex nothing matches. An
 * empty alternation would match the empty string, so `instance=~""` would
 * select every series that has no instance label at all.
 */
const MATCH_NOTHING = '\\b\\B';

/** Placeholders in `query` that expandQuery does not know, each named once; for refusing a policy before it is used. */
export function unknownPlaceholders(query: string): string[] {
  const names = [...query.matchAll(PLACEHOLDER)].map((m) => m[1] ?? '');
  return [...new Set(names.filter((name) => !KNOWN.has(name)))];
}

/**
 * Text that stays one literal inside a PromQL '…' or "…" string. Quotes and
 * control characters become `\uHHHH` (valid in both quote styles, where `\"`
 * is not valid inside '…'), so a crafted value cannot close the string and add
 * matchers or operators; a raw newline would be a parse error.
 */
function quoteLiteral(text: string): string {
  return text.replace(/[\\"'\p{Cc}]/gu, (c) => (c === '\\' ? '\\\\' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
}

/**
 * `query` with its placeholders filled in for `scope`, each value escaped to be
 * written inside a double- (or single-) quoted label matcher: `{{service}}`,
 * `{{environment}}`, `{{version}}`, `{{group}}` (canary|control) as exact
 * text for `=`, `{{instances}}` as an alternation of the escaped ids for `=~`
 * (Prometheus anchors it, so `i-1` does not match `i-10`).
 *
 * @example expandQuery('p99{service="{{service}}", instance_id=~"{{instances}}"}',
 *   { service: 'api', environment: 'prod', version: 7, group: 'canary', instanceIds: ['i.1', 'i-2'] })
 *   → the text p99{service="api", instance_id=~"i\\.1|i-2"} (Prometheus unquotes it to the regex i\.1|i-2)
 * @throws MetricQueryError naming every unknown placeholder
 */
export function expandQuery(query: string, scope: QueryScope): string {
  const unknown = unknownPlaceholders(query);
  if (unknown.length > 0) throw new MetricQueryError(`unknown placeholder${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => `{{${n}}}`).join(', ')} in the query; known: ${[...KNOWN].map((n) => `{{${n}}}`).join(', ')}`);
  const instances = scope.instanceIds.length === 0 ? MATCH_NOTHING : scope.instanceIds.map((id) => id.replace(REGEX_META, '\\$&')).join('|');
  const values: Record<string, string> = { service: scope.service, environment: scope.environment, version: String(scope.version), group: scope.group, instances };
  return query.replace(PLACEHOLDER, (_, name: string) => quoteLiteral(values[name] ?? ''));
}

export interface PrometheusSourceOptions {
  /** Prometheus's base URL, e.g. `http://prometheus:9090` (a path prefix is kept). */
  url: string;
  /** Per attempt, reading the body included. @default 5000 */
  timeoutMs?: number;
  /** Further attempts after a network error, a timeout or a 5xx. @default 2 */
  retries?: number;
  /** Wait before the first retry, doubled before each next one. @default 250 */
  retryDelayMs?: number;
  /** @default the global fetch */
  fetch?: typeof fetch;
}

/** Prometheus's answer envelope, as far as it is read here. */
interface ApiBody {
  status?: string;
  errorType?: string;
  error?: string;
  data?: { resultType?: string; result?: Array<{ values?: Array<[number, string]> }> };
}

/** One attempt: an answer to read, or a failure worth trying again. Final failures are thrown. */
type Attempt = { body: ApiBody } | { transient: string; cause?: unknown };

/**
 * A MetricSource over Prometheus's range query.
 *
 * @example
 * const source = new PrometheusSource({ url: 'http://prometheus:9090' });
 * await source.samples('http_p99_ms{service="{{service}}", instance_id=~"{{instances}}"}', scope,
 *   { from: new Date(Date.now() - 300_000), to: new Date(), stepSeconds: 15 }); // → [212, 230, …]
 */
export class PrometheusSource implements MetricSource {
  private readonly url: string;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly retryDelayMs: number;
  private readonly fetch: typeof fetch;

  constructor(options: PrometheusSourceOptions) {
    this.url = options.url.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.retries = options.retries ?? 2;
    this.retryDelayMs = options.retryDelayMs ?? 250;
    this.fetch = options.fetch ?? ((input, init) => fetch(input, init));
  }

  async samples(query: string, scope: QueryScope, window: QueryWindow): Promise<number[]> {
    // Prometheus takes fractional steps, but a sub-second one only multiplies points past its 11,000 cap.
    const step = Number.isFinite(window.stepSeconds) ? Math.max(1, window.stepSeconds) : 1;
    const end = window.to.getTime() / 1000;
    // A window shorter than a step holds one evaluation point at most (and from > to is a 400): ask for the last whole step.
    const start = Math.min(window.from.getTime() / 1000, end - step);
    const params = new URLSearchParams({ query: expandQuery(query, scope), start: String(start), end: String(end), step: String(step) });
    const body = await this.post(`${this.url}/api/v1/query_range`, params);
    const { resultType, result } = body.data ?? {};
    // Only a matrix is samples over time; a range query of a scalar is a matrix too (one series, no labels).
    if (resultType !== 'matrix' || !Array.isArray(result)) throw new MetricQueryError(`Prometheus answered a ${String(resultType)}, not a matrix of series`);
    return result.flatMap((series) => (series.values ?? []).map(([, v]) => (typeof v === 'string' ? Number(v) : NaN)).filter(Number.isFinite));
  }

  /** POST, form-encoded (Prometheus takes both): 10,000 instance ids make a query too long for a URL many proxies pass. */
  private async post(url: string, params: URLSearchParams): Promise<ApiBody> {
    const attempts = this.retries + 1;
    let last: { transient: string; cause?: unknown } = { transient: 'not tried' };
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (attempt > 1) await new Promise((r) => setTimeout(r, this.retryDelayMs * 2 ** (attempt - 2)));
      const outcome = await this.attempt(url, params);
      if ('body' in outcome) return outcome.body;
      last = outcome;
    }
    throw new MetricQueryError(`Prometheus at ${this.url} did not answer after ${attempts} attempt${attempts > 1 ? 's' : ''}: ${last.transient}`, { cause: last.cause });
  }

  private async attempt(url: string, params: URLSearchParams): Promise<Attempt> {
    let status: number;
    let text: string;
    try {
      const response = await this.fetch(url, { method: 'POST', body: params, headers: { accept: 'application/json' }, signal: AbortSignal.timeout(this.timeoutMs) });
      status = response.status;
      text = await response.text();
    } catch (error) {
      if (error instanceof Error && error.name === 'TimeoutError') return { transient: `timed out after ${this.timeoutMs} ms`, cause: error };
      // undici says only "fetch failed"; the reason (ECONNREFUSED, ENOTFOUND…) is its cause.
      const reason = error instanceof Error && error.cause instanceof Error ? `${error.message}: ${error.cause.message}` : String(error);
      return { transient: reason, cause: error };
    }
    let body: ApiBody | undefined;
    try {
      body = JSON.parse(text) as ApiBody;
    } catch {
      body = undefined; // a proxy's HTML error page, say: reported by status below
    }
    const said = body?.error ? `${body.errorType ?? 'error'}: ${body.error}` : text.slice(0, 200);
    // 5xx (Prometheus's timeout and unavailable among them) and 429 may pass; a 4xx is the query's fault and would fail again.
    if (status >= 500 || status === 429) return { transient: `HTTP ${status} ${said}` };
    if (status >= 300) throw new MetricQueryError(`Prometheus refused the query (HTTP ${status}) ${said}`);
    if (body?.status !== 'success') throw new MetricQueryError(`Prometheus answered HTTP ${status} without success: ${said}`);
    return { body };
  }
}
