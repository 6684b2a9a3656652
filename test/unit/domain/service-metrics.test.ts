import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parsePrometheusText } from '../../../src/domain/prometheus-text.js';
import { bucketQuantile, errorStatusPattern, metricsBetween, type Scrape } from '../../../src/domain/service-metrics.js';

/** A scrape taken at `seconds`, of the given lines. */
const scrape = (seconds: number, ...lines: string[]): Scrape => ({ exposition: parsePrometheusText(lines.join('\n')), takenAtMs: seconds * 1000 });

/** Cumulative bucket lines of `name` for bounds → counts, with extra labels. */
const buckets = (name: string, counts: Record<string, number>, labels = ''): string[] =>
  Object.entries(counts).map(([le, count]) => `${name}_bucket{${labels}${labels ? ',' : ''}le="${le}"} ${count}`);

describe('metricsBetween: the error rate and request count', () => {
  it('answers null for a first scrape: there is no interval yet', () => {
    expect(metricsBetween(null, scrape(10, 'http_requests_total{code="500"} 7'))).toBeNull();
  });

  it('divides the 5xx increase by the increase of all requests, summed over series', () => {
    const first = scrape(0, 'http_requests_total{code="200",path="/a"} 50', 'http_requests_total{code="200",path="/b"} 40', 'http_requests_total{code="503",path="/a"} 10');
    const second = scrape(10, 'http_requests_total{code="200",path="/a"} 100', 'http_requests_total{code="200",path="/b"} 80', 'http_requests_total{code="503",path="/a"} 20');

    expect(metricsBetween(first, second)).toEqual({ requestCount: 100, errorRate: 0.1 });
  });

  it.each([
    ['Spring Boot (Micrometer)', 'http_server_requests_seconds_count', 'status', '{method="GET",outcome="SERVER_ERROR",uri="/x",'],
    ['OpenTelemetry', 'http_server_request_duration_seconds_count', 'http_response_status_code', '{http_request_method="GET",'],
    ['express-prom-bundle', 'http_request_duration_seconds_count', 'status_code', '{method="GET",'],
    ['OpenTelemetry’s earlier conventions', 'http_server_duration_milliseconds_count', 'http_status_code', '{'],
  ])('reads %s’s request counter by default', (_, name, label, open) => {
    const first = scrape(0, `${name}${open}${label}="200"} 10`, `${name}${open}${label}="500"} 0`);
    const second = scrape(10, `${name}${open}${label}="200"} 13`, `${name}${open}${label}="500"} 1`);

    expect(metricsBetween(first, second)).toEqual({ requestCount: 4, errorRate: 0.25 });
  });

  it('uses the first default family present and only it', () => {
    const first = scrape(0, 'http_requests_total{code="200"} 0', 'http_server_requests_seconds_count{status="500"} 0');
    const second = scrape(10, 'http_requests_total{code="200"} 5', 'http_server_requests_seconds_count{status="500"} 5');

    expect(metricsBetween(first, second)).toEqual({ requestCount: 5, errorRate: 0 });
  });

  it('takes a counter, status labels and error statuses of the service’s own naming', () => {
    const first = scrape(0, 'api_calls_total{result="200"} 0', 'api_calls_total{result="429"} 0', 'api_calls_total{result="404"} 0');
    const second = scrape(10, 'api_calls_total{result="200"} 6', 'api_calls_total{result="429"} 3', 'api_calls_total{result="404"} 1');

    expect(metricsBetween(first, second, { requestCounter: 'api_calls_total', statusLabel: 'result', errorStatus: '5..|429' })).toEqual({ requestCount: 10, errorRate: 0.3 });
    expect(metricsBetween(first, second, { requestCounter: ['missing_total', 'api_calls_total'], statusLabel: ['result'], errorStatus: /^4/g })).toEqual({ requestCount: 10, errorRate: 0.4 });
  });

  it('treats a lower value as a counter reset, whose new value is the increase, as Prometheus does', () => {
    const first = scrape(0, 'http_requests_total{code="200"} 1000', 'http_requests_total{code="500"} 12');
    const afterRestart = scrape(10, 'http_requests_total{code="200"} 30', 'http_requests_total{code="500"} 10');

    expect(metricsBetween(first, afterRestart)).toEqual({ requestCount: 40, errorRate: 0.25 });
  });

  it('counts every counter whole when process_start_time_seconds changed, even one past its old value', () => {
    const first = scrape(0, 'process_start_time_seconds 1700000000', 'http_requests_total{code="200"} 1000', 'http_requests_total{code="500"} 2');
    const second = ['http_requests_total{code="200"} 30', 'http_requests_total{code="500"} 10'];

    expect(metricsBetween(first, scrape(10, 'process_start_time_seconds 1700000100', ...second))).toEqual({ requestCount: 40, errorRate: 0.25 });
    expect(metricsBetween(first, scrape(10, 'process_start_time_seconds 1700000000', ...second))).toEqual({ requestCount: 38, errorRate: 8 / 38 });
  });

  it('counts a series the earlier scrape lacked whole: prom-client creates it on first use', () => {
    const first = scrape(0, 'http_requests_total{code="200"} 90');
    const second = scrape(10, 'http_requests_total{code="200"} 98', 'http_requests_total{code="500"} 2');

    expect(metricsBetween(first, second)).toEqual({ requestCount: 10, errorRate: 0.2 });
  });

  it('reports no error rate and no latency without requests in the interval: never healthy by default', () => {
    const lines = ['http_requests_total{code="500"} 4', ...buckets('http_request_duration_seconds', { '0.1': 4, '+Inf': 4 })];

    expect(metricsBetween(scrape(0, ...lines), scrape(10, ...lines))).toEqual({ requestCount: 0 });
    expect(metricsBetween(scrape(0, 'up 1'), scrape(10, 'up 1'))).toEqual({});
  });

  it('counts series without a status in requestCount but not in the error rate', () => {
    const first = scrape(0, 'http_requests_total{method="GET"} 0', 'http_requests_total{code="500"} 0', 'http_requests_total{code=""} 0');
    const second = scrape(10, 'http_requests_total{method="GET"} 6', 'http_requests_total{code="500"} 1', 'http_requests_total{code=""} 3');

    expect(metricsBetween(first, second)).toEqual({ requestCount: 10, errorRate: 1 });
    expect(metricsBetween(scrape(0, 'http_requests_total 1'), scrape(10, 'http_requests_total 5'))).toEqual({ requestCount: 4 });
  });

  it('keeps the error rate in [0, 1] and the request count at the increase, whatever the counters do', () => {
    const value = fc.nat({ max: 1000 });
    fc.assert(
      fc.property(fc.tuple(value, value, value, value), ([ok1, err1, ok2, err2]) => {
        const report = metricsBetween(scrape(0, `http_requests_total{code="200"} ${ok1}`, `http_requests_total{code="500"} ${err1}`), scrape(10, `http_requests_total{code="200"} ${ok2}`, `http_requests_total{code="500"} ${err2}`));
        const increase = (a: number, b: number) => (b >= a ? b - a : b);
        expect(report?.requestCount).toBe(increase(ok1, ok2) + increase(err1, err2));
        if (report?.requestCount === 0) expect(report.errorRate).toBeUndefined();
        else expect(report?.errorRate).toBe(increase(err1, err2) / (report?.requestCount ?? NaN));
      }),
    );
  });
});

