import { describe, expect, it } from 'vitest';
import { aggregate, EMPTY_SNAPSHOT, type MetricsSample } from '../../../src/domain/health-snapshot.js';
import type { InstanceMetrics } from '../../../src/domain/instance.js';

const T0 = new Date('2025-01-01T00:00:00Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

function samples(entries: Record<string, Array<[number, InstanceMetrics]>>): Map<string, MetricsSample[]> {
  return new Map(Object.entries(entries).map(([id, list]) => [id, list.map(([s, metrics]) => ({ at: at(s), metrics }))]));
}

describe('aggregate', () => {
  it('weights the error rate by request count', () => {
    const s = aggregate(
      samples({ a: [[10, { errorRate: 0.1, requestCount: 900 }]], b: [[10, { errorRate: 0.01, requestCount: 100 }]] }),
      T0,
    );
    expect(s.errorRate).toBeCloseTo((0.1 * 900 + 0.01 * 100) / 1000, 12);
    expect(s.requestCount).toBe(1000);
    expect(s.instances).toBe(2);
  });

  it('weights within an instance, then across instances', () => {
    const s = aggregate(
      samples({
        a: [
          [10, { errorRate: 0.2, requestCount: 10 }],
          [20, { errorRate: 0, requestCount: 30 }],
        ],
        b: [[10, { errorRate: 0.1, requestCount: 60 }]],
      }),
      T0,
    );
    // (0.2·10 + 0·30 + 0.1·60) / 100
    expect(s.errorRate).toBeCloseTo(0.08, 12);
    expect(s.requestCount).toBe(100);
  });

  it('falls back to a plain mean when a request count is missing or all are 0', () => {
    expect(aggregate(samples({ a: [[1, { errorRate: 0.1, requestCount: 900 }]], b: [[1, { errorRate: 0.3 }]] }), T0).errorRate).toBeCloseTo(0.2, 12);
    expect(
      aggregate(samples({ a: [[1, { errorRate: 0.1, requestCount: 0 }]], b: [[1, { errorRate: 0.3, requestCount: 0 }]] }), T0).errorRate,
    ).toBeCloseTo(0.2, 12);
  });

  it('averages p99 latency over instances (each instance the mean of its samples)', () => {
    const s = aggregate(
      samples({
        a: [
          [1, { latencyP99Ms: 100 }],
          [2, { latencyP99Ms: 300 }],
        ],
        b: [[1, { latencyP99Ms: 400 }]],
      }),
      T0,
    );
    expect(s.latencyP99Ms).toBe(300); // mean(200, 400)
  });

  it('only uses samples at or after since', () => {
    const s = aggregate(
      samples({
        a: [
          [59, { errorRate: 0.9, latencyP99Ms: 9000 }],
          [60, { errorRate: 0.1, latencyP99Ms: 100 }],
        ],
        b: [[30, { errorRate: 0.5 }]],
      }),
      at(60),
    );
    expect(s).toEqual({ errorRate: 0.1, latencyP99Ms: 100, requestCount: null, custom: null, instances: 1 });
  });

  it('averages custom metrics per name over the instances that reported them', () => {
    const s = aggregate(
      samples({
        a: [
          [1, { custom: { queueDepth: 10, gcPauses: 2 } }],
          [2, { custom: { queueDepth: 30 } }],
        ],
        b: [[1, { custom: { queueDepth: 40 } }]],
      }),
      T0,
    );
    expect(s.custom).toEqual({ gcPauses: 2, queueDepth: 30 }); // mean(mean(10, 30), 40)
  });

  it('gives nulls for metrics nobody reported and counts only instances that reported something', () => {
    expect(aggregate(new Map(), T0)).toEqual(EMPTY_SNAPSHOT);
    const s = aggregate(samples({ a: [[1, {}]], b: [[1, { errorRate: null, custom: {} }]], c: [[1, { requestCount: 5 }]] }), T0);
    expect(s).toEqual({ errorRate: null, latencyP99Ms: null, requestCount: 5, custom: null, instances: 1 });
  });

  it('ignores non-finite values', () => {
    const s = aggregate(samples({ a: [[1, { errorRate: Number.NaN, latencyP99Ms: Number.POSITIVE_INFINITY }]] }), T0);
    expect(s.instances).toBe(0);
  });

  it('keeps a custom metric named __proto__ as an own property', () => {
    const s = aggregate(samples({ a: [[1, { custom: JSON.parse('{"__proto__": 3}') as Record<string, number> }]] }), T0);
    expect(Object.hasOwn(s.custom!, '__proto__')).toBe(true);
    expect(s.custom!['__proto__']).toBe(3);
  });
});
