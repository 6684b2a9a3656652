import { describe, expect, it } from 'vitest';
import type { MetricsSample } from '../../../src/domain/health-snapshot.js';
import type { InstanceMetrics } from '../../../src/domain/instance.js';
import { RECOVERY_HEARTBEATS, RECOVERY_METRICS, recoveryOf } from '../../../src/domain/recovery.js';

const T0 = Date.parse('2025-03-01T12:00:00Z');
const at = (s: number): Date => new Date(T0 + s * 1000);
/** The verdict that marked the instance DEGRADED came at T0 + 100 s. */
const DEGRADED_AT = at(100);

const GOOD: InstanceMetrics = { errorRate: 0.01, latencyP99Ms: 100 };
const BAD: InstanceMetrics = { errorRate: 0.3, latencyP99Ms: 480 };

/** Samples newest first, one every 10 s, the newest at `newest` s: as the registry's history gives them. */
function samples(newest: number, ...metrics: InstanceMetrics[]): MetricsSample[] {
  return metrics.map((m, i) => ({ at: at(newest - i * 10), metrics: m }));
}

/** `count` HEALTHY peers, each with 3 samples after the verdict. */
const peers = (count: number, m: InstanceMetrics = GOOD): MetricsSample[][] => Array.from({ length: count }, () => samples(150, m, m, m));

/** The instance's history: bad before the verdict, then `after` (newest first) after it. */
const history = (...after: InstanceMetrics[]): MetricsSample[] => [...samples(100 + after.length * 10, ...after), ...samples(90, BAD, BAD, BAD, BAD)];