describe('metricsBetween: p99 latency from a histogram', () => {
  const name = 'http_request_duration_seconds';

  it('interpolates inside the bucket holding the 99th percentile of the interval’s observations, in ms', () => {
    // Before: 10 slow requests. Between: 90 under 25 ms, 10 between 250 and 500 ms → rank 99 is the 9th of 10 in (0.25, 0.5].
    const first = scrape(0, ...buckets(name, { '0.025': 0, '0.25': 0, '0.5': 10, '+Inf': 10 }));
    const second = scrape(10, ...buckets(name, { '0.025': 90, '0.25': 90, '0.5': 110, '+Inf': 110 }));

    expect(metricsBetween(first, second)?.latencyP99Ms).toBeCloseTo(475, 9);
  });

  it('sums the buckets of every series by bound, each series’ reset on its own', () => {
    const first = scrape(0, ...buckets(name, { '0.1': 500, '1': 500, '+Inf': 500 }, 'code="200"'), ...buckets(name, { '0.1': 0, '1': 0, '+Inf': 0 }, 'code="500"'));
    const second = scrape(10, ...buckets(name, { '0.1': 98, '1': 98, '+Inf': 98 }, 'code="200"'), ...buckets(name, { '0.1': 0, '1': 2, '+Inf': 2 }, 'code="500"'));

    // 200s restarted (98 fast), 500s: 2 in (0.1, 1] → rank 99 is the 1st of 2: 0.1 + 0.9 / 2.
    expect(metricsBetween(first, second)?.latencyP99Ms).toBeCloseTo(550, 9);
  });

  it('answers the highest finite bound when the rank falls in the +Inf bucket, and interpolates from 0 in the first', () => {
    const none = buckets(name, { '0.1': 0, '0.2': 0, '+Inf': 0 });

    expect(metricsBetween(scrape(0, ...none), scrape(10, ...buckets(name, { '0.1': 0, '0.2': 90, '+Inf': 100 })))?.latencyP99Ms).toBe(200);
    expect(metricsBetween(scrape(0, ...none), scrape(10, ...buckets(name, { '0.1': 100, '0.2': 100, '+Inf': 100 })))?.latencyP99Ms).toBeCloseTo(99, 9);
  });

  it('keeps milliseconds for a histogram named in them, and takes the unit and the name from options', () => {
    const ms = 'http_server_duration_milliseconds';
    const first = scrape(0, ...buckets(ms, { '100': 0, '+Inf': 0 }));
    const second = scrape(10, ...buckets(ms, { '100': 100, '+Inf': 100 }));

    expect(metricsBetween(first, second)?.latencyP99Ms).toBeCloseTo(99, 9);
    expect(metricsBetween(first, second, { latencyHistogram: `${ms}_bucket`, latencyUnit: 'seconds' })?.latencyP99Ms).toBeCloseTo(99_000, 6);
    expect(metricsBetween(first, second, { latencyHistogram: 'other_seconds' })?.latencyP99Ms).toBeUndefined();
  });
});

