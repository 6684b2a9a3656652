import { describe, expect, it } from 'vitest';
import { HealthVerdict } from '../../../src/domain/enums.js';
import { healthReportFromJson } from '../../../src/domain/health-report.js';
import { DEFAULT_MIN_HEARTBEATS, describeMissingEvidence, evidenceOf, isEnough } from '../../../src/domain/health-evidence.js';

describe('evidence before a health verdict', () => {
  it('asks two heartbeats since the apply by default', () => {
    expect(DEFAULT_MIN_HEARTBEATS).toBe(2);
  });

  it('needs half of the updated instances (rounded up, at least one) to have sent minHeartbeats', () => {
    expect(evidenceOf([2, 0, 3], 2)).toEqual({ updated: 3, reporting: 2, required: 2, minHeartbeats: 2 });
    expect(isEnough(evidenceOf([2, 0, 3], 2))).toBe(true);
    expect(isEnough(evidenceOf([2, 1, 1], 2))).toBe(false);
    expect(isEnough(evidenceOf([1, 1, 1, 1], 1))).toBe(true);
    expect(evidenceOf([5], 2).required).toBe(1);
    expect(isEnough(evidenceOf([], 2))).toBe(false);
  });

  it('says what is missing in words', () => {
    expect(describeMissingEvidence(evidenceOf([1, 0, 2, 0], 2))).toBe(
      'not enough evidence: 1 of 4 updated instances sent 2 heartbeats with metrics since applying (2 needed)',
    );
    expect(describeMissingEvidence(evidenceOf([], 2))).toBe('not enough evidence: no instance has applied the new version');
  });
});

describe('healthReportFromJson', () => {
  const base = { baseline: { errorRate: null, latencyP99Ms: null, requestCount: null, custom: null, instances: 0 }, reasons: [], checkedAt: '2026-01-01T00:00:00.000Z' };
  const current = { errorRate: 0.01, latencyP99Ms: null, requestCount: null, custom: null, instances: 2 };

  it('gives a report stored before verdicts its verdict: the old "insufficient data, counted healthy" is INCONCLUSIVE', () => {
    const old = healthReportFromJson({ ...base, current, healthy: true, insufficientData: true });
    expect(old).toMatchObject({ verdict: HealthVerdict.INCONCLUSIVE, healthy: false, checkedAt: new Date(base.checkedAt) });
    expect(healthReportFromJson({ ...base, current, healthy: true, insufficientData: false }).verdict).toBe(HealthVerdict.PASS);
    expect(healthReportFromJson({ ...base, current, healthy: false, insufficientData: false, reasons: ['x'] }).verdict).toBe(HealthVerdict.FAIL);
  });
});
