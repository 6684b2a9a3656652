import http from 'node:http';
import { type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MetricQueryError, type QueryScope, type QueryWindow } from '../../src/metrics-source/metric-source.js';
import { PrometheusSource } from '../../src/metrics-source/prometheus-source.js';
import { type Exporter, freePort, type RunningPrometheus, startExporter, startPrometheus } from '../support/prometheus.js';
import { pollUntil } from '../support/wait.js';

const METRIC = 'http_request_duration_p99_ms';
const QUERY = `${METRIC}{service="{{service}}", version="{{version}}", instance_id=~"{{instances}}"}`;
/** Tries to close the label string and widen the query; must select only its own series. */
const EVIL_ID = '"} or vector(1) # it\'s\n\\';
const CANARY: QueryScope = { service: 'checkout', environment: 'prod', version: 8, group: 'canary', instanceIds: ['i-1', 'i.2', EVIL_ID] };
const CONTROL: QueryScope = { ...CANARY, version: 7, group: 'control', instanceIds: ['i-3', 'i-4'] };

/** The last minute at one-second steps: holds every sample since Prometheus started. */
const lastMinute = (): QueryWindow => ({ from: new Date(Date.now() - 60_000), to: new Date(), stepSeconds: 1 });

/** A fetch that counts its calls, to tell retried failures from final ones without timing them. */
function countingFetch(): { calls: () => number; fetch: typeof fetch } {
  let calls = 0;
  return {
    calls: () => calls,
    fetch: (input, init) => {
      calls++;
      return fetch(input, init);
    },
  };
}

/** Distinct values and how often each came back. */
const tally = (samples: number[]) => Object.fromEntries([...new Set(samples)].sort((a, b) => a - b).map((v) => [v, samples.filter((s) => s === v).length]));

describe('PrometheusSource against a real Prometheus', () => {
  let exporter: Exporter;
  let prometheus: RunningPrometheus;
  let source: PrometheusSource;

  beforeAll(async () => {
    exporter = await startExporter();
    const serve = (id: string, version: number, value: number, service = 'checkout') => exporter.set(METRIC, { service, version: String(version), instance_id: id }, value);
    serve('i-1', 8, 240);
    serve('i.2', 8, 250);
    serve(EVIL_ID, 8, 260);
    serve('ix2', 8, 999); // matched by `i.2` if the dot were not escaped
    serve('i-10', 8, 998); // matched by `i-1` if the alternation were not anchored
    serve('i-1', 8, 555, 'other-service');
    serve('i-3', 7, 100);
    serve('i-4', 7, 110);
    exporter.set(METRIC, { service: 'checkout', version: '8' }, 777); // no instance_id: what `instance_id=~""` would select
    prometheus = await startPrometheus({ targets: [exporter.hostPort], scrapeIntervalSeconds: 1 });
    source = new PrometheusSource({ url: prometheus.url, retryDelayMs: 1 });
    // Three scrapes of every canary series, so each test below sees more than one point per series.
    await pollUntil(() => source.samples(QUERY, CANARY, lastMinute()), (s) => s.length >= 9, { timeoutMs: 30_000, intervalMs: 250, what: 'three scrapes of the canary' });
  });
  afterAll(async () => {
    await prometheus?.stop();
    await exporter?.close();
  });

  it('returns the values the exporter served for exactly the group instance ids, one per series per step', async () => {
    const counts = tally(await source.samples(QUERY, CANARY, lastMinute()));
    expect(Object.keys(counts).map(Number)).toEqual([240, 250, 260]);
    for (const n of Object.values(counts)) expect(n).toBeGreaterThanOrEqual(3);
    const singleQuoted = QUERY.replaceAll('"', "'");
    expect(Object.keys(tally(await source.samples(singleQuoted, CANARY, lastMinute()))).map(Number)).toEqual([240, 250, 260]);
  });

  it("selects only the control group's series by their ids, whatever the version label", async () => {
    const query = `${METRIC}{service="{{service}}", instance_id=~"{{instances}}"}`;
    expect(Object.keys(tally(await source.samples(query, CONTROL, lastMinute()))).map(Number)).toEqual([100, 110]);
  });

  it('asks for a group of 10,000 instances: a query of ~400 KB, sent as a form, the URL short enough for any proxy', async () => {
    const urls: string[] = [];
    const watching = new PrometheusSource({ url: prometheus.url, fetch: (input, init) => (urls.push(String(input)), fetch(input, init)) });
    const query = `${METRIC}{service="{{service}}", instance_id=~"{{instances}}"}`;
    const many = [...CONTROL.instanceIds, ...Array.from({ length: 10_000 }, (_, i) => `checkout-pod-${i}-6f9c7d8b5-x2kq9`)];
    expect(Object.keys(tally(await watching.samples(query, { ...CONTROL, instanceIds: many }, lastMinute()))).map(Number)).toEqual([100, 110]);
    expect(urls).toEqual([`${prometheus.url}/api/v1/query_range`]);
  });

  it('answers [] for an empty group, not the series that have no instance id', async () => {
    expect(await source.samples(`${METRIC}{instance_id=""}`, CANARY, lastMinute())).toContain(777);
    expect(await source.samples(`${METRIC}{instance_id=~"{{instances}}"}`, { ...CANARY, instanceIds: [] }, lastMinute())).toEqual([]);
  });

  it('answers [] for a query that matches no series', async () => {
    expect(await source.samples('no_such_metric{instance_id=~"{{instances}}"}', CANARY, lastMinute())).toEqual([]);
  });

  it('widens a window shorter than a step to one step back from its end', async () => {
    const to = new Date();
    const samples = await source.samples(QUERY, { ...CONTROL, instanceIds: ['i-3'] }, { from: new Date(to.getTime() - 300), to, stepSeconds: 1 });
    expect(samples).toEqual([100, 100]); // evaluated at to - 1 s and at to
  });

  it("rejects bad PromQL with Prometheus's own message, without retrying", async () => {
    const counter = countingFetch();
    const strict = new PrometheusSource({ url: prometheus.url, retryDelayMs: 1, fetch: counter.fetch });
    const failure = strict.samples('sum(rate(x{instance_id=~"{{instances}}"}[1m])', CANARY, lastMinute());
    await expect(failure).rejects.toThrow(MetricQueryError);
    await expect(failure).rejects.toThrow(/HTTP 400\) bad_data: .*parse error: unclosed left parenthesis/);
    expect(counter.calls()).toBe(1);
  });

  it('rejects a query of the wrong type (a string) with Prometheus’s message, without retrying', async () => {
    const counter = countingFetch();
    const strict = new PrometheusSource({ url: prometheus.url, retryDelayMs: 1, fetch: counter.fetch });
    await expect(strict.samples('"{{service}}"', CANARY, lastMinute())).rejects.toThrow(/invalid expression type "string" for range query/);
    expect(counter.calls()).toBe(1);
  });

  it('refuses an unknown placeholder before asking Prometheus', async () => {
    const counter = countingFetch();
    const strict = new PrometheusSource({ url: prometheus.url, fetch: counter.fetch });
    await expect(strict.samples('x{a="{{colour}}"}', CANARY, lastMinute())).rejects.toThrow(/\{\{colour\}\}/);
    expect(counter.calls()).toBe(0);
  });
});

