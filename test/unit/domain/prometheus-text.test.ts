import { Counter, Gauge, Histogram, type OpenMetricsContentType, Registry, Summary } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { parsePrometheusFloat, parsePrometheusText, PrometheusTextError, type Sample } from '../../../src/domain/prometheus-text.js';

const valueOf = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
  samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;

function parseError(text: string): PrometheusTextError {
  try {
    parsePrometheusText(text);
  } catch (error) {
    if (error instanceof PrometheusTextError) return error;
    throw error;
  }
  throw new Error('parsed without error');
}

describe('parsePrometheusText on what clients write', () => {
  it('reads prom-client’s text format: counters, gauges, histograms and summaries with escaped labels', async () => {
    const registry = new Registry();
    const requests = new Counter({ name: 'http_requests_total', help: 'Requests, by "code"\\path', labelNames: ['code', 'path'], registers: [registry] });
    const latency = new Histogram({ name: 'http_request_duration_seconds', help: 'Latency', labelNames: ['code'], registers: [registry] });
    new Gauge({ name: 'queue_depth', help: 'Jobs waiting', registers: [registry] }).set(-2.5);
    new Summary({ name: 'rpc_seconds', help: 'RPC', percentiles: [0.5, 0.99], registers: [registry] }).observe(0.2);
    requests.inc({ code: '500', path: 'C:\\dir\\"x"\nnext' }, 3);
    latency.observe({ code: '200' }, 0.02);

    const { samples, families } = parsePrometheusText(await registry.metrics());

    expect(valueOf(samples, 'http_requests_total', { code: '500' })).toBe(3);
    expect(samples.find((s) => s.name === 'http_requests_total')?.labels).toEqual({ code: '500', path: 'C:\\dir\\"x"\nnext' });
    expect(families.get('http_requests_total')).toEqual({ type: 'counter', help: 'Requests, by "code"\\path' });
    expect(valueOf(samples, 'queue_depth')).toBe(-2.5);
    expect(valueOf(samples, 'http_request_duration_seconds_bucket', { le: '0.01' })).toBe(0);
    expect(valueOf(samples, 'http_request_duration_seconds_bucket', { le: '0.025' })).toBe(1);
    expect(valueOf(samples, 'http_request_duration_seconds_bucket', { le: '+Inf' })).toBe(1);
    expect(valueOf(samples, 'http_request_duration_seconds_count')).toBe(1);
    expect(valueOf(samples, 'rpc_seconds', { quantile: '0.99' })).toBeCloseTo(0.2);
    expect(families.get('rpc_seconds')?.type).toBe('summary');
  });

  it('reads prom-client’s OpenMetrics: `_total` counters of a family without it, exemplars dropped, `# EOF`', async () => {
    const registry = new Registry<OpenMetricsContentType>();
    registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    // <string>: prom-client's types want exemplar labels among the metric's own.
    const counter = new Counter<string>({ name: 'jobs_total', help: 'Jobs', labelNames: ['kind'], enableExemplars: true, registers: [registry] });
    counter.inc({ labels: { kind: 'mail' }, value: 2, exemplarLabels: { traceId: 'abc' } });
    const text = await registry.metrics();
    expect(text).toMatch(/jobs_total\{kind="mail"\} 2 # \{traceId="abc"\}/);

    const { samples, families } = parsePrometheusText(text);

    expect(samples).toEqual([{ name: 'jobs_total', labels: { kind: 'mail' }, value: 2 }]);
    expect(families.get('jobs')?.type).toBe('counter');
  });

  it('reads the format’s documented example, timestamps, odd values and all', () => {
    const text = [
      '# HELP http_requests_total The total number of HTTP requests.',
      '# TYPE http_requests_total counter',
      'http_requests_total{method="post",code="200"} 1027 1395066363000',
      'http_requests_total{method="post",code="400"}    3 1395066363000',
      '',
      '# Escaping in label values:',
      'msdos_file_access_time_seconds{path="C:\\\\DIR\\\\FILE.TXT",error="Cannot find file:\\n\\"FILE.TXT\\""} 1.458255915e9',
      'metric_without_timestamp_and_labels 12.47',
      'something_weird{problem="division by zero"} +Inf -3982045',
    ].join('\n');

    const { samples } = parsePrometheusText(text);

    expect(samples[1]).toEqual({ name: 'http_requests_total', labels: { method: 'post', code: '400' }, value: 3, timestamp: 1395066363000 });
    expect(samples[2]?.labels).toEqual({ path: 'C:\\DIR\\FILE.TXT', error: 'Cannot find file:\n"FILE.TXT"' });
    expect(samples[2]?.value).toBe(1458255915);
    expect(samples[3]).toEqual({ name: 'metric_without_timestamp_and_labels', labels: {}, value: 12.47 });
    expect(samples[4]).toMatchObject({ value: Infinity, timestamp: -3982045 });
  });

  it('reads Go’s summaries and the special values NaN, Nan, -Inf and exponents', () => {
    const text = [
      '# TYPE go_gc_duration_seconds summary',
      'go_gc_duration_seconds{quantile="0"} 2.4558e-05',
      'go_gc_duration_seconds{quantile="1"} NaN',
      'go_gc_duration_seconds_sum 1e+21',
      'a Nan',
      'b -Inf',
    ].join('\n');

    const values = parsePrometheusText(text).samples.map((s) => s.value);

    expect(values).toEqual([2.4558e-5, NaN, 1e21, NaN, -Infinity]);
  });

  it('tolerates CRLF, tabs, blanks around tokens, a trailing comma, empty label sets and unknown comments', () => {
    const text = '# just a comment\r\n  \t\r\n#\r\n# UNIT x_seconds seconds\r\nx_seconds { a = "1" , b="2", } \t 4 \r\ny{} 5\r\nz{a="1"}6\r\n';

    const { samples } = parsePrometheusText(text);

    expect(samples).toEqual([
      { name: 'x_seconds', labels: { a: '1', b: '2' }, value: 4 },
      { name: 'y', labels: {}, value: 5 },
      { name: 'z', labels: { a: '1' }, value: 6 },
    ]);
  });

  it('stops at # EOF and keeps a label called __proto__ as a label', () => {
    const { samples } = parsePrometheusText('a{__proto__="x",constructor="y"} 1\n# EOF\nnot read at all {{{\n');

    expect(samples).toHaveLength(1);
    expect(samples[0]?.labels.__proto__).toBe('x');
    expect(Object.keys(samples[0]?.labels ?? {})).toEqual(['__proto__', 'constructor']);
  });

  it('keeps the first TYPE and HELP of a name and reads unknown escapes in label values as written', () => {
    const { samples, families } = parsePrometheusText('# TYPE a gauge\n# TYPE a counter\n# HELP a first\\nline\n# HELP a second\na{p="x\\ty"} 1\n');

    expect(families.get('a')).toEqual({ type: 'gauge', help: 'first\nline' });
    expect(samples[0]?.labels.p).toBe('x\\ty');
  });
});

describe('parsePrometheusText on what is not the format', () => {
  it.each([
    ['an HTML error page', 'ok 1\n<html><body>Bad gateway</body></html>', 2, /expected a metric name/],
    ['a value that is not a number', 'a 1\nb 0x10', 2, /value "0x10" of b is not a number/],
    ['no value', 'a{code="200"}', 1, /no value after a/],
    ['a label set left open', 'a{code="200" 1', 1, /expected "," or "}"/],
    ['a label value left open', 'a{code="200} 1', 1, /unterminated quoted value/],
    ['an unquoted label value', 'a{code=200} 1', 1, /expected a quoted value for label code/],
    ['a label given twice', 'a{x="1",x="2"} 1', 1, /label x given twice/],
    ['text after the timestamp', 'a 1 2 3', 1, /unexpected "3"/],
    ['a timestamp that is not a number', 'a 1 yesterday', 1, /timestamp "yesterday"/],
    ['a character inside a metric name', 'http-requests 1', 1, /unexpected "-" in the metric name http/],
    ['a TYPE naming no type we know', '# TYPE a countr\na 1', 1, /unknown type "countr"/],
    ['a TYPE without a name', '\n\n# TYPE', 3, /# TYPE without a metric name/],
    ['JSON', '{"status":"success"}', 1, /expected a metric name at column 1/],
  ])('refuses %s, naming the line', (_, text, line, reason) => {
    const error = parseError(text);

    expect(error.lineNumber).toBe(line);
    expect(error.message).toMatch(new RegExp(`^line ${line}: `));
    expect(error.message).toMatch(reason);
  });

  it('refuses a body over its size limit before reading a line', () => {
    expect(() => parsePrometheusText('a 1\n'.repeat(100), { maxChars: 399 })).toThrow('body of 400 characters is over the limit of 399');
    expect(parsePrometheusText('a 1\n'.repeat(100), { maxChars: 400 }).samples).toHaveLength(100);
  });

  it('refuses a line over its length limit, naming it', () => {
    const text = `a 1\nb{x="${'y'.repeat(100)}"} 1\n`;

    expect(() => parsePrometheusText(text, { maxLineChars: 50 })).toThrow(/^line 2: line of 109 characters is over the limit of 50$/);
  });
});

describe('parsePrometheusFloat', () => {
  it('reads what Go’s ParseFloat reads in decimal, and the special values in any case', () => {
    expect(['1', '-2.5', '.5', '5.', '1e3', '1E-3', '+7', 'NaN', 'nan', '+Inf', '-inf', 'Infinity'].map(parsePrometheusFloat)).toEqual([1, -2.5, 0.5, 5, 1000, 0.001, 7, NaN, NaN, Infinity, -Infinity, Infinity]);
  });

  it('refuses what Number() would wrongly accept', () => {
    expect(['', ' ', '0x10', '0b1', '1_000', 'Inf1', '1e', 'e1', '--1'].map(parsePrometheusFloat)).toEqual(Array(9).fill(undefined));
  });
});