describe('bucketQuantile, as PromQL’s histogram_quantile', () => {
  const q = (entries: Array<[number, number]>, quantile = 0.99) => bucketQuantile(quantile, new Map(entries));

  it('answers nothing where PromQL answers NaN', () => {
    expect(q([[0.1, 5], [1, 10]])).toBeUndefined(); // no +Inf bucket
    expect(q([[Infinity, 10]])).toBeUndefined(); // fewer than two buckets
    expect(q([[0.1, 0], [Infinity, 0]])).toBeUndefined(); // no observations
  });

  it('answers the lowest bucket’s bound when it is not positive, and raises counts below a lower bucket’s', () => {
    expect(q([[-1, 10], [0, 10], [Infinity, 10]], 0.5)).toBe(-1);
    expect(q([[0.1, 6], [0.2, 4], [0.4, 10], [Infinity, 10]], 0.5)).toBeCloseTo(0.1 * (5 / 6), 12);
    expect(q([[0.4, 10], [0.1, 0], [Infinity, 10]], 0.5)).toBeCloseTo(0.25, 12); // any order
  });
});

describe('metricsBetween: custom metrics', () => {
  const first = scrape(0, 'queue_depth{queue="a"} 3', 'jobs_failed_total{kind="mail"} 10', 'jobs_failed_total{kind="sms"} 4');
  const second = scrape(20, 'queue_depth{queue="a"} 4', 'queue_depth{queue="b"} 8', 'queue_depth{queue="c"} NaN', 'jobs_failed_total{kind="mail"} 30', 'jobs_failed_total{kind="sms"} 2');

  it('reads gauges at the later scrape, summed over series by default, and counters per second over the interval', () => {
    const report = metricsBetween(first, second, {
      custom: [
        { name: 'queue', metric: 'queue_depth', kind: 'gauge' },
        { name: 'queueAvg', metric: 'queue_depth', kind: 'gauge', aggregate: 'avg' },
        { name: 'queueMax', metric: 'queue_depth', kind: 'gauge', aggregate: 'max' },
        { name: 'queueA', metric: 'queue_depth', kind: 'gauge', labels: { queue: 'a' } },
        { name: 'failuresPerSecond', metric: 'jobs_failed', kind: 'counter' },
        { name: 'mailFailuresPerSecond', metric: 'jobs_failed_total', kind: 'counter', labels: { kind: 'mail' } },
      ],
    });

    // (20 + 2 after the sms counter's reset) / 20 s
    expect(report?.custom).toEqual({ queue: 12, queueAvg: 6, queueMax: 8, queueA: 4, failuresPerSecond: 1.1, mailFailuresPerSecond: 1 });
  });

  it('leaves out what the scrape does not have, and counters over no time', () => {
    const custom = [
      { name: 'missing', metric: 'nothing_here', kind: 'gauge' as const },
      { name: 'missingCounter', metric: 'nothing_here', kind: 'counter' as const },
      { name: 'onlyNaN', metric: 'queue_depth', kind: 'gauge' as const, labels: { queue: 'c' } },
    ];

    expect(metricsBetween(first, second, { custom })).toEqual({});
    expect(metricsBetween(first, { ...second, takenAtMs: 0 }, { custom: [{ name: 'f', metric: 'jobs_failed', kind: 'counter' }] })).toEqual({});
  });

  it('keeps a metric named __proto__ as an ordinary entry', () => {
    const report = metricsBetween(first, second, { custom: [{ name: '__proto__', metric: 'queue_depth', kind: 'gauge' }] });

    expect(Object.keys(report?.custom ?? {})).toEqual(['__proto__']);
    expect(JSON.stringify(report)).toBe('{"custom":{"__proto__":12}}');
  });
});

describe('errorStatusPattern', () => {
  it('anchors a string and refuses one that is no regular expression, naming it', () => {
    expect(errorStatusPattern().test('503')).toBe(true);
    expect(errorStatusPattern().test('1503')).toBe(false);
    expect(() => errorStatusPattern('5..(')).toThrow(/^errorStatus "5..\(" is not a regular expression/);
  });
});
