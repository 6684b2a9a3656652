import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Histogram, Registry, type RegistryContentType } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { PrometheusScraper } from '../../../src/agent/metrics-scraper.js';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve).closeAllConnections())));
});

async function listen(handler: RequestListener): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
}

/** A service exposing prom-client metrics the test drives, and a switch to make its endpoint misbehave. */
async function fakeService(contentType: RegistryContentType = Registry.PROMETHEUS_CONTENT_TYPE) {
  const registry = new Registry<RegistryContentType>();
  registry.setContentType(contentType);
  const requests = new Counter({ name: 'http_requests_total', help: 'Requests', labelNames: ['code'], registers: [registry] });
  const latency = new Histogram({ name: 'http_request_duration_seconds', help: 'Latency', labelNames: ['code'], registers: [registry] });
  const state = { scrapes: 0, answer: null as null | ((res: Parameters<RequestListener>[1]) => void) };
  const url = await listen((req, res) => {
    state.scrapes++;
    if (state.answer) return state.answer(res);
    void registry.metrics().then((body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body));
  });
  /** `count` requests answered with `code`, each taking `seconds`. */
  const serve = (count: number, code: string, seconds: number) => {
    for (let i = 0; i < count; i++) {
      requests.inc({ code });
      latency.observe({ code }, seconds);
    }
  };
  return { registry, url, state, serve };
}

describe('PrometheusScraper on a service’s prom-client endpoint', () => {
  it('reports the error rate, request count and p99 of the requests between two scrapes', async () => {
    const service = await fakeService();
    service.serve(500, '200', 3); // before the first scrape: not in any report
    const scraper = new PrometheusScraper({ url: service.url });

    expect(await scraper.sample()).toBeNull();
    service.serve(90, '200', 0.02);
    service.serve(10, '503', 0.3);
    const report = await scraper.sample();

    // rank 99 of 100: the 9th of the 10 in (0.25, 0.5] → 0.25 + 0.25 × 9/10 s
    expect(report).toEqual({ requestCount: 100, errorRate: 0.1, latencyP99Ms: expect.closeTo(475, 9) as number });
    expect(scraper.lastError).toBeNull();
  });

  it('reports no error rate and no p99 for an interval without requests', async () => {
    const service = await fakeService();
    service.serve(5, '500', 1);
    const scraper = new PrometheusScraper({ url: service.url });

    await scraper.sample();

    expect(await scraper.sample()).toEqual({ requestCount: 0 });
  });

  it('reads the increase after a restart of the service’s counters as their new values', async () => {
    const service = await fakeService();
    service.serve(1000, '200', 0.01);
    const scraper = new PrometheusScraper({ url: service.url });
    await scraper.sample();

    service.registry.resetMetrics();
    service.serve(6, '200', 0.01);
    service.serve(2, '500', 0.01);

    expect(await scraper.sample()).toMatchObject({ requestCount: 8, errorRate: 0.25 });
  });

  it('reads OpenMetrics too, with custom counters per second over the scrapes’ interval', async () => {
    const service = await fakeService(Registry.OPENMETRICS_CONTENT_TYPE);
    const jobs = new Counter({ name: 'jobs_failed', help: 'Failed jobs', registers: [service.registry] });
    let now = 1_000_000;
    const scraper = new PrometheusScraper({ url: service.url, now: () => now, options: { custom: [{ name: 'jobFailuresPerSecond', metric: 'jobs_failed', kind: 'counter' }] } });
    await scraper.sample();

    jobs.inc(30);
    service.serve(4, '500', 0.01);
    now += 10_000;

    expect(await scraper.sample()).toMatchObject({ requestCount: 4, errorRate: 1, custom: { jobFailuresPerSecond: 3 } });
  });

  it('shares one scrape between calls made while it runs', async () => {
    const service = await fakeService();
    const scraper = new PrometheusScraper({ url: service.url });

    await Promise.all([scraper.sample(), scraper.sample(), scraper.sample()]);

    expect(service.state.scrapes).toBe(1);
  });
});

