/**
 * The agent's view of the service's own health: scrapes its Prometheus endpoint
 * (`--metrics-url`) once per heartbeat and turns the change since the last good
 * scrape into heartbeat metrics (domain/service-metrics.ts).
 *
 * A scrape that fails (unreachable, timed out, not HTTP 200, too large, not the
 * text format) answers null, "no data", never a healthy-looking report, and
 * leaves `lastError` saying why. It resets nothing: the next good scrape is
 * compared with the last good one, over the longer interval.
 */
import type { InstanceMetricsReport } from '../client/types.js';
import { MAX_BODY_CHARS, parsePrometheusText, PrometheusTextError } from '../domain/prometheus-text.js';
import { errorStatusPattern, metricsBetween, type Scrape, type ServiceMetricsOptions } from '../domain/service-metrics.js';
import type { ServiceMetrics } from './agent-types.js';

/** What Prometheus itself sends, with the classic text format first: both are parsed; protobuf is not asked for. */
const ACCEPT = 'text/plain;version=0.0.4;q=1,application/openmetrics-text;version=1.0.0;q=0.5,*/*;q=0.1';

export interface PrometheusScraperOptions {
  /** The service's metrics endpoint, e.g. `http://127.0.0.1:8080/metrics`. */
  url: string;
  /** Per scrape, reading the body included; keep it well under the heartbeat interval. @default 2000 */
  timeoutMs?: number;
  /** Which metrics become the heartbeat's, and how. @default the common conventions (see service-metrics.ts) */
  options?: ServiceMetricsOptions;
  /** Largest body read, in bytes after decompression. @default 10 MiB */
  maxBytes?: number;
  /** @default the global fetch */
  fetch?: typeof fetch;
  /** @default Date.now */
  now?: () => number;
}

/** A URL's user or password as typed: percent-escapes decoded, a stray `%` kept. */
function decoded(part: string): string {
  return part.replace(/(?:%[0-9a-f]{2})+/gi, (escapes) => {
    try {
      return decodeURIComponent(escapes);
    } catch {
      return escapes;
    }
  });
}

/** A scrape that went wrong, in the words `lastError` reports. */
class ScrapeFailure extends Error {}

/**
 * @example
 * const scraper = new PrometheusScraper({ url: 'http://127.0.0.1:8080/metrics' });
 * await scraper.sample(); // → null: the first scrape is only the baseline
 * await scraper.sample(); // → { requestCount: 412, errorRate: 0.0024, latencyP99Ms: 180 } for the 10 s between
 * @throws Error from the constructor when `options.errorStatus` is not a regular expression
 */
export class PrometheusScraper implements ServiceMetrics {
  /** Why the last scrape failed, one line; null before the first and after one that worked. */
  lastError: string | null = null;
  private readonly url: string;
  private readonly headers: Record<string, string> = { accept: ACCEPT };
  private readonly label: string;
  private readonly timeoutMs: number;
  private readonly options: ServiceMetricsOptions;
  private readonly maxBytes: number;
  private readonly fetch: typeof fetch;
  private readonly now: () => number;
  private previous: Scrape | null = null;
  private inFlight: Promise<InstanceMetricsReport | null> | null = null;

  constructor(options: PrometheusScraperOptions) {
    const url = new URL(options.url);
    // fetch refuses a URL with credentials: they go in an Authorization header, as Prometheus's basic_auth sends them.
    if (url.username || url.password) this.headers.authorization = `Basic ${Buffer.from(`${decoded(url.username)}:${decoded(url.password)}`).toString('base64')}`;
    url.username = url.password = '';
    this.url = url.href;
    // Messages name the endpoint without credentials or query (a token may ride in either).
    this.label = `${url.origin}${url.pathname}`;
    this.timeoutMs = options.timeoutMs ?? 2000;
    this.options = options.options ?? {};
    errorStatusPattern(this.options.errorStatus);
    this.maxBytes = options.maxBytes ?? MAX_BODY_CHARS;
    this.fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.now = options.now ?? Date.now;
  }

  /** The metrics since the last good scrape; null on the first scrape and on a failed one. Calls made while one runs share it. */
  sample(): Promise<InstanceMetricsReport | null> {
    this.inFlight ??= this.scrape().finally(() => {
      this.inFlight = null;
    });
    return this.inFlight;
  }

  private async scrape(): Promise<InstanceMetricsReport | null> {
    const takenAtMs = this.now();
    let current: Scrape;
    try {
      current = { exposition: parsePrometheusText(await this.read(), { maxChars: Infinity }), takenAtMs };
    } catch (error) {
      this.lastError = this.describe(error);
      return null;
    }
    const previous = this.previous;
    this.previous = current;
    this.lastError = null;
    return metricsBetween(previous, current, this.options);
  }

  /** The body as text, or a ScrapeFailure; the timeout covers the whole exchange. */
  private async read(): Promise<string> {
    const response = await this.fetch(this.url, { headers: this.headers, signal: AbortSignal.timeout(this.timeoutMs) });
    if (response.status !== 200) {
      await response.body?.cancel().catch(() => undefined);
      throw new ScrapeFailure(`answered HTTP ${response.status}`);
    }
    const declared = Number(response.headers.get('content-length') ?? NaN);
    if (declared > this.maxBytes) {
      await response.body?.cancel().catch(() => undefined);
      throw new ScrapeFailure(`answered ${declared} bytes, over the limit of ${this.maxBytes}`);
    }
    if (!response.body) return '';
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let text = '';
    let bytes = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return text + decoder.decode();
      bytes += value.byteLength;
      if (bytes > this.maxBytes) {
        await reader.cancel().catch(() => undefined);
        throw new ScrapeFailure(`answered more than ${this.maxBytes} bytes`);
      }
      text += decoder.decode(value, { stream: true });
    }
  }

  private describe(error: unknown): string {
    const where = `metrics endpoint ${this.label}`;
    if (error instanceof ScrapeFailure) return `${where} ${error.message}`;
    if (error instanceof PrometheusTextError) return `${where} answered no Prometheus text format: ${error.message}`;
    if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) return `${where} did not answer within ${this.timeoutMs} ms`;
    // undici says only "fetch failed"; the reason (ECONNREFUSED, ENOTFOUND…) is its cause.
    const reason = error instanceof Error && error.cause instanceof Error ? error.cause.message : error instanceof Error ? error.message : String(error);
    return `${where} unreachable: ${reason}`;
  }
}