/** A loopback HTTP server answering with `handle`; for failures a real Prometheus does not produce on demand. */
async function stubServer(handle: http.RequestListener): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

const json = (res: http.ServerResponse, status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));

describe('PrometheusSource when Prometheus fails', () => {
  it('gives up on an unreachable Prometheus after 1 + retries attempts, naming the count and the cause', async () => {
    const counter = countingFetch();
    const source = new PrometheusSource({ url: `http://127.0.0.1:${await freePort()}`, retries: 2, retryDelayMs: 1, fetch: counter.fetch });
    const failure = source.samples(QUERY, CANARY, lastMinute());
    await expect(failure).rejects.toThrow(MetricQueryError);
    await expect(failure).rejects.toThrow(/after 3 attempts: fetch failed: .*ECONNREFUSED/);
    expect(counter.calls()).toBe(3);
  });

  it('retries a 5xx and returns the answer that follows', async () => {
    let calls = 0;
    const answer = { status: 'success', data: { resultType: 'matrix', result: [{ metric: {}, values: [[1, '5'], [2, 'NaN'], [3, '+Inf'], [4, '7']] }] } };
    const stub = await stubServer((_req, res) => (++calls < 3 ? json(res, 503, { status: 'error', errorType: 'unavailable', error: 'warming up' }) : json(res, 200, answer)));
    try {
      expect(await new PrometheusSource({ url: stub.url, retries: 2, retryDelayMs: 1 }).samples(QUERY, CANARY, lastMinute())).toEqual([5, 7]);
      expect(calls).toBe(3);
    } finally {
      await stub.close();
    }
  });

  it('counts a Prometheus that does not answer in time as failed, per attempt', async () => {
    let calls = 0;
    const stub = await stubServer(() => void calls++); // never answers
    try {
      const source = new PrometheusSource({ url: stub.url, timeoutMs: 200, retries: 1, retryDelayMs: 1 });
      await expect(source.samples(QUERY, CANARY, lastMinute())).rejects.toThrow(/after 2 attempts: timed out after 200 ms/);
      expect(calls).toBe(2);
    } finally {
      await stub.close();
    }
  });

  it('rejects an answer that is not a matrix of series', async () => {
    const stub = await stubServer((_req, res) => json(res, 200, { status: 'success', data: { resultType: 'scalar', result: [1, '1'] } }));
    try {
      await expect(new PrometheusSource({ url: stub.url }).samples(QUERY, CANARY, lastMinute())).rejects.toThrow(/answered a scalar, not a matrix/);
    } finally {
      await stub.close();
    }
  });
});
