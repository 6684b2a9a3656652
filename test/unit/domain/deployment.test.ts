import { describe, expect, it } from 'vitest';
import { summarizeTargets, TargetState } from '../../../src/domain/deployment.js';

describe('summarizeTargets', () => {
  it('gives zeros and progress 0 for no targets', () => {
    expect(summarizeTargets([])).toMatchObject({ total: 0, applied: 0, failed: 0, timedOut: 0, pending: 0, progress: 0 });
  });

  it('counts each state and computes progress = applied / total', () => {
    const states = [
      TargetState.APPLIED, TargetState.APPLIED, TargetState.APPLIED,
      TargetState.FAILED, TargetState.TIMED_OUT, TargetState.PENDING,
      TargetState.PUSHED, TargetState.ROLLED_BACK,
    ];
    expect(summarizeTargets(states.map((state) => ({ state })))).toEqual({
      total: 8, applied: 3, failed: 1, timedOut: 1, pending: 2, left: 0, progress: 3 / 8, rolledBack: 1,
    });
  });

  it('counts LEFT targets apart, and leaves them out of progress', () => {
    const r = summarizeTargets([{ state: TargetState.APPLIED }, { state: TargetState.APPLIED }, { state: TargetState.LEFT }]);
    expect(r).toMatchObject({ total: 3, applied: 2, left: 1, failed: 0, timedOut: 0, pending: 0, progress: 1 });
    expect(summarizeTargets([{ state: TargetState.LEFT }]).progress).toBe(0);
  });

  it('reaches progress 1 when every target applied', () => {
    expect(summarizeTargets([{ state: TargetState.APPLIED }, { state: TargetState.APPLIED }]).progress).toBe(1);
  });

  it('has string values for target states', () => {
    expect(TargetState.TIMED_OUT).toBe('TIMED_OUT');
  });
});