describe('PrometheusScraper when the endpoint fails: no data, and why', () => {
  it('answers null for garbage, with the line in lastError, and resets nothing', async () => {
    const service = await fakeService();
    let now = 0;
    const scraper = new PrometheusScraper({ url: service.url, now: () => now, options: { custom: [{ name: 'rps', metric: 'http_requests', kind: 'counter' }] } });
    await scraper.sample();
    service.serve(10, '200', 0.01);

    now += 10_000;
    service.state.answer = (res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>Bad gateway</body></html>\n');
    expect(await scraper.sample()).toBeNull();
    expect(scraper.lastError).toMatch(/^metrics endpoint http:\/\/127\.0\.0\.1:\d+\/metrics answered no Prometheus text format: line 1: expected a metric name/);

    // The next good scrape compares with the last good one, over the 20 s since.
    now += 10_000;
    service.state.answer = null;
    service.serve(10, '500', 0.01);
    expect(await scraper.sample()).toMatchObject({ requestCount: 20, errorRate: 0.5, custom: { rps: 1 } });
    expect(scraper.lastError).toBeNull();
  });

  it('answers null when nothing listens', async () => {
    const url = await listen(() => undefined);
    await new Promise((resolve) => servers.pop()?.close(resolve));
    const scraper = new PrometheusScraper({ url });

    expect(await scraper.sample()).toBeNull();
    expect(scraper.lastError).toMatch(/^metrics endpoint http:\/\/127\.0\.0\.1:\d+\/metrics unreachable: .*ECONNREFUSED/);
  });

  it('answers null when the endpoint does not answer in time, or stalls in its body', async () => {
    const silent = new PrometheusScraper({ url: await listen(() => undefined), timeoutMs: 100 });
    const stalling = new PrometheusScraper({ url: await listen((_, res) => res.writeHead(200).write('up 1\n')), timeoutMs: 100 });

    expect(await silent.sample()).toBeNull();
    expect(silent.lastError).toMatch(/did not answer within 100 ms$/);
    expect(await stalling.sample()).toBeNull();
    expect(stalling.lastError).toMatch(/did not answer within 100 ms$/);
  });

  it('answers null for a status other than 200', async () => {
    const scraper = new PrometheusScraper({ url: await listen((_, res) => res.writeHead(503).end('up 1\n')) });

    expect(await scraper.sample()).toBeNull();
    expect(scraper.lastError).toMatch(/answered HTTP 503$/);
  });

  it('stops reading a body over the limit, declared or streamed', async () => {
    const body = 'up 1\n'.repeat(100);
    const declared = new PrometheusScraper({ url: await listen((_, res) => res.writeHead(200, { 'content-length': body.length }).end(body)), maxBytes: 100 });
    const streamed = new PrometheusScraper({ url: await listen((_, res) => res.writeHead(200).end(body)), maxBytes: 100 });

    expect(await declared.sample()).toBeNull();
    expect(declared.lastError).toMatch(/answered 500 bytes, over the limit of 100$/);
    expect(await streamed.sample()).toBeNull();
    expect(streamed.lastError).toMatch(/answered more than 100 bytes$/);
  });

  it('sends a URL’s credentials as basic auth, and names the endpoint without them or its query', async () => {
    const seen: Array<string | undefined> = [];
    const url = new URL(await listen((req, res) => res.writeHead((seen.push(req.headers.authorization), 401)).end()));
    url.username = 'scraper';
    url.password = 's3cret:é%';
    url.search = '?token=s3cret';
    const scraper = new PrometheusScraper({ url: url.href });

    expect(await scraper.sample()).toBeNull();

    expect(seen).toEqual([`Basic ${Buffer.from('scraper:s3cret:é%').toString('base64')}`]);
    expect(scraper.lastError).toMatch(/^metrics endpoint http:\/\/127\.0\.0\.1:\d+\/metrics answered HTTP 401$/);
  });

  it('refuses a bad error pattern at once', () => {
    expect(() => new PrometheusScraper({ url: 'http://127.0.0.1/metrics', options: { errorStatus: '5..(' } })).toThrow(/errorStatus "5..\(" is not a regular expression/);
  });
});
