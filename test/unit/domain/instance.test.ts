import { describe, expect, it } from 'vitest';
import { InstanceStatus } from '../../../src/domain/enums.js';
import { BadInputError } from '../../../src/domain/errors.js';
import { instanceStatusAt, type InstanceMetrics, validateHost, validateMetrics } from '../../../src/domain/instance.js';

function fieldOf(fn: () => void): unknown {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(BadInputError);
    return (err as BadInputError).details.field;
  }
  throw new Error('expected a BadInputError');
}

describe('validateHost', () => {
  it.each(['a', '10.0.0.7:8080', 'pod-7.checkout.svc.cluster.local', 'h'.repeat(255)])('accepts %s', (host) => {
    expect(() => validateHost(host)).not.toThrow();
  });

  it.each(['', 'h'.repeat(256), 'a b', 'a\tb', 'a\nb', 'a\u0000b'])('refuses %j', (host) => {
    expect(fieldOf(() => validateHost(host))).toBe('host');
  });
});

describe('validateMetrics', () => {
  it('accepts absent and valid metrics', () => {
    expect(() => validateMetrics(null)).not.toThrow();
    expect(() => validateMetrics({})).not.toThrow();
    expect(() =>
      validateMetrics({ errorRate: 0, latencyP99Ms: 0, requestCount: 0, custom: { queue: -3.5 } }),
    ).not.toThrow();
    expect(() => validateMetrics({ errorRate: 1, latencyP99Ms: 1234.5, requestCount: 10, custom: null })).not.toThrow();
  });

  it.each<[InstanceMetrics, string]>([
    [{ errorRate: -0.01 }, 'metrics.errorRate'],
    [{ errorRate: 1.01 }, 'metrics.errorRate'],
    [{ errorRate: Number.NaN }, 'metrics.errorRate'],
    [{ latencyP99Ms: -1 }, 'metrics.latencyP99Ms'],
    [{ latencyP99Ms: Number.POSITIVE_INFINITY }, 'metrics.latencyP99Ms'],
    [{ requestCount: 1.5 }, 'metrics.requestCount'],
    [{ requestCount: -1 }, 'metrics.requestCount'],
    [{ custom: { a: Number.NaN } }, 'metrics.custom'],
    [{ custom: { a: '1' as unknown as number } }, 'metrics.custom'],
    [{ custom: [1] as unknown as Record<string, number> }, 'metrics.custom'],
  ])('refuses %o', (m, field) => {
    expect(fieldOf(() => validateMetrics(m))).toBe(field);
  });

  it('allows 50 custom metrics and refuses 51', () => {
    const custom = (n: number): Record<string, number> => Object.fromEntries(Array.from({ length: n }, (_, i) => [`m${i}`, i]));
    expect(() => validateMetrics({ custom: custom(50) })).not.toThrow();
    expect(() => validateMetrics({ custom: custom(51) })).toThrow(/at most 50 custom metrics/);
  });
});

describe('instanceStatusAt', () => {
  const last = new Date('2024-01-01T00:00:00Z');
  const at = (ms: number): Date => new Date(last.getTime() + ms);

  it('is HEALTHY up to missedBeats intervals and STALE after', () => {
    expect(instanceStatusAt(last, at(0), 10_000)).toBe(InstanceStatus.HEALTHY);
    expect(instanceStatusAt(last, at(30_000), 10_000)).toBe(InstanceStatus.HEALTHY);
    expect(instanceStatusAt(last, at(30_001), 10_000)).toBe(InstanceStatus.STALE);
  });

  it('honours a custom missedBeats', () => {
    expect(instanceStatusAt(last, at(15_000), 10_000, 1)).toBe(InstanceStatus.STALE);
    expect(instanceStatusAt(last, at(45_000), 10_000, 5)).toBe(InstanceStatus.HEALTHY);
  });

  it('treats a heartbeat in the future as fresh and an invalid date as STALE', () => {
    expect(instanceStatusAt(at(60_000), last, 10_000)).toBe(InstanceStatus.HEALTHY);
    expect(instanceStatusAt(new Date(Number.NaN), last, 10_000)).toBe(InstanceStatus.STALE);
  });

  it('refuses a non-positive interval', () => {
    expect(() => instanceStatusAt(last, last, 0)).toThrow(BadInputError);
  });
});