describe('recovery of a DEGRADED instance', () => {
  it('looks at error rate and p99 latency with the default tolerances, over 3 heartbeats', () => {
    expect(RECOVERY_HEARTBEATS).toBe(3);
    expect(RECOVERY_METRICS.map((m) => [m.name, m.tolerance, m.tolerancePct])).toEqual([
      ['errorRate', 0.005, 10],
      ['latencyP99Ms', null, 10],
    ]);
  });

  it('recovers once its 3 heartbeats since the verdict are within tolerance of its HEALTHY peers', () => {
    const r = recoveryOf({ degradedAt: DEGRADED_AT, own: history(GOOD, { errorRate: 0.012, latencyP99Ms: 104 }, GOOD), peers: peers(3) });
    expect(r).toEqual({
      recovered: true,
      reason:
        'error rate 1 % vs peers 1 % (0 points, 0.5 allowed), p99 latency 100 ms vs peers 100 ms (0 ms, 10 allowed): recovered',
    });
  });

  it('stays DEGRADED while either metric is beyond the tolerance: the median of its 3 heartbeats decides', () => {
    const errors = recoveryOf({ degradedAt: DEGRADED_AT, own: history(GOOD, { ...GOOD, errorRate: 0.016 }, { ...GOOD, errorRate: 0.02 }), peers: peers(3) });
    expect(errors.recovered).toBe(false);
    expect(errors.reason).toContain('error rate 1.6 % vs peers 1 % (+0.6 points, 0.5 allowed)');
    expect(errors.reason).toMatch(/still DEGRADED$/);
    const latency = recoveryOf({ degradedAt: DEGRADED_AT, own: history({ ...GOOD, latencyP99Ms: 111 }, GOOD, { ...GOOD, latencyP99Ms: 130 }), peers: peers(3) });
    expect(latency).toMatchObject({ recovered: false });
    expect(latency.reason).toContain('p99 latency 111 ms vs peers 100 ms (+11 ms, 10 allowed)');
    // At the tolerance exactly, it passes; better than the peers always does.
    expect(recoveryOf({ degradedAt: DEGRADED_AT, own: history(...Array(3).fill({ errorRate: 0.015, latencyP99Ms: 110 })), peers: peers(2) }).recovered).toBe(true);
    expect(recoveryOf({ degradedAt: DEGRADED_AT, own: history(...Array(3).fill({ errorRate: 0, latencyP99Ms: 5 })), peers: peers(2) }).recovered).toBe(true);
  });

  it('never recovers on samples from before the verdict, however good', () => {
    const own = [...samples(90, GOOD, GOOD, GOOD, GOOD), ...samples(50, BAD)];
    expect(recoveryOf({ degradedAt: DEGRADED_AT, own, peers: peers(3) })).toEqual({
      recovered: false,
      reason: '0 of 3 heartbeats with error rate or p99 latency since the verdict',
    });
    // One at the very millisecond of the verdict is not after it.
    expect(recoveryOf({ degradedAt: DEGRADED_AT, own: samples(120, GOOD, GOOD, GOOD), peers: peers(3) }).recovered).toBe(false);
  });

  it('needs 3 heartbeats carrying error rate or p99 latency: fewer, or ones with only custom metrics, are not enough', () => {
    expect(recoveryOf({ degradedAt: DEGRADED_AT, own: history(GOOD, GOOD), peers: peers(3) }).reason).toBe(
      '2 of 3 heartbeats with error rate or p99 latency since the verdict',
    );
    const custom = { custom: { queueDepth: 1 } };
    expect(recoveryOf({ degradedAt: DEGRADED_AT, own: history(custom, GOOD, GOOD), peers: peers(3) }).recovered).toBe(false);
    expect(recoveryOf({ degradedAt: DEGRADED_AT, own: history(custom, GOOD, GOOD, GOOD), peers: peers(3) }).recovered).toBe(false);
    expect(recoveryOf({ degradedAt: DEGRADED_AT, own: history(GOOD, GOOD, GOOD, custom), peers: peers(3) }).recovered).toBe(true);
  });

  it('judges the metrics the instance reports: one it sends only error rate for recovers on error rate', () => {
    const errorsOnly = { errorRate: 0.011 };
    const r = recoveryOf({ degradedAt: DEGRADED_AT, own: history(errorsOnly, errorsOnly, errorsOnly), peers: peers(3) });
    expect(r.recovered).toBe(true);
    expect(r.reason).not.toContain('latency');
    // A metric in some of the 3 only is judged on those: one bad latency of two keeps it DEGRADED.
    const mixed = history({ errorRate: 0.01 }, { errorRate: 0.01, latencyP99Ms: 400 }, { errorRate: 0.01, latencyP99Ms: 400 });
    expect(recoveryOf({ degradedAt: DEGRADED_AT, own: mixed, peers: peers(3) }).recovered).toBe(false);
  });

  it('compares with the peers over the same window: their newest 3 samples since the verdict', () => {
    // The peers were bad before the verdict too (a whole fleet in trouble); only their samples since count.
    const peer = [...samples(150, GOOD, GOOD, GOOD), ...samples(90, BAD, BAD, BAD)];
    expect(recoveryOf({ degradedAt: DEGRADED_AT, own: history(GOOD, GOOD, GOOD), peers: [peer] }).recovered).toBe(true);
    // Peers with fewer than 3 values since the verdict are no reference: the instance is compared with itself.
    const late = samples(150, GOOD, GOOD);
    expect(recoveryOf({ degradedAt: DEGRADED_AT, own: history(GOOD, GOOD, GOOD), peers: [late] }).reason).toContain('before the verdict, no HEALTHY peers');
  });

  it('with no HEALTHY peers, recovers once it is better than before the verdict by more than the tolerance', () => {
    const alone = recoveryOf({ degradedAt: DEGRADED_AT, own: history(GOOD, GOOD, GOOD), peers: [] });
    expect(alone).toEqual({
      recovered: true,
      reason:
        'error rate 1 % vs 30 % before the verdict, no HEALTHY peers (-29 points, better by more than 0.5 needed), ' +
        'p99 latency 100 ms vs 480 ms before the verdict, no HEALTHY peers (-380 ms, better by more than 48 needed): recovered',
    });
    // Barely better is not recovered: 29.6 % against 30 % is 0.4 points.
    const slight = { errorRate: 0.296, latencyP99Ms: 100 };
    expect(recoveryOf({ degradedAt: DEGRADED_AT, own: history(slight, slight, slight), peers: [] }).recovered).toBe(false);
  });

  it('with no HEALTHY peers and no samples from before the verdict, stays DEGRADED: nothing to compare with', () => {
    const r = recoveryOf({ degradedAt: DEGRADED_AT, own: samples(130, GOOD, GOOD, GOOD), peers: [] });
    expect(r.recovered).toBe(false);
    expect(r.reason).toContain('error rate 1 %: no HEALTHY peers and no samples from before the verdict to compare with');
  });

  it('ignores non-finite values as not reported', () => {
    const nan = { errorRate: Number.NaN, latencyP99Ms: Number.POSITIVE_INFINITY };
    expect(recoveryOf({ degradedAt: DEGRADED_AT, own: history(nan, GOOD, GOOD), peers: peers(3) }).recovered).toBe(false);
    expect(recoveryOf({ degradedAt: DEGRADED_AT, own: history(GOOD, GOOD, GOOD), peers: [samples(150, nan, nan, nan), ...peers(1)] }).recovered).toBe(true);
  });
});
